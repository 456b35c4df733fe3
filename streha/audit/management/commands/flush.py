"""``flush`` that can still empty the audit tables (it overrides Django's command of that name).

The append-only triggers refuse DELETE (SQLite's flush) and TRUNCATE (PostgreSQL's), so Django's
own flush, which the test runner calls after every transactional test, would fail as soon as an
audit event exists. Wiping the *whole* database is not tampering with the log (an operator who may
do that can also delete the database file), so flush drops the triggers, empties every table
and puts the triggers back, all in one transaction where the database allows it.
"""

from django.core.management.commands import flush
from django.db import connections, transaction

from streha.audit import triggers


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        tables = connection.introspection.table_names()
        if connection.vendor not in ("sqlite", "postgresql") or triggers.EVENT_TABLE not in tables:
            return super().handle(**options)
        with transaction.atomic(using=connection.alias), triggers.suspended(connection):
            return super().handle(**options)
