"""The case page's next steps: each opens its own form (a page, or an htmx panel) and posts
to the same address; offered only when the stage and the user's rights allow it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streha.accounts.models import AgencyKind, Role
from streha.cases import presentation, selectors, services
from streha.cases.models import Case, Consent, ServiceKind, ServiceStatus, Status
from streha.cases.tests.factories import CaseFactory
from streha.places.models import Municipality
from streha.testing.admin_fixtures import _english  # noqa: F401 - messages read in English
from streha.testing.factories import AgencyFactory, PersonFactory
from streha.testing.html import without_random_values

pytestmark = pytest.mark.django_db


def url(case, action="", query=""):
    return f"/cases/{case.public_id}/{action}{'/' if action else ''}{query}"


def steps_of(client, case) -> set[str]:
    body = client.get(url(case)).content.decode()
    return {action for action in presentation.ACTION_LABELS if f'href="{url(case, action)}' in body}


def presumed(worker, case) -> Case:
    from streha.cases.models import Questionnaire

    ilo = Questionnaire.objects.get(code="ilo-forced-labour", is_current=True)
    services.record_screening(
        worker,
        case,
        expected_version=case.version,
        questionnaire=ilo,
        indicators_met=["debt_bondage", "deception", "withholding_of_wages"],
    )
    services.confirm_screening(worker, case, expected_version=case.version, presumed=True)
    return case


def test_steps_follow_the_stage_and_the_role(client, worker, case, make_user, ngo):
    client.force_login(worker)
    offered = steps_of(client, case)
    assert {"screen", "profile", "refer", "consent", "close", "note"} <= offered
    assert not offered & {"confirm", "decide", "assist", "assign", "reopen", "best_interests"}
    # Not offered means not possible, even by typing the address.
    assert client.get(url(case, "confirm")).status_code == 404
    assert client.get(url(case, "no-such-step")).status_code == 404
    assert client.post(url(case, "timeline")).status_code == 404
    supervisor = make_user(Role.SUPERVISOR, agency=ngo)
    client.force_login(supervisor)
    assert "assign" in steps_of(client, case)


def test_another_agency_cannot_open_any_step(client, case, make_user):
    outsider = make_user(Role.CASE_WORKER, agency=AgencyFactory())
    client.force_login(outsider)
    for action in ("profile", "consent", "timeline", "note"):
        assert client.get(url(case, action)).status_code == 404
    response = client.post(url(case, "consent"), {"purpose": "interview", "given": "yes"})
    assert response.status_code == 404 and not Consent.objects.exists()


def test_step_form_as_a_page_and_as_an_htmx_panel(client, worker, case):
    client.force_login(worker)
    page = client.get(url(case, "consent")).content.decode()
    assert "<html" in page and 'id="form-consent"' in page
    panel = client.get(url(case, "consent"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in panel and 'id="form-consent"' in panel and 'hx-post="' in panel


def test_consent_is_recorded_and_bad_input_writes_nothing(client, worker, case):
    client.force_login(worker)
    bad = client.post(url(case, "consent"), {"purpose": "Narnia", "given": "yes"})
    assert bad.status_code == 400 and not Consent.objects.exists()
    assert 'class="field-error"' in bad.content.decode()
    response = client.post(url(case, "consent"), {"purpose": "medical", "given": "no"})
    assert response.status_code == 302
    consent = Consent.objects.get(case=case)
    assert consent.purpose == "medical" and consent.given is False
    body = client.get(url(case)).content.decode()
    assert "Medical examination or treatment" in body
    assert 'data-kind="consent"' in body


def test_profile_edits_countries_and_municipalities(client, worker, case):
    municipality = Municipality.objects.order_by("code").first()
    client.force_login(worker)
    form = client.get(url(case, "profile")).content.decode()
    assert 'name="recruitment_countries"' in form and 'value="XK"' in form
    assert f'value="{municipality.code}"' in form
    response = client.post(
        url(case, "profile"),
        {
            "expected_version": case.version,
            "exploitation_types": ["ForcedLabour"],
            "recruitment_countries": ["AL", "XK"],
            "exploitation_countries": ["DE"],
            "exploitation_municipalities": [municipality.code],
            "transnational": "true",
            "languages": ["sq", "rom"],
            "disability": "sensory",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.recruitment_countries == ["AL", "XK"] and case.exploitation_countries == ["DE"]
    assert case.exploitation_municipalities == [municipality.code] and case.transnational
    assert case.languages == ["sq", "rom"] and case.disability == "sensory"
    body = client.get(url(case), HTTP_ACCEPT_LANGUAGE="sq").content.decode()
    assert "Shqipëri" in body and "Gjermani" in body and municipality.name_sq in body
    assert "Romisht" in body  # languages named in the page's language too


def test_profile_refuses_unknown_countries_and_keeps_the_case(client, worker, case):
    client.force_login(worker)
    version = case.version
    response = client.post(
        url(case, "profile"), {"expected_version": version, "recruitment_countries": ["ZZ"]}
    )
    assert response.status_code == 400
    # The page's messages do not repeat the code sent (the random CSRF tokens set aside).
    page = without_random_values(response.content.decode())
    assert "ZZ" not in page.split('id="form-profile"')[0]
    case.refresh_from_db()
    assert case.version == version and case.recruitment_countries == []
    with pytest.raises(Exception, match="countries"):
        services.update_profile(
            worker, case, expected_version=version, exploitation_countries=["Narnia"]
        )


def test_random_values_are_set_aside_before_looking_for_absent_text():
    page = '<form><input type="hidden" name="csrfmiddlewaretoken" value="a1ZZb2"><p>ZY</p></form>'
    cleaned = without_random_values(page)
    assert "ZZ" not in cleaned and "<p>ZY</p>" in cleaned and 'value=""' in cleaned


def test_best_interests_of_a_child(client, worker, ngo):
    child = PersonFactory(owner_agency=ngo, birth_year=timezone.localdate().year - 15)
    case = services.open_case(worker, child, source="ngo", first_contact_on=timezone.localdate())
    assert case.is_child
    client.force_login(worker)
    assert {"guardian", "best_interests"} <= steps_of(client, case)
    future = timezone.localdate() + timedelta(days=3)
    bad = client.post(
        url(case, "best_interests"),
        {"expected_version": case.version, "determined_on": future.isoformat()},
    )
    assert bad.status_code == 400
    case.refresh_from_db()
    assert case.best_interests_determined_on is None
    today = timezone.localdate()
    response = client.post(
        url(case, "best_interests"),
        {"expected_version": case.version, "determined_on": today.isoformat()},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.best_interests_determined_on == today
    assert 'id="best-interests"' in client.get(url(case)).content.decode()


def test_supervisor_assigns_the_case_to_a_professional_of_another_agency(
    client, case, make_user, ngo
):
    supervisor = make_user(Role.SUPERVISOR, agency=ngo)
    advocate = make_user(Role.CASE_WORKER, agency=AgencyFactory(kind=AgencyKind.VICTIM_ADVOCACY))
    analyst = make_user(Role.ANALYST, agency=ngo)
    client.force_login(supervisor)
    for name, message in (("nobody-here", "cannot be"), (analyst.username, "cannot be")):
        bad = client.post(url(case, "assign"), {"expected_version": case.version, "assignee": name})
        assert bad.status_code == 400 and message in bad.content.decode()
    response = client.post(
        url(case, "assign"), {"expected_version": case.version, "assignee": advocate.username}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == advocate
    client.force_login(advocate)
    assert client.get(url(case)).status_code == 200


def test_worker_cannot_assign(client, worker, case, make_user):
    colleague = make_user(Role.CASE_WORKER, agency=worker.agency)
    client.force_login(worker)
    response = client.post(
        url(case, "assign"), {"expected_version": case.version, "assignee": colleague.username}
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.assigned_to is None


def test_services_and_follow_up_through_their_steps(client, worker, case, ngo):
    presumed(worker, case)
    services.start_assistance(worker, case, expected_version=case.version)
    service = services.add_service(
        worker,
        case,
        expected_version=case.version,
        kind=ServiceKind.MEDICAL,
        provider=ngo,
        starts_on=timezone.localdate(),
    )
    client.force_login(worker)
    body = client.get(url(case)).content.decode()
    assert f"service_status/?service={service.pk}" in body
    assert client.get(url(case, "service_status", "?service=999999")).status_code == 404
    response = client.post(
        url(case, "service_status"),
        {"expected_version": case.version, "service": service.pk, "status": "in_progress"},
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.status == ServiceStatus.IN_PROGRESS
    case.refresh_from_db()
    services.start_return_or_reintegration(
        worker,
        case,
        expected_version=case.version,
        assisted_voluntary_return=False,
        next_review_on=timezone.localdate() + timedelta(days=30),
    )
    review = timezone.localdate() + timedelta(days=60)
    assert "follow_up" in steps_of(client, case)
    response = client.post(
        url(case, "follow_up"),
        {"expected_version": case.version, "next_review_on": review.isoformat()},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.next_review_on == review and case.status == Status.RETURN_REINTEGRATION


def test_the_case_page_shows_the_latest_events_and_the_timeline_page_all(client, worker, case):
    for _ in range(selectors.RECENT + 5):
        services.record_consent(worker, case, purpose="interview", given=True)
    client.force_login(worker)
    page = client.get(url(case)).content.decode()
    assert page.count("<li data-kind=") == selectors.RECENT
    assert 'data-kind="open"' not in page and url(case, "timeline") in page
    timeline = client.get(url(case, "timeline")).content.decode()
    assert timeline.count("<li data-kind=") == selectors.RECENT + 6
    assert 'data-kind="open"' in timeline


def test_htmx_success_swaps_the_case_body(client, worker, case):
    client.force_login(worker)
    response = client.post(
        url(case, "note"), {"body": "Met at the shelter."}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#case-body" and response["HX-Reswap"] == "outerHTML"
    assert "Met at the shelter." in response.content.decode()


def test_case_list_counts_stop_at_the_cap(client, worker, ngo, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 50)
    for _ in range(52):
        CaseFactory(owner_agency=ngo)
    page = selectors.list_cases(worker)
    assert page.count_capped and page.count_label == "50+" and page.paginator.num_pages == 2
    last = selectors.list_cases(worker, page=9)  # the last page, not beyond
    assert last.number == 2 and len(last) == 25 and not last.has_next()
    client.force_login(worker)
    assert 'id="case-count"' in client.get("/cases/").content.decode()


def test_search_is_not_capped(worker, ngo, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 1000)
    for _ in range(3):
        services.open_case(
            worker,
            PersonFactory(owner_agency=ngo, given_name="Shpresa", family_name="Synthetic"),
            source="ngo",
            first_contact_on=timezone.localdate(),
        )
    CaseFactory(owner_agency=ngo)
    found = selectors.list_cases(worker, query="Shpresa Synthetic")
    assert len(found) == 3 and found.paginator.count == 3


def test_a_closed_case_takes_no_new_facts_until_reopened(worker, case):
    from django.core.exceptions import ValidationError

    services.close_case(worker, case, expected_version=case.version, reason="Duplicate entry.")
    with pytest.raises(ValidationError):
        services.record_consent(worker, case, purpose="interview", given=True)
    with pytest.raises(ValidationError):
        services.update_profile(
            worker, case, expected_version=case.version, exploitation_types=["ForcedLabour"]
        )
    assert not Consent.objects.exists()


def test_who_cannot_take_steps_learns_nothing_about_versions(client, case, make_user, ngo):
    prosecutor = make_user(Role.PROSECUTOR, agency=ngo)
    client.force_login(prosecutor)
    for version in ("0", "1"):
        response = client.post(url(case, "close"), {"expected_version": version, "reason": "x"})
        assert response.status_code == 404


def test_odd_digits_in_numbers_are_bad_input_not_errors(client, worker, case):
    client.force_login(worker)
    assert client.post(url(case, "close"), {"expected_version": "²"}).status_code == 400
    assert client.get(url(case, "service_status", "?service=²")).status_code == 404


def test_every_note_and_consent_is_reachable_newest_consent_first(client, worker, case):
    for number in range(selectors.RECENT + 2):
        services.add_note(worker, case, body=f"Note number {number}.")
        services.record_consent(worker, case, purpose="interview", given=True)
    services.record_consent(worker, case, purpose="medical", given=False)
    client.force_login(worker)
    page = client.get(url(case)).content.decode()
    assert "Note number 0." not in page  # the case page shows the latest only
    consents = page.split('id="consent-list"')[1].split("</ul>")[0]
    assert consents.index("Medical examination") < consents.index("Interview")
    notes = client.get(url(case, "notes")).content.decode()
    assert "Note number 0." in notes and f"Note number {selectors.RECENT + 1}." in notes
    everything = client.get(url(case, "consents")).content.decode()
    listed = everything.split('id="consent-list"')[1].split("</ul>")[0]
    assert listed.count("<li>") == selectors.RECENT + 3
    assert client.post(url(case, "consents")).status_code == 404


def test_a_search_naming_too_many_persons_says_so(client, worker, ngo, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 2)
    for _ in range(3):
        services.open_case(
            worker,
            PersonFactory(owner_agency=ngo, given_name="Besa", family_name="Synthetic"),
            source="ngo",
            first_contact_on=timezone.localdate(),
        )
    found = selectors.list_cases(worker, query="Besa Synthetic")
    assert found.too_broad and len(found) == 0
    client.force_login(worker)
    assert 'id="too-broad"' in client.post("/cases/", {"q": "Besa Synthetic"}).content.decode()


def test_unknown_names_are_not_a_searchable_name(worker, ngo):
    from streha.people.models import Person

    unnamed = PersonFactory(owner_agency=ngo, given_name="N.N.", family_name="")
    known_family = PersonFactory(owner_agency=ngo, given_name="N.N.", family_name="Berisha")
    unnamed.refresh_from_db()
    assert unnamed.name_index == ""
    field = Person._meta.get_field("name_index")
    assert known_family.name_index == field.digest_of("Berisha")


def test_the_api_says_when_counts_stop_and_pages_end(api_client, worker, ngo, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 50)
    for _ in range(52):
        CaseFactory(owner_agency=ngo)
    api_client.force_authenticate(worker)
    first = api_client.get("/api/v1/cases/").json()
    assert first["count"] == 50 and first["count_capped"] is True and first["pages"] == 2
    beyond = api_client.get("/api/v1/cases/?page=3").json()
    assert beyond["results"] == [] and beyond["page"] == 3


def test_page_buttons_keep_the_filters(client, worker, ngo):
    """The page buttons submit the list's one form, which holds the chosen filters."""
    for _ in range(30):
        CaseFactory(owner_agency=ngo, source="police")
    CaseFactory(owner_agency=ngo, source="hotline")
    client.force_login(worker)
    body = client.get("/cases/?source=police&status=first_contact").content.decode()
    pages = body.split('aria-label="Pages"')[1]
    assert 'form="case-list-form"' in pages and 'name="page" value="2"' in pages
    form = body.split('id="case-list-form"')[1].split("</form>")[0]
    assert '<option value="police" selected>' in form
    assert '<option value="first_contact" selected>' in form
    second = client.post(
        "/cases/", {"source": "police", "status": "first_contact", "page": "2"}
    ).content.decode()
    assert "Page 2 of 2" in second and "Cases found: 30" in second


