"""The log is append-only in the ORM and, through triggers, in the database itself."""

import pytest
from django.db import IntegrityError, connection, transaction

from streha.audit import services, triggers
from streha.audit.models import Action, AuditChainHead, AuditEvent, AuditLogIsAppendOnly

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(chain_of):
    return chain_of(3)[1]


def refused_by_database(sql, params=()):
    """True if the database refuses ``sql`` (in a savepoint, so the test can go on)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError:
        return True
    return False


def test_the_orm_refuses_to_update_or_delete(event):
    event.purpose = "changed"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(purpose="changed")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.bulk_update([event], ["purpose"])
    with pytest.raises(AuditLogIsAppendOnly):
        AuditChainHead.objects.get().delete()
    assert services.verify_chain().ok


def test_the_orm_cannot_insert_outside_the_chain(db):
    with pytest.raises(ValueError):
        AuditEvent.objects.create(action=Action.READ, prev_hash="0" * 64)
    assert not AuditEvent.objects.exists()


def test_the_triggers_are_installed_by_the_migrations(db):
    assert triggers.installed(connection) == triggers.expected(connection)


def test_the_database_refuses_raw_update_and_delete(event):
    assert refused_by_database("UPDATE audit_event SET purpose = 'changed' WHERE seq = 2")
    assert refused_by_database("DELETE FROM audit_event WHERE seq = 2")
    assert refused_by_database("DELETE FROM audit_event")
    assert refused_by_database("DELETE FROM audit_chain_head")
    # The head may only move forward: rewinding it would hide removed events.
    assert refused_by_database("UPDATE audit_chain_head SET last_seq = 1")
    assert refused_by_database("UPDATE audit_chain_head SET last_hash = 'x'")
    if connection.vendor == "postgresql":
        assert refused_by_database("TRUNCATE audit_event")
        assert refused_by_database("TRUNCATE audit_chain_head")
    assert AuditEvent.objects.count() == 3
    assert services.verify_chain().ok


def test_the_database_still_accepts_appends(event):
    # The triggers must not get in the way of the normal path (insert, then move the head).
    assert services.record(None, Action.READ).seq == 4
    assert services.verify_chain().checked == 4


def test_triggers_can_be_reinstalled_idempotently(event):
    triggers.install(connection)
    triggers.install(connection)
    assert triggers.installed(connection) == triggers.expected(connection)
    assert refused_by_database("DELETE FROM audit_event")
