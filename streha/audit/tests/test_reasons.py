"""Every consultation of a person's record carries a reason: the case or task it serves, or a
reason code; a reason that does not fit the person is refused before anything is shown."""

import datetime

import pytest
from django.urls import reverse

from streha.accounts.models import Role
from streha.audit.models import Action, AuditEvent
from streha.cases import services as case_services
from streha.cases.models import Case, Task
from streha.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency)


def open_case(worker, person) -> Case:
    return case_services.open_case(
        worker,
        person,
        source=Case._meta.get_field("source").choices[0][0],
        first_contact_on=datetime.date(2026, 3, 1),
    )


def last_read(person) -> AuditEvent:
    return AuditEvent.objects.filter(action=Action.READ, object_id=str(person.public_id)).first()


def test_without_a_reason_the_page_asks_for_one_before_showing_anything(client, worker, agency):
    """Opened from search or a typed address: no default is made up; the reader says why,
    once for this record in this session."""
    person = PersonFactory(owner_agency=agency, given_name="Shqipe")
    open_case(worker, person)  # even with a case, a read from outside it must say why
    client.force_login(worker)
    url = f"/persons/{person.public_id}/"
    asked = client.get(url)
    assert asked.status_code == 200
    assert "Shqipe" not in asked.content.decode()
    assert 'name="code"' in asked.content.decode()
    assert last_read(person) is None

    chosen = client.post(
        reverse("audit:consultation_reason"),
        {"person": person.public_id, "code": "safety", "next": url},
    )
    assert chosen.status_code == 302 and chosen.url == url
    shown = client.get(url)
    assert "Shqipe" in shown.content.decode()
    assert last_read(person).purpose == "code:safety"
    # Remembered for this record for the session: the edit page does not ask again.
    assert client.get(f"/persons/{person.public_id}/edit/").status_code == 200
    assert last_read(person).purpose == "code:safety"


def test_other_needs_a_few_words_that_are_not_stored(client, worker, agency):
    person = PersonFactory(owner_agency=agency)
    client.force_login(worker)
    target = reverse("audit:consultation_reason")
    refused = client.post(target, {"person": person.public_id, "code": "other"})
    assert refused.status_code == 400
    words = "Kontroll i dosjes pas telefonatës"
    client.post(target, {"person": person.public_id, "code": "other", "note": words})
    client.get(f"/persons/{person.public_id}/")
    assert last_read(person).purpose == "code:other"
    assert not AuditEvent.objects.filter(details__icontains="telefonat").exists()
    assert not AuditEvent.objects.filter(purpose__icontains="telefonat").exists()


def test_the_case_page_link_carries_the_case_as_the_reason(client, worker, agency):
    person = PersonFactory(owner_agency=agency)
    case = open_case(worker, person)
    client.force_login(worker)
    page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    link = f"/persons/{person.public_id}/?reason=case:{case.public_id}"
    assert link in page
    assert client.get(link).status_code == 200
    assert last_read(person).purpose == f"case:{case.public_id}"


def test_the_api_refuses_a_read_without_a_reason(api_client, worker, agency):
    person = PersonFactory(owner_agency=agency, given_name="Shqipe")
    api_client.force_authenticate(worker)
    url = f"/api/v1/persons/{person.public_id}/"
    refused = api_client.get(url)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "reason_required"
    assert "Shqipe" not in refused.content.decode()
    assert last_read(person) is None
    assert api_client.get(url, {"reason": "code:case_work"}).status_code == 200
    assert last_read(person).purpose == "code:case_work"


def test_a_reason_code_case_or_task_given_is_recorded(client, worker, agency):
    person = PersonFactory(owner_agency=agency)
    case = open_case(worker, person)
    client.force_login(worker)
    url = f"/persons/{person.public_id}/"
    assert client.get(url, {"reason": "code:safety"}).status_code == 200
    assert last_read(person).purpose == "code:safety"
    assert client.get(url, {"reason": f"case:{case.public_id}"}).status_code == 200
    assert last_read(person).purpose == f"case:{case.public_id}"
    task = Task.objects.create(
        case=case,
        agency=agency,
        kind=Task._meta.get_field("kind").choices[0][0],
        due_on=datetime.date(2026, 3, 8),
    )
    assert client.get(url, {"reason": f"task:{task.pk}"}).status_code == 200
    assert last_read(person).purpose == f"task:{task.pk}"


def test_a_reason_that_does_not_fit_is_refused_before_anything_is_shown(
    client, api_client, worker, agency
):
    person = PersonFactory(owner_agency=agency, given_name="Shqipe")
    other_case = open_case(worker, PersonFactory(owner_agency=agency))
    client.force_login(worker)
    url = f"/persons/{person.public_id}/"
    for reason in (
        "code:curiosity",
        f"case:{other_case.public_id}",  # a case, but of another person
        "case:not-a-uuid",
        "task:99999999999999999999999",
        "task:12",
    ):
        response = client.get(url, {"reason": reason})
        assert response.status_code == 400, reason
        assert "Shqipe" not in response.content.decode()
        assert "code:" in response.content.decode()
    assert last_read(person) is None
    api_client.force_authenticate(worker)
    response = api_client.get(f"/api/v1/persons/{person.public_id}/", {"reason": "code:nosy"})
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]


def test_under_break_glass_the_reason_is_the_break_glass(client, make_user, agency):
    from streha.people import services as people_services
    from streha.testing.factories import AgencyFactory

    supervisor = make_user(Role.SUPERVISOR, agency=agency)
    person = PersonFactory(owner_agency=AgencyFactory())
    people_services.open_break_glass(
        supervisor,
        person,
        justification="The police report the person missing tonight.",
        field_groups=["identity"],
    )
    client.force_login(supervisor)
    client.get(f"/persons/{person.public_id}/")
    assert last_read(person).purpose == "break-glass"


def test_a_token_gives_its_reason_on_every_read(make_user, agency):
    """A machine client has no session: nothing is remembered for it, every read says why."""
    from rest_framework.test import APIClient

    from streha.accounts import services as account_services

    admin = make_user(Role.AGENCY_ADMIN, agency=agency)
    machine = make_user(Role.CASE_WORKER, agency=agency, is_service_account=True)
    _token, secret = account_services.issue_api_token(admin, user=machine, name="sync")
    person = PersonFactory(owner_agency=agency)
    api = APIClient(HTTP_AUTHORIZATION=f"Token {secret}")
    url = f"/api/v1/persons/{person.public_id}/"
    given = api.get(url, {"reason": "code:case_work"})
    assert given.status_code == 200 and "sessionid" not in given.cookies
    assert api.get(url).json()["error"]["code"] == "reason_required"
