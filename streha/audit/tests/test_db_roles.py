"""``streha db roles``: on PostgreSQL the runtime role cannot rewrite the audit log, nor switch
its triggers off; the application still works as it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from streha.accounts.models import Role
from streha.audit import db_roles, services
from streha.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles are PostgreSQL's"
)


@pytest.fixture
def roles(db):
    """Roles named after this test database (roles are shared by the whole server); created in
    the test's transaction, so they vanish with it."""
    name = connection.settings_dict["NAME"]
    owner, runtime = f"{name}_owner", f"{name}_app"
    if connection.vendor == "postgresql":
        # Rows the suite's fixtures put back in this transaction (after an earlier transactional
        # test emptied the tables) leave deferred foreign-key checks pending, and PostgreSQL
        # refuses to change a table's owner while they are: run them now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    db_roles.apply(connection, owner=owner, runtime=runtime, reassign=True)
    return owner, runtime


def as_role(role: str, sql: str, params=()) -> bool:
    """True if ``role`` may run ``sql`` (in a savepoint, so the test can go on)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            cursor.execute(sql, params)
    except DatabaseError:
        return False
    return True


@postgresql_only
def test_the_runtime_role_can_only_append_to_the_audit_log(roles, make_user, agency):
    _owner, runtime = roles
    actor = make_user(Role.CASE_WORKER, agency=agency)
    for _ in range(3):
        services.record(actor, Action.READ, object_type="people.person", object_id="x")
    for sql in (
        "UPDATE audit_event SET purpose = 'changed'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "TRUNCATE audit_chain_head",
        "DELETE FROM audit_chain_head",
        "DELETE FROM audit_subject",
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
        "DROP TRIGGER audit_event_append_only ON audit_event",
        "ALTER TABLE audit_chain_head DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
    ):
        assert not as_role(runtime, sql), sql
    # The head's only writable columns still refuse to go back (the trigger stays in force).
    assert not as_role(runtime, "UPDATE audit_chain_head SET last_seq = 1")
    assert as_role(runtime, "SELECT count(*) FROM audit_event")
    assert AuditEvent.objects.count() == 3
    # Nor can it become the owner (SET ROLE is checked against the server's login, so ask).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [runtime, _owner])
        assert cursor.fetchone()[0] is False


@postgresql_only
def test_the_application_still_records_as_the_runtime_role(roles, make_user, agency):
    _owner, runtime = roles
    actor = make_user(Role.CASE_WORKER, agency=agency)
    services.record(actor, Action.READ, object_type="people.person", object_id="x")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(runtime)}")
        event = services.record(actor, Action.READ, object_type="people.person", object_id="y")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == runtime
    assert event.seq == 2
    assert services.verify_chain().ok


@postgresql_only
def test_the_command_prints_the_sql_by_default(db):
    out = StringIO()
    call_command("db", "roles", "--owner", "o_role", "--runtime", "r_role", stdout=out)
    text = out.getvalue()
    assert 'GRANT SELECT, INSERT ON "public"."audit_event" TO "r_role";' in text
    assert 'REVOKE "o_role" FROM "r_role";' in text
    assert not db_roles.role_exists(connection, "r_role")  # printed, not run


def test_the_command_refuses_other_databases_or_one_role(db):
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError):
            call_command("db", "roles", stdout=StringIO())
    else:
        with pytest.raises(CommandError):
            call_command("db", "roles", "--owner", "same", "--runtime", "same", stdout=StringIO())
