"""Reads of cases through the one "visible or 404" helper (policy.visible_or_404): every read
audited, and refused reads of objects outside the user's scope leave a trace (issue 10 point 9)."""

import uuid

import pytest
from django.core.cache import cache

from streha.access import policy
from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.cases.tests.factories import CaseFactory

POLICE, SHELTER = AgencyKind.POLICE, AgencyKind.SHELTER


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # the refusal counters live in the cache
    yield
    cache.clear()


def _refusals(user):
    return AuditEvent.objects.filter(actor=user, details__outcome="refused")


def test_refused_reads_are_audited_without_the_objects_data(world, client):
    case = CaseFactory(owner_agency=world.agency(POLICE), person=world.person(POLICE))
    prober = world.user(Role.CASE_WORKER, SHELTER)
    client.force_login(prober)
    unknown = uuid.uuid4()
    assert client.get(f"/cases/{case.public_id}/").status_code == 404
    assert client.get(f"/api/v1/cases/{case.public_id}/").status_code == 404
    assert client.get(f"/api/v1/cases/{unknown}/").status_code == 404
    events = list(_refusals(prober).order_by("seq"))
    assert [e.details["requested"]["public_id"] for e in events] == [
        str(case.public_id),
        str(case.public_id),
        str(unknown),
    ]
    for event in events:
        # Nothing of the case: not even in the object columns a person's trail is read from.
        assert event.object_type == "cases.case" and event.object_id == ""
        assert event.field_groups == [] and event.action == "read"
        assert case.reference not in str(event.details)
    # A read within scope is audited as a read of the case, with the groups shown.
    owner = world.user(Role.CASE_WORKER, POLICE)
    client.force_login(owner)
    assert client.get(f"/cases/{case.public_id}/").status_code == 200
    read = AuditEvent.objects.filter(actor=owner, object_id=str(case.public_id)).get()
    assert read.action == "read" and "identity" in read.field_groups
    assert not _refusals(owner).exists()


def test_refusals_are_recorded_at_most_so_many_a_minute(world, monkeypatch):
    monkeypatch.setattr(policy, "REFUSALS_RECORDED_PER_MINUTE", 3)
    prober = world.user(Role.CASE_WORKER, SHELTER)
    other = world.user(Role.SUPERVISOR, SHELTER)
    from streha.cases.models import Case

    for _ in range(5):
        assert policy.record_refused_read(prober, Case, {"public_id": uuid.uuid4()}) in (
            True,
            False,
        )
    assert _refusals(prober).count() == 3
    assert [e.details["refusals_this_minute"] for e in _refusals(prober).order_by("seq")] == [
        1,
        2,
        3,
    ]
    # Each user has their own count.
    assert policy.record_refused_read(other, Case, {"public_id": uuid.uuid4()}) is True


def test_person_and_referral_reads_go_through_the_same_helper(world, client):
    person = world.person(POLICE)
    prober = world.user(Role.CASE_WORKER, SHELTER)
    client.force_login(prober)
    assert client.get(f"/persons/{person.public_id}/").status_code == 404
    assert client.get(f"/cases/referrals/{uuid.uuid4()}/").status_code == 404
    assert {e.object_type for e in _refusals(prober)} == {"people.person", "cases.referral"}
