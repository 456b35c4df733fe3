"""On PostgreSQL an append is the head lock and ONE statement (events, subjects, head), so the
lock every audited request waits for is held for one round trip and the commit; it stores
exactly what the three ORM writes it replaces store."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streha.audit import services
from streha.audit.models import AuditChainHead, AuditEvent, AuditSubject
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite's appends keep the ORM's three writes"
    ),
]

INSTANT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def stored(after: int) -> tuple[list, list, tuple]:
    events = list(
        AuditEvent.objects.filter(seq__gt=after)
        .order_by("seq")
        .values_list(
            "seq",
            "occurred_at",
            "actor_id",
            "actor_username",
            "agency_id",
            "agency_code",
            "action",
            "object_type",
            "object_id",
            "field_groups",
            "purpose",
            "request_id",
            "break_glass",
            "details",
            "prev_hash",
            "hash",
        )
    )
    subjects = sorted(
        AuditSubject.objects.filter(event_seq__gt=after).values_list("event_seq", "person_id")
    )
    head = AuditChainHead.objects.values_list("last_seq", "last_hash").get()
    return events, subjects, head


def _record(actor, persons):
    return services.record_each(
        services.Action.READ,
        persons,
        actor=actor,
        field_groups=["identity", "health"],
        purpose="case list",
        details={"note": "Ë, ç and Đ stay as written"},
    )


def test_an_append_is_the_lock_and_one_statement(make_user):
    agency = AgencyFactory()
    actor = make_user(agency=agency)
    persons = [PersonFactory(owner_agency=agency) for _ in range(3)]
    services.record(actor, services.Action.READ, obj=agency)
    with CaptureQueriesContext(connection) as queries:
        _record(actor, persons)
    sqls = [query["sql"] for query in queries]
    locked = next(i for i, sql in enumerate(sqls) if "FOR UPDATE" in sql)
    assert len(sqls[locked + 1 :]) == 1
    assert sqls[locked + 1].startswith("WITH written AS (INSERT INTO")
    assert "audit_subject" in sqls[locked + 1] and "audit_chain_head" in sqls[locked + 1]
    assert services.verify_chain().ok


def test_one_statement_stores_what_the_three_writes_store(monkeypatch, make_user):
    monkeypatch.setattr(timezone, "now", lambda: INSTANT)
    agency = AgencyFactory()
    actor = make_user(agency=agency)
    persons = [PersonFactory(owner_agency=agency) for _ in range(4)]
    services.record(actor, services.Action.READ, obj=agency)
    before = AuditChainHead.objects.get().last_seq

    with transaction.atomic():
        point = transaction.savepoint()
        # More events than one statement takes: the ORM's three writes.
        monkeypatch.setattr(services, "BULK_BATCH", 2)
        _record(actor, persons)
        by_three_writes = stored(before)
        transaction.savepoint_rollback(point)
    monkeypatch.setattr(services, "BULK_BATCH", 1000)

    assert AuditChainHead.objects.get().last_seq == before
    _record(actor, persons)
    assert stored(before) == by_three_writes
    assert len(by_three_writes[0]) == 4 and len(by_three_writes[1]) == 4
    assert services.verify_chain().ok


def test_the_event_knows_its_key(make_user):
    agency = AgencyFactory()
    actor = make_user(agency=agency)
    person = PersonFactory(owner_agency=agency)
    first = services.record(actor, services.Action.READ, obj=person)
    second = services.record(actor, services.Action.READ, obj=person)
    for event in (first, second):
        assert not event._state.adding
        assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    assert second.pk > first.pk and second.seq == first.seq + 1
