"""Database triggers that make the audit tables append-only for every client, not just the ORM.

Migration 0002 installs them; ``install``/``uninstall`` are idempotent. Changing the SQL here
changes what *new* databases get only: ship the change with a new migration that calls
``install`` again, so existing databases are brought up to date too.

Both vendors raise an integrity error (SQLite ``RAISE(ABORT)``, PostgreSQL SQLSTATE 23001
``restrict_violation``), which Django surfaces as ``django.db.IntegrityError`` on both.
"""

from collections.abc import Iterator
from contextlib import contextmanager

EVENT_TABLE = "audit_event"
HEAD_TABLE = "audit_chain_head"

_SQLITE_TRIGGERS = {
    "audit_event_no_update": f"""
        CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {EVENT_TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END
    """,
    "audit_event_no_delete": f"""
        CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {EVENT_TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END
    """,
    "audit_chain_head_no_delete": f"""
        CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON {HEAD_TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END
    """,
    "audit_chain_head_forward_only": f"""
        CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON {HEAD_TABLE}
        WHEN NEW.id <> OLD.id OR NEW.last_seq <= OLD.last_seq
        BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward'); END
    """,
}

# No "%" anywhere: the SQL must pass unchanged through drivers that format parameters.
_POSTGRESQL_FUNCTIONS = {
    "audit_refuse_change": """
        CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING
                MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused',
                ERRCODE = 'restrict_violation';
        END
        $$
    """,
    "audit_head_forward_only": """
        CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF NEW.id = OLD.id AND NEW.last_seq > OLD.last_seq THEN
                    RETURN NEW;
                END IF;
            END IF;
            RAISE EXCEPTION USING
                MESSAGE = TG_TABLE_NAME || ' only moves forward: ' || TG_OP || ' refused',
                ERRCODE = 'restrict_violation';
        END
        $$
    """,
}
# (trigger name, table, SQL)
_POSTGRESQL_TRIGGERS = [
    (
        "audit_event_append_only",
        EVENT_TABLE,
        f"CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON {EVENT_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    ),
    (
        "audit_event_no_truncate",
        EVENT_TABLE,
        f"CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {EVENT_TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    ),
    (
        "audit_chain_head_forward_only",
        HEAD_TABLE,
        f"CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE OR DELETE ON {HEAD_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()",
    ),
    (
        "audit_chain_head_no_truncate",
        HEAD_TABLE,
        f"CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON {HEAD_TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()",
    ),
]


class UnsupportedDatabase(Exception):
    pass


def _execute(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _check_vendor(connection) -> None:
    if connection.vendor not in ("sqlite", "postgresql"):
        raise UnsupportedDatabase(
            f"No append-only triggers for {connection.vendor}; add them in streha.audit.triggers."
        )


def install(connection) -> None:
    """Create (or re-create) the triggers on ``connection``'s database."""
    _check_vendor(connection)
    uninstall(connection, keep_functions=True)
    if connection.vendor == "sqlite":
        _execute(connection, list(_SQLITE_TRIGGERS.values()))
    else:
        _execute(connection, list(_POSTGRESQL_FUNCTIONS.values()))
        _execute(connection, [sql for _name, _table, sql in _POSTGRESQL_TRIGGERS])


def uninstall(connection, *, keep_functions: bool = False) -> None:
    """Drop the triggers (and, unless told otherwise, PostgreSQL's trigger functions)."""
    _check_vendor(connection)
    if connection.vendor == "sqlite":
        _execute(connection, [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS])
        return
    _execute(
        connection,
        [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table, _sql in _POSTGRESQL_TRIGGERS],
    )
    if not keep_functions:
        drops = [f"DROP FUNCTION IF EXISTS {name}()" for name in _POSTGRESQL_FUNCTIONS]
        _execute(connection, drops)


def installed(connection) -> set[str]:
    """Names of the audit triggers present in ``connection``'s database."""
    _check_vendor(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                [EVENT_TABLE, HEAD_TABLE],
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid IN (to_regclass(%s), to_regclass(%s))",
                [EVENT_TABLE, HEAD_TABLE],
            )
        return {row[0] for row in cursor.fetchall()}


def expected(connection) -> set[str]:
    """Names ``installed`` returns when every trigger is in place."""
    _check_vendor(connection)
    if connection.vendor == "sqlite":
        return set(_SQLITE_TRIGGERS)
    return {name for name, _table, _sql in _POSTGRESQL_TRIGGERS}


@contextmanager
def suspended(connection) -> Iterator[None]:
    """Drop the triggers for the duration of the block, then put them back (even on error).

    For wiping a whole database (``flush``), never for editing events.
    """
    uninstall(connection, keep_functions=True)
    try:
        yield
    finally:
        install(connection)
