"""Case API actions over existing services: consent, best interests, exploitation profile,
assignment. Each works for a role that may, is refused (403 inside the agency, 404 outside),
answers bad input with 400 and a message that never repeats what was sent (nothing written),
a stale version with 409, and leaves an audit event."""

import datetime

import pytest
import yaml
from django.utils import timezone

from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.cases.models import Case, CaseEvent, Consent
from streha.testing.admin_fixtures import _english  # noqa: F401 - messages read in English
from streha.testing.factories import AgencyFactory, MunicipalityFactory

pytestmark = pytest.mark.django_db


def _url(case, action):
    return f"/api/v1/cases/{case.public_id}/{action}/"


def _audited(case, what, actor):
    """The write left its audit event: who, on which case, what."""
    return AuditEvent.objects.filter(
        object_type="cases.case",
        object_id=str(case.public_id),
        action="update",
        purpose=what,
        actor=actor,
    ).exists()


def _error(response):
    body = response.json()["error"]
    assert body["message"]
    return body


# --- Consent -------------------------------------------------------------------------------


def test_consent_recorded_and_listed(api_client, worker, prosecutor, case):
    api_client.force_authenticate(worker)
    response = api_client.post(
        _url(case, "consents"), {"purpose": "information_sharing", "given": True}, format="json"
    )
    assert response.status_code == 201
    created = response.json()
    assert created["purpose"] == "information_sharing" and created["given"] is True
    assert created["recorded_by"] == "worker"
    assert created["recorded_on"] == timezone.localdate().isoformat()
    api_client.post(_url(case, "consents"), {"purpose": "medical", "given": False}, format="json")
    assert CaseEvent.objects.filter(case=case, kind="consent").count() == 2
    assert _audited(case, "consent", worker)
    # Anyone who sees the case reads the consents, newest first.
    api_client.force_authenticate(prosecutor)
    listed = api_client.get(_url(case, "consents"))
    assert listed.status_code == 200
    assert [c["purpose"] for c in listed.json()] == [
        "medical",
        "information_sharing",
    ]


def test_consent_refusals_and_bad_input(api_client, worker, prosecutor, outsider, case, make_user):
    data = {"purpose": "information_sharing", "given": True}
    api_client.force_authenticate(prosecutor)
    assert api_client.post(_url(case, "consents"), data, format="json").status_code == 403
    api_client.force_authenticate(outsider)
    assert api_client.get(_url(case, "consents")).status_code == 404
    assert api_client.post(_url(case, "consents"), data, format="json").status_code == 404
    api_client.force_authenticate(make_user(Role.ANALYST, agency=case.owner_agency))
    assert api_client.get(_url(case, "consents")).status_code == 404
    api_client.force_authenticate(worker)
    blank = api_client.post(_url(case, "consents"), {"purpose": "  ", "given": True}, format="json")
    assert blank.status_code == 400 and _error(blank)["fields"]["purpose"]
    missing = api_client.post(
        _url(case, "consents"), {"purpose": "information_sharing"}, format="json"
    )
    assert missing.status_code == 400 and "given" in _error(missing)["fields"]
    # A form without the answer is not a refusal: it is incomplete.
    form = api_client.post(_url(case, "consents"), {"purpose": "information_sharing"})
    assert form.status_code == 400 and "given" in _error(form)["fields"]
    assert not Consent.objects.exists()
    assert not CaseEvent.objects.filter(kind="consent").exists()


# --- Best interests --------------------------------------------------------------------------


