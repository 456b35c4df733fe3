"""Query counts that tests pin and that differ between the two databases."""

from django.db import connection

# One audit append: on PostgreSQL the head lock and ONE statement for the events, their
# subjects and the head's move (``audit.services._write_in_one_statement``); on SQLite the
# head, the events, the subjects and the head's update.
AUDIT_APPEND_QUERIES = 2 if connection.vendor == "postgresql" else 4
