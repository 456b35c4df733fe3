"""PostgreSQL roles that keep the running application from rewriting its own audit log.

Triggers refuse UPDATE, DELETE and TRUNCATE on the audit tables, but the owner of a table may
drop or disable its triggers. So the application must not run as the owner:

- the **migration owner** (e.g. ``streha_owner``) owns every table; migrations run as it;
- the **runtime role** (e.g. ``streha_app``) is what the web server and worker connect as: it
  may read and write the application's tables but only SELECT and INSERT the audit events and
  their subject index, and move the chain head forward (UPDATE of its two columns, checked by
  the forward-only trigger). Not being the owner, it cannot drop or disable triggers; not being
  a superuser, it cannot set ``session_replication_role`` to skip them.

``statements()`` gives the SQL (idempotent; run it again after each migration so new tables
are granted); ``streha db roles`` prints it or applies it. What this does not defend against:
a database superuser, or whoever holds the owner's password, can still rewrite the tables;
the signed checkpoints (``streha.audit.checkpoints``) are what detects that.
"""

from streha.audit import triggers

APPEND_ONLY_TABLES = (triggers.EVENT_TABLE, triggers.SUBJECT_TABLE)
HEAD_TABLE = triggers.HEAD_TABLE
HEAD_COLUMNS = ("last_seq", "last_hash")


def role_exists(connection, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        return cursor.fetchone() is not None


def statements(
    connection, *, owner: str, runtime: str, reassign: bool = False, schema: str = "public"
) -> list[str]:
    """The SQL that sets up (or brings up to date) the two roles on ``connection``'s database."""
    if connection.vendor != "postgresql":
        raise ValueError("Database roles are for PostgreSQL.")
    if owner == runtime:
        raise ValueError("The migration owner and the runtime role must differ.")
    q = connection.ops.quote_name
    database = connection.settings_dict["NAME"]
    tables = sorted(connection.introspection.table_names())
    sql: list[str] = []
    for role in (owner, runtime):
        if not role_exists(connection, role):
            sql.append(f"CREATE ROLE {q(role)} NOLOGIN")
    # Neither role may bypass the triggers; the runtime role may not become the owner.
    restrictions = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    sql.append(f"ALTER ROLE {q(owner)} {restrictions}")
    sql.append(f"ALTER ROLE {q(runtime)} {restrictions}")
    sql.append(f"REVOKE {q(owner)} FROM {q(runtime)}")
    if reassign:
        sql.append(f"ALTER SCHEMA {q(schema)} OWNER TO {q(owner)}")
        sql.extend(f"ALTER TABLE {q(schema)}.{q(table)} OWNER TO {q(owner)}" for table in tables)
    sql += [
        f"GRANT CONNECT ON DATABASE {q(database)} TO {q(runtime)}",
        f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(runtime)}",
        f"REVOKE CREATE ON SCHEMA {q(schema)} FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA {q(schema)} FROM {q(runtime)}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {q(schema)} TO {q(runtime)}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {q(runtime)}",
        # Tables created by later migrations are granted to the runtime role as they appear.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {q(runtime)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {q(runtime)}",
    ]
    for table in APPEND_ONLY_TABLES:
        if table in tables:
            sql.append(f"REVOKE ALL ON {q(schema)}.{q(table)} FROM {q(runtime)}, PUBLIC")
            sql.append(f"GRANT SELECT, INSERT ON {q(schema)}.{q(table)} TO {q(runtime)}")
    if HEAD_TABLE in tables:
        columns = ", ".join(q(column) for column in HEAD_COLUMNS)
        sql.append(f"REVOKE ALL ON {q(schema)}.{q(HEAD_TABLE)} FROM {q(runtime)}, PUBLIC")
        sql.append(f"GRANT SELECT, INSERT ON {q(schema)}.{q(HEAD_TABLE)} TO {q(runtime)}")
        sql.append(f"GRANT UPDATE ({columns}) ON {q(schema)}.{q(HEAD_TABLE)} TO {q(runtime)}")
    return sql


def apply(connection, **options) -> list[str]:
    """Run ``statements(**options)`` on ``connection`` in one transaction; returns them."""
    from django.db import transaction

    sql = statements(connection, **options)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)
    return sql