def test_best_interests_recorded_with_optimistic_locking(api_client, worker, child_case, case):
    api_client.force_authenticate(worker)
    day = timezone.localdate() - datetime.timedelta(days=2)
    response = api_client.post(
        _url(child_case, "best-interests"),
        {"expected_version": child_case.version, "determined_on": day.isoformat()},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["best_interests_determined_on"] == day.isoformat()
    assert response.json()["version"] == child_case.version + 1
    assert _audited(child_case, "best_interests", worker)
    stale = api_client.post(
        _url(child_case, "best-interests"),
        {"expected_version": child_case.version, "determined_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert stale.status_code == 409 and _error(stale)["code"] == "conflict"
    adult = api_client.post(
        _url(case, "best-interests"),
        {"expected_version": case.version, "determined_on": day.isoformat()},
        format="json",
    )
    assert adult.status_code == 400  # best interests concern children only
    child_case.refresh_from_db()
    assert child_case.best_interests_determined_on == day


def test_best_interests_refusals_and_bad_input(
    api_client, worker, prosecutor, outsider, child_case, case
):
    data = {
        "expected_version": child_case.version,
        "determined_on": timezone.localdate().isoformat(),
    }
    api_client.force_authenticate(prosecutor)
    assert (
        api_client.post(_url(child_case, "best-interests"), data, format="json").status_code == 403
    )
    api_client.force_authenticate(outsider)
    assert (
        api_client.post(_url(child_case, "best-interests"), data, format="json").status_code == 404
    )
    api_client.force_authenticate(worker)
    future = timezone.localdate() + datetime.timedelta(days=3)
    response = api_client.post(
        _url(child_case, "best-interests"),
        {"expected_version": child_case.version, "determined_on": future.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert _error(response)["fields"]["determined_on"] == ["The date cannot be in the future."]
    no_date = api_client.post(
        _url(child_case, "best-interests"), {"expected_version": child_case.version}, format="json"
    )
    assert no_date.status_code == 400
    fresh = Case.objects.get(pk=child_case.pk)
    assert fresh.version == child_case.version and fresh.best_interests_determined_on is None


# --- Exploitation profile -------------------------------------------------------------------


def test_profile_update(api_client, worker, case):
    MunicipalityFactory(code="prizren", name_sq="Prizren", name_sr="Prizren", name_en="Prizren")
    api_client.force_authenticate(worker)
    response = api_client.patch(
        _url(case, "profile"),
        {
            "expected_version": case.version,
            "exploitation_types": ["ForcedBegging", "ForcedLabour", "ForcedBegging"],
            "exploitation_places": ["street"],
            "transnational": True,
            "recruitment_countries": ["al", "XK"],
            "transit_countries": ["MK"],
            "exploitation_countries": ["XK"],
            "recruitment_municipalities": ["prizren"],
            "exploitation_municipalities": ["prizren"],
            "recruitment_methods": ["ThroughFriendsOrSocialEvents"],
            "control_methods": ["DebtBondage", "WithholdsDocuments"],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["exploitation_types"] == ["ForcedBegging", "ForcedLabour"]  # repeats dropped
    assert body["recruitment_countries"] == ["AL", "XK"]  # codes in capitals
    assert body["transit_countries"] == ["MK"] and body["exploitation_countries"] == ["XK"]
    assert body["recruitment_municipalities"] == ["prizren"]
    assert body["exploitation_municipalities"] == ["prizren"]
    assert body["transnational"] is True and body["version"] == case.version + 1
    case.refresh_from_db()
    assert case.control_methods == ["DebtBondage", "WithholdsDocuments"]
    assert case.exploitation_places == ["street"]
    assert _audited(case, "update", worker)
    event = AuditEvent.objects.get(purpose="update", object_id=str(case.public_id))
    assert "recruitment_countries" in event.details["fields"]
    # Only what is sent changes; an empty list clears a field.
    again = api_client.patch(
        _url(case, "profile"),
        {"expected_version": case.version, "transit_countries": [], "transnational": None},
        format="json",
    )
    assert again.status_code == 200
    case.refresh_from_db()
    assert case.transit_countries == [] and case.transnational is None
    assert case.recruitment_countries == ["AL", "XK"]
    # Form-encoded input too: what is not sent stays as it was.
    api_client.patch(
        _url(case, "profile"),
        {"expected_version": case.version, "transnational": "true"},
        format="multipart",
    )
    form = api_client.patch(
        _url(case, "profile"),
        {"expected_version": case.version + 1, "transit_countries": ["RS", "ME"]},
        format="multipart",
    )
    assert form.status_code == 200, form.json()
    case.refresh_from_db()
    assert case.transnational is True and case.transit_countries == ["RS", "ME"]
    assert case.exploitation_types == ["ForcedBegging", "ForcedLabour"]


@pytest.mark.parametrize(
    "field, values",
    [
        ("recruitment_countries", ["Secretland"]),
        ("transit_countries", ["ZZ"]),
        ("exploitation_countries", ["XK", "QQ"]),
        ("recruitment_municipalities", ["secret-village"]),
        ("exploitation_municipalities", ["hidden-hamlet"]),
        ("exploitation_types", ["SecretKind"]),
        ("control_methods", ["SecretMeans"]),
        ("recruitment_countries", "XK"),
    ],
)
def test_profile_bad_input_is_400_without_echo(api_client, worker, case, field, values):
    api_client.force_authenticate(worker)
    response = api_client.patch(
        _url(case, "profile"), {"expected_version": case.version, field: values}, format="json"
    )
    assert response.status_code == 400
    error = _error(response)
    assert field in error["fields"]
    text = response.content.decode()
    for value in values if isinstance(values, list) else [values]:
        if value != "XK":
            assert value not in text, "an error must not repeat what was sent"
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.version == case.version and getattr(fresh, field) == []
    assert not CaseEvent.objects.filter(case=case, kind="update").exists()


def test_profile_messages_are_clear(api_client, worker, case):
    api_client.force_authenticate(worker)
    response = api_client.patch(
        _url(case, "profile"),
        {
            "expected_version": case.version,
            "recruitment_countries": ["XK", "Atlantis"],
            "recruitment_municipalities": ["atlantis-city"],
        },
        format="json",
    )
    fields = _error(response)["fields"]
    assert fields["recruitment_countries"] == {
        "1": ["Use two-letter ISO 3166 country codes, such as XK or DE."]
    }
    assert fields["recruitment_municipalities"] == {"0": ["Unknown municipality code."]}
    empty = api_client.patch(_url(case, "profile"), {"expected_version": 1}, format="json")
    assert empty.status_code == 400
    assert _error(empty)["fields"]["non_field_errors"] == ["Give at least one field to change."]


def test_profile_stale_version_and_refusals(api_client, worker, prosecutor, outsider, case):
    data = {"expected_version": case.version, "exploitation_types": ["ForcedLabour"]}
    api_client.force_authenticate(prosecutor)
    assert api_client.patch(_url(case, "profile"), data, format="json").status_code == 403
    api_client.force_authenticate(outsider)
    assert api_client.patch(_url(case, "profile"), data, format="json").status_code == 404
    api_client.force_authenticate(worker)
    assert api_client.patch(_url(case, "profile"), data, format="json").status_code == 200
    stale = api_client.patch(
        _url(case, "profile"),
        {"expected_version": case.version, "exploitation_types": ["SexualExploitation"]},
        format="json",
    )
    assert stale.status_code == 409 and _error(stale)["code"] == "conflict"
    case.refresh_from_db()
    assert case.exploitation_types == ["ForcedLabour"]


# --- Assignment ------------------------------------------------------------------------------


def test_supervisor_assigns_a_colleague_by_username_or_id(
    api_client, supervisor, worker, make_user, case, ngo
):
    colleague = make_user(Role.CASE_WORKER, agency=ngo, username="colleague")
    api_client.force_authenticate(supervisor)
    response = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version, "username": "colleague"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["assigned_to"] == colleague.pk
    assert _audited(case, "assigned", supervisor)
    again = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version + 1, "user_id": worker.pk},
        format="json",
    )
    assert again.status_code == 200 and again.json()["assigned_to"] == worker.pk
    stale = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version, "username": "colleague"},
        format="json",
    )
    assert stale.status_code == 409
    case.refresh_from_db()
    assert case.assigned_to == worker


def test_assignment_refusals_and_bad_input(
    api_client, supervisor, worker, prosecutor, outsider, make_user, case
):
    stranger = make_user(Role.CASE_WORKER, agency=AgencyFactory(), username="stranger.name")
    data = {"expected_version": case.version, "user_id": worker.pk}
    for refused in (worker, prosecutor):  # editing is not assigning; seeing is not editing
        api_client.force_authenticate(refused)
        assert api_client.post(_url(case, "assign"), data, format="json").status_code == 403
        unknown = {"expected_version": case.version, "username": "nobody"}
        assert api_client.post(_url(case, "assign"), unknown, format="json").status_code == 403
    api_client.force_authenticate(outsider)
    assert api_client.post(_url(case, "assign"), data, format="json").status_code == 404
    api_client.force_authenticate(supervisor)
    unknown = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version, "username": "nobody.here"},
        format="json",
    )
    assert unknown.status_code == 400
    # The same answer as for a user who may not be assigned: names are not probed this way.
    assert _error(unknown)["fields"]["assignee"] == ["This person cannot be assigned to the case."]
    assert "nobody.here" not in unknown.content.decode()
    analyst = make_user(Role.ANALYST, agency=supervisor.agency)
    no_case_work = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version, "user_id": analyst.pk},
        format="json",
    )
    assert no_case_work.status_code == 400 and "assignee" in _error(no_case_work)["fields"]
    both = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version, "username": "worker", "user_id": worker.pk},
        format="json",
    )
    assert both.status_code == 400
    inactive = make_user(Role.CASE_WORKER, agency=case.owner_agency, is_active=False)
    gone = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version, "user_id": inactive.pk},
        format="json",
    )
    assert gone.status_code == 400
    case.refresh_from_db()
    assert case.assigned_to is None and case.version == 1
    assert not AuditEvent.objects.filter(purpose="assigned").exists()
    # A professional of another agency (a victim advocate, say) may be assigned.
    other_agency = api_client.post(
        _url(case, "assign"),
        {"expected_version": case.version, "username": "Stranger.Name"},
        format="json",
    )
    assert other_agency.status_code == 200
    case.refresh_from_db()
    assert case.assigned_to == stranger


# --- Schema ------------------------------------------------------------------------------------


def test_schema_documents_the_new_operations(client, worker):
    client.force_login(worker)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    expected = {
        "/api/v1/cases/{public_id}/consents/": {"get", "post"},
        "/api/v1/cases/{public_id}/best-interests/": {"post"},
        "/api/v1/cases/{public_id}/profile/": {"patch"},
        "/api/v1/cases/{public_id}/assign/": {"post"},
        "/api/v1/case-notifications/": {"get"},
        "/api/v1/case-notifications/{id}/read/": {"post"},
        "/api/v1/case-notifications/read-all/": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    profile = paths["/api/v1/cases/{public_id}/profile/"]["patch"]
    assert {"200", "400", "403", "404", "409"} <= set(profile["responses"])
    reference = profile["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]
    for name in (
        "recruitment_countries",
        "transit_countries",
        "exploitation_countries",
        "recruitment_municipalities",
        "exploitation_municipalities",
        "expected_version",
    ):
        assert name in properties
