"""Case pages and API: the same services behind both, scoped, with optimistic locking."""

import pytest
from django.utils import timezone

from streha.accounts.models import AgencyKind, Role
from streha.cases import services
from streha.cases.models import Case, Referral, Status
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_open_case_page(client, worker, ngo):
    person = PersonFactory(owner_agency=ngo)
    client.force_login(worker)
    assert client.get(f"/cases/new/{person.public_id}/").status_code == 200
    response = client.post(
        f"/cases/new/{person.public_id}/",
        {
            "source": "ngo",
            "first_contact_on": timezone.localdate().isoformat(),
            "exploitation_types": ["ForcedBegging"],
            "needs_urgent_shelter": "on",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(person=person)
    assert case.exploitation_types == ["ForcedBegging"] and case.needs_urgent_shelter
    bad = client.post(f"/cases/new/{person.public_id}/", {"source": "nowhere"})
    assert bad.status_code == 400


def test_case_page_shows_timeline_and_next_steps(client, worker, case):
    client.force_login(worker)
    body = client.get(f"/cases/{case.public_id}/").content.decode()
    assert 'id="timeline"' in body and 'data-kind="open"' in body and "Drita" in body
    step = f'href="/cases/{case.public_id}/screen/?questionnaire=ilo-forced-labour"'
    assert step in body and 'id="form-screen"' not in body  # stage forms open on demand
    form = client.get(f"/cases/{case.public_id}/screen/?questionnaire=ilo-forced-labour")
    assert form.status_code == 200
    assert 'id="form-screen"' in form.content.decode() and "debt_bondage" in form.content.decode()


def test_screening_through_the_page_with_htmx(client, worker, case):
    client.force_login(worker)
    response = client.post(
        f"/cases/{case.public_id}/screen/",
        {
            "expected_version": case.version,
            "questionnaire": "ilo-forced-labour",
            "indicators_met": ["debt_bondage", "deception"],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#case-body"
    assert 'id="case-body"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.SCREENED


def test_stale_form_gets_a_conflict_with_reload_link(client, worker, case):
    client.force_login(worker)
    services.close_case(worker, case, expected_version=case.version, reason="Duplicate entry.")
    response = client.post(
        f"/cases/{case.public_id}/close/", {"expected_version": 1, "reason": "Other reason."}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert 'id="conflict"' in body and f"/cases/{case.public_id}/" in body


def test_case_list_filters_and_post_search(client, worker, case, ngo):
    other = services.open_case(
        worker,
        PersonFactory(owner_agency=ngo),
        source="police",
        first_contact_on=timezone.localdate(),
    )
    client.force_login(worker)
    body = client.get("/cases/?source=police").content.decode()
    assert other.reference in body and case.reference not in body
    body = client.post("/cases/", {"q": "Drita Synthetic"}).content.decode()
    assert case.reference in body and other.reference not in body


def test_api_transition_conflict_is_409_json(api_client, worker, case):
    api_client.force_authenticate(worker)
    url = f"/api/v1/cases/{case.public_id}/transition/"
    ok = api_client.post(
        url,
        {
            "action": "screen",
            "expected_version": 1,
            "questionnaire": "ilo-forced-labour",
            "indicators_met": ["debt_bondage"],
        },
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "screened"
    stale = api_client.post(
        url,
        {"action": "close", "expected_version": 1, "reason": "Duplicate entry."},
        format="json",
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"


def test_api_referral_flow_and_inbox(api_client, worker, case, make_user):
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    api_client.force_authenticate(worker)
    sent = api_client.post(
        f"/api/v1/cases/{case.public_id}/refer/",
        {"to_agency": shelter.code, "field_groups": ["identity"]},
        format="json",
    )
    assert sent.status_code == 201
    api_client.force_authenticate(receiver)
    inbox = api_client.get("/api/v1/referrals/").json()
    assert inbox["count"] == 1 and inbox["results"][0]["case"] is None
    assert api_client.get(f"/api/v1/cases/{case.public_id}/").status_code == 404
    referral = Referral.objects.get()
    answer = api_client.post(
        f"/api/v1/referrals/{referral.public_id}/answer/", {"status": "accepted"}, format="json"
    )
    assert answer.status_code == 200
    seen = api_client.get(f"/api/v1/cases/{case.public_id}/").json()
    assert seen["person"] == str(case.person.public_id)
    assert "first_contact_place" not in seen and "ethnicity" not in seen


def test_referral_inbox_page(client, worker, case, make_user):
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    referral = services.send_referral(worker, case, to_agency=shelter, field_groups=["identity"])
    client.force_login(receiver)
    body = client.get("/cases/referrals/").content.decode()
    assert str(referral.public_id) in body and "Drita" not in body
    response = client.post(f"/cases/referrals/{referral.public_id}/", {"status": "accepted"})
    assert response.status_code == 302
    assert "Drita" in client.get(f"/cases/{case.public_id}/").content.decode()


def test_my_work_page_and_navigation(client, worker, case):
    from streha.cases.selectors import my_work_panels, navigation_entries

    client.force_login(worker)
    assert client.get("/cases/tasks/").status_code == 200
    assert navigation_entries(worker) and my_work_panels(worker)


def test_filter_by_form_of_exploitation(api_client, worker, case, ngo):
    begging = services.open_case(
        worker,
        PersonFactory(owner_agency=ngo),
        source="ngo",
        first_contact_on=timezone.localdate(),
        exploitation_types=["ForcedBegging", "ForcedLabour"],
    )
    api_client.force_authenticate(worker)
    found = api_client.get("/api/v1/cases/?exploitation_type=ForcedBegging").json()
    assert [c["reference"] for c in found["results"]] == [begging.reference]
    assert api_client.get("/api/v1/cases/?exploitation_type=Forced").json()["count"] == 2


@pytest.mark.parametrize("page", ["null", "x", "0", "-2", "1.5"])
def test_lists_refuse_what_is_not_a_page(client, worker, page):
    """Issue 10 point 9: ``page=null`` was silently the first page."""
    client.force_login(worker)
    for url in ("/api/v1/cases/", "/api/v1/referrals/", "/api/v1/persons/"):
        response = client.get(url, {"page": page})
        assert response.status_code == 400, url
        assert "page" in response.json()["error"]["fields"]
    assert client.get("/api/v1/cases/", {"page": "2"}).status_code == 200


@pytest.mark.parametrize("query", [12345, True, ["Drita"], None])
def test_searches_refuse_a_query_that_is_not_text(client, worker, query):
    client.force_login(worker)
    for url in ("/api/v1/cases/search/", "/api/v1/persons/search/"):
        response = client.post(url, {"query": query}, content_type="application/json")
        assert response.status_code == 400, (url, query)
        assert "query" in response.json()["error"]["fields"]


def test_schema_documents_the_error_answers_of_lists_and_reads(client, worker):
    import yaml

    client.force_login(worker)
    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    for path, method, codes in (
        ("/api/v1/cases/", "get", {"400"}),
        ("/api/v1/cases/search/", "post", {"400"}),
        ("/api/v1/cases/{public_id}/", "get", {"404"}),
        ("/api/v1/referrals/", "get", {"400"}),
        ("/api/v1/persons/", "get", {"400"}),
        ("/api/v1/persons/{public_id}/", "patch", {"400", "403", "404"}),
    ):
        assert codes <= set(paths[path][method]["responses"]), (path, method)