def test_every_kind_of_event_has_words_on_the_timeline():
    import re
    from pathlib import Path

    from streha.cases import services as case_services

    package = Path(case_services.__file__).parent  # streha/cases/services/
    files = [*package.glob("*.py"), package.parent / "documents/services.py"]
    sources = "".join(path.read_text() for path in [*files, package.parent / "demo.py"])
    kinds = set(case_services.TRANSITIONS)
    kinds |= set(re.findall(r'_event\(\s*\w+(?:\.case)?,\s*\w+,\s*"([a-z_]+)"', sources))
    kinds |= set(re.findall(r'kind="([a-z_]+)"', sources))
    kinds |= {
        f"referral_{status}" for status in ("accepted", "declined", "in_progress", "completed")
    }
    assert kinds - set(presentation.EVENT_LABELS) == set()


def test_ethnicity_is_offered_only_with_its_field_group(client, worker, case, make_user, ngo):
    from streha.access import policy

    client.force_login(worker)
    assert policy.ETHNICITY_GROUP in policy.case_access(worker, case).field_groups
    assert 'name="ethnicity"' in client.get(url(case, "profile")).content.decode()
    investigator = make_user(Role.INVESTIGATOR, agency=ngo)
    assert policy.ETHNICITY_GROUP not in policy.case_access(investigator, case).field_groups
    client.force_login(investigator)
    assert 'name="ethnicity"' not in client.get(url(case, "profile")).content.decode()
    with pytest.raises(Exception, match="languages"):
        services.update_profile(worker, case, expected_version=case.version, languages=["xx"])


def test_anonymising_the_person_erases_the_words_on_their_cases(worker, case, ngo):
    from streha.audit.models import AuditEvent
    from streha.cases.models import CaseNote
    from streha.people.services import anonymise_person

    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    services.update_profile(
        worker, case, expected_version=case.version, first_contact_place="Bus station, north"
    )
    services.add_note(worker, case, body="Said her employer took her passport.")
    services.send_referral(worker, case, to_agency=shelter, field_groups=[], purpose="Bed needed")
    services.close_case(worker, case, expected_version=case.version, reason="Moved abroad, safe.")
    anonymise_person(case.person, reason="Retention period over.")
    case.refresh_from_db()
    assert case.first_contact_place == "" and case.status == Status.CLOSED
    assert not CaseNote.objects.filter(case=case).exists()
    assert all(event.reason == "" for event in case.events.all())
    assert case.referrals.get().purpose == ""
    event = AuditEvent.objects.filter(action="anonymise").latest("seq")
    assert event.details["cases_erased"] == 1
