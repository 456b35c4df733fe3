"""How long appends wait for the audit chain head, and how long they hold it (issue 17).

Every event is chained under one row lock (``services._append``): whatever serialises requests
under load shows here first. The wait is from asking for the lock to having it; the hold is from
having it to the commit that releases it (observed after the commit, so a rolled-back append is
not counted). Both are Prometheus histograms, summed over the server's worker processes
(``/metrics``), which ``bench/load.py`` reads before and after each step of users.
"""

import time

from django.db import transaction
from prometheus_client import Histogram

# From a tenth of a millisecond (no other appender) to seconds (a queue behind the lock).
BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
HEAD_WAIT = Histogram(
    "streha_audit_head_wait_seconds",
    "Time an audit append waited for the chain head lock.",
    buckets=BUCKETS,
)
HEAD_HELD = Histogram(
    "streha_audit_head_held_seconds",
    "Time from taking the audit chain head lock to the commit that released it.",
    buckets=BUCKETS,
)


def locked(asked_at: float) -> None:
    """Record a wait that began at ``asked_at`` (``time.perf_counter``) and ended now, and time
    the hold until the surrounding transaction commits."""
    taken_at = time.perf_counter()
    HEAD_WAIT.observe(taken_at - asked_at)
    transaction.on_commit(lambda: HEAD_HELD.observe(time.perf_counter() - taken_at))
