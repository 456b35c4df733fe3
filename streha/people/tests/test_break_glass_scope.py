"""Break-glass opens only the field groups asked for, tells the agency holding the record at
once, and both agencies' auditors see it."""

import pytest
from django.core import mail
from django.urls import reverse

from streha.access import policy
from streha.access.models import BreakGlassGrant
from streha.accounts.models import Role
from streha.audit.models import Action, AuditEvent
from streha.cases.models import Notification
from streha.people import services
from streha.testing.auth import reauthenticate
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Police report the person is in immediate danger tonight."


@pytest.fixture
def holder(db):
    return AgencyFactory()


@pytest.fixture
def person(holder):
    return PersonFactory(
        owner_agency=holder, given_name="Mirjeta", narrative="Secret story of the journey"
    )


@pytest.fixture
def supervisor(make_user, agency):
    return make_user(Role.SUPERVISOR, agency=agency)


def test_only_the_groups_asked_for_are_opened(client, supervisor, person):
    client.force_login(supervisor)
    reauthenticate(client, supervisor)  # break-glass asks for a fresh sign-in (accounts.reauth)
    response = client.post(
        "/persons/break-glass/",
        {"reference": person.reference, "justification": JUSTIFICATION},
    )
    assert response.status_code == 200 and not BreakGlassGrant.objects.exists()
    response = client.post(
        "/persons/break-glass/",
        {
            "reference": person.reference,
            "justification": JUSTIFICATION,
            "field_groups": ["identity"],
        },
    )
    assert response.status_code == 302
    assert BreakGlassGrant.objects.get().field_groups == ["identity"]
    assert policy.person_access(supervisor, person).field_groups == {"identity"}
    page = client.get(f"/persons/{person.public_id}/").content.decode()
    assert "Mirjeta" in page and "Secret story" not in page
    api = client.get(f"/api/v1/persons/{person.public_id}/").json()
    assert api["given_name"] == "Mirjeta" and "narrative" not in api
    event = AuditEvent.objects.get(action=Action.BREAK_GLASS)
    assert event.field_groups == ["identity"]


def test_groups_outside_the_role_are_refused(make_user, agency, person):
    investigator = make_user(Role.SUPERVISOR, agency=agency)
    with pytest.raises(services.ValidationError) as error:
        services.open_break_glass(
            investigator, person, justification=JUSTIFICATION, field_groups=["investigation"]
        )
    assert "field_groups" in error.value.message_dict
    assert not BreakGlassGrant.objects.exists()


def test_the_holding_agency_is_notified_at_once(
    make_user, supervisor, person, holder, django_capture_on_commit_callbacks
):
    told = [
        make_user(Role.SUPERVISOR, agency=holder, email="sup@example.org"),
        make_user(Role.AUDITOR, agency=holder, email="aud@example.org"),
        make_user(Role.AGENCY_ADMIN, agency=holder, email="adm@example.org"),
    ]
    not_told = make_user(Role.CASE_WORKER, agency=holder)
    with django_capture_on_commit_callbacks(execute=True):
        services.open_break_glass(
            supervisor, person, justification=JUSTIFICATION, field_groups=["identity"]
        )
    notices = Notification.objects.all()
    assert {n.user_id for n in notices} == {user.pk for user in told}
    assert not Notification.objects.filter(user=not_told).exists()
    for notice in notices:
        assert person.reference not in notice.message and "Mirjeta" not in notice.message
    [sent] = mail.outbox
    assert set(sent.to) == {"sup@example.org", "aud@example.org", "adm@example.org"}
    assert "Mirjeta" not in sent.body and person.reference not in sent.body
    event = AuditEvent.objects.get(action=Action.BREAK_GLASS)
    assert event.details["owner_agency"] == holder.pk and event.details["notified"] == 3


def test_both_agencies_auditors_see_it_and_no_one_else(
    client, make_user, supervisor, agency, person, holder
):
    services.open_break_glass(
        supervisor, person, justification=JUSTIFICATION, field_groups=["identity"]
    )
    client.force_login(supervisor)
    client.get(f"/persons/{person.public_id}/")  # a read under break-glass
    under_glass = set(AuditEvent.objects.filter(break_glass=True).values_list("seq", flat=True))
    assert len(under_glass) == 2
    for auditor_agency, sees in ((agency, True), (holder, True), (AgencyFactory(), False)):
        auditor = make_user(Role.AUDITOR, agency=auditor_agency)
        grants = policy.break_glass_grants_visible_to(auditor)
        assert grants.exists() is sees
        events = set(policy.audit_events_visible_to(auditor).values_list("seq", flat=True))
        assert (under_glass <= events) is sees
        client.force_login(auditor)
        page = client.get(reverse("audit:break_glass")).content.decode()
        assert (JUSTIFICATION in page) is sees
    # The holding agency's auditor sees the break-glass events, not the actor's other work.
    holder_auditor = make_user(Role.AUDITOR, agency=holder)
    other_work = AuditEvent.objects.filter(actor_id=supervisor.pk, break_glass=False)
    visible = policy.audit_events_visible_to(holder_auditor)
    assert not visible.filter(pk__in=other_work.values("pk")).exists()
