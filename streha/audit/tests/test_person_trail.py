"""A person's trail ("who saw this person") shows every read of their data, through any object:
the record itself, a case, a referral, a document, a list or an export."""

import datetime

import pytest
from django.urls import reverse

from streha.accounts.models import AgencyKind, Role
from streha.audit.models import Action, AuditEvent, AuditSubject
from streha.cases import services as case_services
from streha.cases.models import Case, ReferralStatus
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def referred(make_user, agency):
    """A case of ``agency`` referred to a shelter, which accepted it."""
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    owner = make_user(Role.CASE_WORKER, agency=agency)
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    person = PersonFactory(owner_agency=agency, given_name="Valbona")
    case = case_services.open_case(
        owner,
        person,
        source=Case._meta.get_field("source").choices[0][0],
        first_contact_on=datetime.date(2026, 3, 1),
    )
    referral = case_services.send_referral(
        owner, case, to_agency=shelter, field_groups=["identity"], purpose="Shelter place"
    )
    case_services.answer_referral(receiver, referral, status=ReferralStatus.ACCEPTED)
    return person, case, referral, receiver


def test_a_receiving_agencys_read_of_the_case_is_in_the_persons_trail(
    client, referred, national_auditor
):
    person, case, referral, receiver = referred
    client.force_login(receiver)
    assert client.get(reverse("cases:referral", args=[referral.public_id])).status_code == 200
    page = client.get(f"/cases/{case.public_id}/")
    assert page.status_code == 200 and "Valbona" in page.content.decode()
    reads = AuditEvent.objects.filter(actor_id=receiver.pk, action=Action.READ)
    assert {e.object_type for e in reads} == {"cases.case", "cases.referral"}
    # Each read through the case or the referral names the person as its subject.
    for event in reads:
        assert event.details["subjects"] == [person.pk]
        assert AuditSubject.objects.filter(event_seq=event.seq, person_id=person.pk).exists()
    client.force_login(national_auditor)
    trail = client.get(reverse("audit:person", args=[person.public_id]))
    text = trail.content.decode()
    assert trail.status_code == 200
    assert receiver.username in text
    for event in reads:
        assert f"#{event.seq}" in text


def test_lists_that_showed_the_person_are_in_the_trail(client, make_user, agency, national_auditor):
    worker = make_user(Role.CASE_WORKER, agency=agency)
    person = PersonFactory(owner_agency=agency)
    client.force_login(worker)
    assert client.get("/persons/").status_code == 200
    listing = AuditEvent.objects.get(action=Action.LIST, actor_id=worker.pk)
    client.force_login(national_auditor)
    page = client.get(reverse("audit:index"), {"person": person.reference})
    assert f"#{listing.seq}" in page.content.decode()


def test_the_trail_is_only_about_its_person(client, make_user, agency, national_auditor):
    worker = make_user(Role.CASE_WORKER, agency=agency)
    mine, other = PersonFactory(owner_agency=agency), PersonFactory(owner_agency=agency)
    client.force_login(worker)
    client.get(f"/persons/{other.public_id}/")
    client.force_login(national_auditor)
    trail = client.get(reverse("audit:person", args=[mine.public_id]))
    assert worker.username not in trail.content.decode()


def test_the_referral_page_before_acceptance_is_an_audited_read(client, make_user, agency):
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    owner = make_user(Role.CASE_WORKER, agency=agency)
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    person = PersonFactory(owner_agency=agency)
    case = case_services.open_case(
        owner,
        person,
        source=Case._meta.get_field("source").choices[0][0],
        first_contact_on=datetime.date(2026, 3, 1),
    )
    referral = case_services.send_referral(
        owner, case, to_agency=shelter, field_groups=["identity"], purpose="Needs a safe bed"
    )
    client.force_login(receiver)
    page = client.get(reverse("cases:referral", args=[referral.public_id]))
    assert page.status_code == 200 and "Needs a safe bed" in page.content.decode()
    event = AuditEvent.objects.get(actor_id=receiver.pk, action=Action.READ)
    assert (event.object_type, event.object_id) == ("cases.referral", str(referral.public_id))
    assert event.details["subjects"] == [person.pk]


def test_the_auditors_break_glass_page_is_an_audited_read(client, make_user, agency):
    from streha.people import services as people_services

    supervisor = make_user(Role.SUPERVISOR, agency=agency)
    auditor = make_user(Role.AUDITOR, agency=agency)
    person = PersonFactory(owner_agency=AgencyFactory())
    grant = people_services.open_break_glass(
        supervisor,
        person,
        justification="Missing since yesterday, police asked us.",
        field_groups=["identity"],
    )
    client.force_login(auditor)
    page = client.get(reverse("audit:break_glass"))
    assert "Missing since yesterday" in page.content.decode()
    event = AuditEvent.objects.get(actor_id=auditor.pk, action=Action.READ)
    assert event.object_type == "access.breakglassgrant"
    assert event.details["object_ids"] == [str(grant.pk)]
    assert event.details["subjects"] == [person.pk]
