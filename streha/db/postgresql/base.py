"""Django's PostgreSQL backend, refusing to report a commit that did not happen.

PostgreSQL answers COMMIT on a transaction that an earlier error aborted with a rollback, not
an error, and psycopg returns normally. Code that catches a database error inside a request's
transaction without a savepoint (``transaction.atomic()`` around what may fail) would then send
"201 Created" for a write the database threw away: an acknowledged write lost, which
``make faults`` met once while the disk was full. Here such a commit raises
``TransactionAborted``, an ``OperationalError``: Django's atomic block rolls back and the
request answers 503 "nothing you sent was stored" (``streha.ops.unavailable``), as for any
database failure, so a client knows to send it again.
"""

from django.db import OperationalError
from django.db.backends.postgresql import base
from psycopg import pq


class TransactionAborted(OperationalError):
    """A commit asked of a transaction an earlier database error had already aborted."""


class DatabaseWrapper(base.DatabaseWrapper):
    def _commit(self):
        if (
            self.connection is not None
            and self.connection.info.transaction_status == pq.TransactionStatus.INERROR
        ):
            raise TransactionAborted(
                "The transaction was aborted by an earlier database error; nothing of it was "
                "stored."
            )
        return super()._commit()
