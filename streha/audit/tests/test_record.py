"""Recording events: what is stored, and that every append extends one valid chain."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from streha.accounts.models import Role
from streha.audit import chain, services
from streha.audit.models import Action, AuditChainHead, AuditEvent
from streha.testing.factories import PersonFactory
from streha.web.logging import request_id_var

pytestmark = pytest.mark.django_db


def test_record_builds_a_valid_chain(chain_of):
    events = chain_of(5)
    stored = list(AuditEvent.objects.order_by("seq"))
    assert [event.seq for event in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == "0" * 64
    for previous, event in zip(stored, stored[1:], strict=False):
        assert event.prev_hash == previous.hash
    for event in stored:
        # Recomputed from what the database returns, not from the objects in memory.
        assert chain.hash_of(event) == event.hash
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (5, stored[-1].hash)
    assert events[-1].hash == stored[-1].hash


def test_record_snapshots_actor_agency_and_object(make_user, agency):
    person = PersonFactory(owner_agency=agency)
    user = make_user(Role.CASE_WORKER, agency=agency)
    event = services.record(
        user,
        Action.UPDATE,
        obj=person,
        field_groups=["identity", "contact", "identity"],
        purpose="correction",
        break_glass=True,
        details={"fields": ["phone"]},
    )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_id == user.pk
    assert event.actor_username == user.username
    assert event.agency_id == agency.pk
    assert event.agency_code == agency.code
    assert event.object_type == "people.person"
    assert event.object_id == str(person.public_id)
    assert event.field_groups == ["contact", "identity"]  # sorted, once each
    assert event.purpose == "correction"
    assert event.break_glass is True
    assert event.details == {"fields": ["phone"], "subjects": [person.pk]}


def test_object_without_public_id_is_named_by_primary_key(make_user, agency):
    user = make_user(Role.CASE_WORKER, agency=agency)
    event = services.record(user, Action.READ, obj=agency)
    assert (event.object_type, event.object_id) == ("accounts.agency", str(agency.pk))


def test_system_and_anonymous_actors_are_recorded_without_a_user():
    for actor in (None, AnonymousUser()):
        event = services.record(actor, Action.KEY_ROTATION, details={"rewrapped": 3})
        assert (event.actor_id, event.actor_username, event.agency_id, event.agency_code) == (
            None,
            "",
            None,
            "",
        )
    assert services.verify_chain().ok


def test_request_id_comes_from_the_request_or_the_context():
    request = RequestFactory().get("/")
    request.id = "abc123def456"
    assert services.record(None, Action.READ, request=request).request_id == "abc123def456"
    token = request_id_var.set("from-the-context-1")
    try:
        assert services.record(None, Action.READ).request_id == "from-the-context-1"
    finally:
        request_id_var.reset(token)
    # "-" is the logging placeholder for "no request": stored as empty.
    assert services.record(None, Action.READ).request_id == ""


def test_unknown_actions_and_inexact_details_are_refused():
    with pytest.raises(ValueError):
        services.record(None, "peek")
    # Floats do not survive every database's JSON exactly; the hash must match what is stored.
    with pytest.raises(TypeError):
        services.record(None, Action.READ, details={"ratio": 0.5})
    assert not AuditEvent.objects.exists()


def test_text_is_cut_to_the_column_and_nul_removed():
    event = services.record(None, Action.READ, purpose="x\x00" + "y" * 300)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.purpose == "x" + "y" * 199
    assert chain.hash_of(stored) == stored.hash


def test_record_many_writes_one_event_for_a_list(make_user, agency):
    user = make_user(Role.CASE_WORKER, agency=agency)
    persons = PersonFactory.create_batch(3, owner_agency=agency)
    event = services.record_many(user, Action.LIST, persons, field_groups=["identity"])
    assert AuditEvent.objects.count() == 1
    assert event.object_type == "people.person"
    assert event.object_id == ""
    assert event.details == {
        "object_ids": [str(p.public_id) for p in persons],
        "count": 3,
        "subjects": sorted(p.pk for p in persons),
    }
    with pytest.raises(ValueError):
        services.record_many(user, Action.LIST, [persons[0], agency])


def test_record_each_writes_one_event_per_object_in_one_chain(make_user, agency, other_agency):
    first = make_user(Role.CASE_WORKER, agency=agency)
    second = make_user(Role.CASE_WORKER, agency=other_agency)
    persons = PersonFactory.create_batch(4, owner_agency=agency)
    authors = {persons[0].pk: first, persons[1].pk: second}
    count = services.record_each(
        Action.CREATE,
        persons,
        actor_of=lambda person: authors.get(person.pk),
        field_groups=["identity"],
        purpose="demo data",
    )
    assert count == 4
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.object_id for e in events] == [str(p.public_id) for p in persons]
    assert [e.agency_code for e in events] == [agency.code, other_agency.code, "", ""]
    assert services.verify_chain().ok


def test_the_event_is_part_of_the_callers_transaction(make_user, agency):
    from django.db import transaction

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.record(None, Action.READ)
        raise Abort
    assert not AuditEvent.objects.exists()
    assert services.record(None, Action.READ).seq == 1


def test_a_missing_head_is_recreated_only_for_an_empty_log():
    from django.db import connection

    from streha.audit import triggers

    triggers.uninstall(connection, keep_functions=True)
    AuditChainHead.objects.all()._raw_delete(connection.alias)
    assert services.record(None, Action.READ).seq == 1  # wiped database: a fresh chain

    AuditChainHead.objects.all()._raw_delete(connection.alias)
    with pytest.raises(services.AuditChainError):
        services.record(None, Action.READ)  # events without a head: refuse to fork the chain
