"""Create the chain head row and make the audit tables append-only in the database itself.

The triggers' SQL lives in ``streha.audit.triggers`` (shared with the ``flush`` override); it is
vendor-specific, hence RunPython that looks at ``schema_editor.connection.vendor`` rather than
RunSQL. SQLite and PostgreSQL are supported; any other database stops the migration rather than
run without the protection.
"""

from django.db import migrations

from streha.audit import triggers

ZERO_HASH = "0" * 64


def create_head(apps, schema_editor):
    head = apps.get_model("audit", "AuditChainHead")
    head.objects.using(schema_editor.connection.alias).get_or_create(
        id=1, defaults={"last_seq": 0, "last_hash": ZERO_HASH}
    )


def delete_head(apps, schema_editor):
    # Runs after the triggers are gone (operations reverse in reverse order).
    head = apps.get_model("audit", "AuditChainHead")
    head.objects.using(schema_editor.connection.alias).filter(id=1).delete()


def install_triggers(apps, schema_editor):
    triggers.install(schema_editor.connection)


def uninstall_triggers(apps, schema_editor):
    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, delete_head),
        migrations.RunPython(install_triggers, uninstall_triggers),
    ]
