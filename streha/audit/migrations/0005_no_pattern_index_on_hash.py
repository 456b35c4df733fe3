"""The audit chain's hash is looked up whole (``audit verify``, a rolled-back read's check),
never by prefix: on PostgreSQL, Django's extra ``varchar_pattern_ops`` index beside the unique
one only cost every append one more insert at a random place in a large index (160 MB at
1,000,000 persons). Dropped; the unique index stays."""

from django.db import migrations

PATTERN_INDEXES = """
    SELECT indexname FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = 'audit_event'
      AND indexdef LIKE '%%varchar_pattern_ops%%'
"""


def drop_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PATTERN_INDEXES)
        for (name,) in cursor.fetchall():
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS audit_event_hash_like ON audit_event (hash varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_system_read_and_notify_actions")]

    operations = [migrations.RunPython(drop_pattern_index, restore_pattern_index)]
