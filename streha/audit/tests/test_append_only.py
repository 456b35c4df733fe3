"""The log is append-only in the ORM and, through triggers, in the database itself."""

import pytest
from django.db import IntegrityError, connection, transaction

from streha.accounts.models import Role
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


# --- Replacing rows instead of updating them ---------------------------------------------------

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="INSERT OR REPLACE is SQLite's syntax"
)


def _replace_event_2_sql(event) -> tuple[str, list]:
    """Rewrite event 2 with REPLACE: SQLite deletes the old row without firing DELETE triggers."""
    return (
        "INSERT OR REPLACE INTO audit_event (id, seq, occurred_at, actor_username, agency_code,"
        " action, object_type, object_id, field_groups, purpose, request_id, break_glass,"
        " details, prev_hash, hash) VALUES (%s, 2, %s, '', '', 'read', '', '', '[]', 'forged',"
        " '', 0, '{}', %s, %s)",
        [event.pk, event.occurred_at, event.prev_hash, "e" * 64],
    )


@sqlite_only
def test_insert_or_replace_cannot_rewrite_an_event_or_rewind_the_head(event):
    sql, params = _replace_event_2_sql(event)
    assert refused_by_database(sql, params)
    assert refused_by_database(
        "REPLACE INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 1, 'x')"
    )
    assert refused_by_database(
        "INSERT OR REPLACE INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 1, 'x')"
    )
    # Upserts go through the UPDATE triggers (or are stopped before, at INSERT).
    assert refused_by_database(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 1, 'x') "
        "ON CONFLICT(id) DO UPDATE SET last_seq = 1, last_hash = 'x'"
    )
    assert refused_by_database(
        sql.replace("INSERT OR REPLACE", "INSERT")
        + " ON CONFLICT(seq) DO UPDATE SET purpose = 'x'",
        params,
    )
    assert AuditEvent.objects.get(seq=2).hash == event.hash
    assert AuditChainHead.objects.get().last_seq == 3
    assert services.verify_chain().ok


@sqlite_only
def test_the_replace_attack_worked_with_only_the_update_and_delete_triggers(event):
    """The attack the INSERT triggers close: without them, REPLACE rewrites both tables."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_event_insert_after_head")
        cursor.execute("DROP TRIGGER audit_chain_head_insert_once")
    sql, params = _replace_event_2_sql(event)
    assert not refused_by_database(sql, params)
    assert not refused_by_database(
        "INSERT OR REPLACE INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 1, 'x')"
    )
    assert AuditEvent.objects.get(seq=2).purpose == "forged"
    assert AuditChainHead.objects.get().last_seq == 1
    assert not services.verify_chain().ok


def test_an_event_cannot_be_inserted_into_the_past(event, raw_sql):
    # A removed event cannot be put back forged: its position is behind the head.
    raw_sql("DELETE FROM audit_event WHERE seq = 2")
    triggers.install(connection)
    assert refused_by_database(
        "INSERT INTO audit_event (seq, occurred_at, actor_username, agency_code, action,"
        " object_type, object_id, field_groups, purpose, request_id, break_glass, details,"
        " prev_hash, hash) VALUES (2, %s, '', '', 'read', '', '', '[]', '', '', %s, '{}',"
        " %s, %s)",
        [event.occurred_at, False, event.prev_hash, "d" * 64],
    )


def test_subject_rows_are_append_only(make_user, agency):
    from streha.audit.models import AuditSubject
    from streha.testing.factories import PersonFactory

    person = PersonFactory(owner_agency=agency)
    services.record(make_user(Role.CASE_WORKER, agency=agency), Action.READ, obj=person)
    row = AuditSubject.objects.get()
    assert row.person_id == person.pk
    assert refused_by_database("UPDATE audit_subject SET person_id = 999")
    assert refused_by_database("DELETE FROM audit_subject")
    with pytest.raises(AuditLogIsAppendOnly):
        row.delete()
