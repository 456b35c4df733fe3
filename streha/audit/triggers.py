"""Database triggers that make the audit tables append-only for every client, not just the ORM.

Migration 0002 installs them; ``install``/``uninstall`` are idempotent. Changing the SQL here
changes what *new* databases get only: ship the change with a new migration that calls
``install`` again, so existing databases are brought up to date too.

Both vendors raise an integrity error (SQLite ``RAISE(ABORT)``, PostgreSQL SQLSTATE 23001
``restrict_violation``), which Django surfaces as ``django.db.IntegrityError`` on both.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

EVENT_TABLE = "audit_event"
HEAD_TABLE = "audit_chain_head"
SUBJECT_TABLE = "audit_subject"

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
    # INSERT OR REPLACE (and REPLACE INTO) deletes the conflicting row without firing DELETE
    # triggers (recursive_triggers is off), so a replacement must be refused at INSERT: an
    # event may only be inserted after the head, never over an existing row, and the head
    # row is inserted once.
    "audit_event_insert_after_head": """
        CREATE TRIGGER audit_event_insert_after_head BEFORE INSERT ON audit_event
        WHEN NEW.seq <= COALESCE((SELECT last_seq FROM audit_chain_head WHERE id = 1), 0)
          OR EXISTS (SELECT 1 FROM audit_event
                     WHERE id = NEW.id OR seq = NEW.seq OR hash = NEW.hash)
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: INSERT over the chain refused');
        END
    """,
    "audit_chain_head_insert_once": """
        CREATE TRIGGER audit_chain_head_insert_once BEFORE INSERT ON audit_chain_head
        WHEN EXISTS (SELECT 1 FROM audit_chain_head)
        BEGIN SELECT RAISE(ABORT, 'audit_chain_head exists: INSERT or REPLACE refused'); END
    """,
    "audit_subject_no_update": f"""
        CREATE TRIGGER audit_subject_no_update BEFORE UPDATE ON {SUBJECT_TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_subject is append-only: UPDATE refused'); END
    """,
    "audit_subject_no_delete": f"""
        CREATE TRIGGER audit_subject_no_delete BEFORE DELETE ON {SUBJECT_TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit_subject is append-only: DELETE refused'); END
    """,
    "audit_subject_insert_once": """
        CREATE TRIGGER audit_subject_insert_once BEFORE INSERT ON audit_subject
        WHEN EXISTS (SELECT 1 FROM audit_subject WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'audit_subject is append-only: REPLACE refused'); END
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
    "audit_event_insert_after_head": """
        CREATE OR REPLACE FUNCTION audit_event_insert_after_head() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.seq <= COALESCE((SELECT last_seq FROM audit_chain_head WHERE id = 1), 0) THEN
                RAISE EXCEPTION USING
                    MESSAGE = TG_TABLE_NAME || ' is append-only: INSERT over the chain refused',
                    ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
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
    (
        "audit_event_insert_after_head",
        EVENT_TABLE,
        f"CREATE TRIGGER audit_event_insert_after_head BEFORE INSERT ON {EVENT_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_insert_after_head()",
    ),
    (
        "audit_subject_append_only",
        SUBJECT_TABLE,
        f"CREATE TRIGGER audit_subject_append_only BEFORE UPDATE OR DELETE ON {SUBJECT_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    ),
    (
        "audit_subject_no_truncate",
        SUBJECT_TABLE,
        f"CREATE TRIGGER audit_subject_no_truncate BEFORE TRUNCATE ON {SUBJECT_TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
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


_ON_TABLE = re.compile(r" ON (\w+)")


def _sqlite_table(sql: str) -> str:
    return _ON_TABLE.search(sql)[1]


def _existing_tables(connection) -> set[str]:
    # Migration 0002 installs the triggers before 0003 creates the subject table: each
    # migration installs what its tables allow, and 0003 installs again.
    return set(connection.introspection.table_names()) & {EVENT_TABLE, HEAD_TABLE, SUBJECT_TABLE}


def _sqlite_triggers(connection) -> dict[str, str]:
    tables = _existing_tables(connection)
    return {name: sql for name, sql in _SQLITE_TRIGGERS.items() if _sqlite_table(sql) in tables}


def _postgresql_triggers(connection) -> list[tuple[str, str, str]]:
    tables = _existing_tables(connection)
    return [trigger for trigger in _POSTGRESQL_TRIGGERS if trigger[1] in tables]


def install(connection) -> None:
    """Create (or re-create) the triggers on ``connection``'s database."""
    _check_vendor(connection)
    uninstall(connection, keep_functions=True)
    if connection.vendor == "sqlite":
        _execute(connection, list(_sqlite_triggers(connection).values()))
    else:
        _execute(connection, list(_POSTGRESQL_FUNCTIONS.values()))
        _execute(connection, [sql for _name, _table, sql in _postgresql_triggers(connection)])


def uninstall(connection, *, keep_functions: bool = False) -> None:
    """Drop the triggers (and, unless told otherwise, PostgreSQL's trigger functions)."""
    _check_vendor(connection)
    if connection.vendor == "sqlite":
        _execute(connection, [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS])
        return
    _execute(
        connection,
        [
            f"DROP TRIGGER IF EXISTS {name} ON {table}"
            for name, table, _sql in _postgresql_triggers(connection)
        ],
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
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN (%s, %s, %s)",
                [EVENT_TABLE, HEAD_TABLE, SUBJECT_TABLE],
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid IN (to_regclass(%s), to_regclass(%s), to_regclass(%s))",
                [EVENT_TABLE, HEAD_TABLE, SUBJECT_TABLE],
            )
        return {row[0] for row in cursor.fetchall()}


def expected(connection) -> set[str]:
    """Names ``installed`` returns when every trigger is in place."""
    _check_vendor(connection)
    if connection.vendor == "sqlite":
        return set(_sqlite_triggers(connection))
    return {name for name, _table, _sql in _postgresql_triggers(connection)}


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
