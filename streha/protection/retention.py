"""Applying retention: the loop every record type shares (the rules stay in each app)."""

from collections.abc import Callable

from django.db.models import Model, QuerySet


def apply_in_batches(
    due: Callable[[], QuerySet], act: Callable[[Model], object], *, batch: int = 500
) -> int:
    """Call ``act`` on every record ``due()`` returns, a batch at a time; ``act`` commits each
    record on its own, so an interrupted run loses nothing and simply resumes. Returns how many."""
    done = 0
    while True:
        chunk = list(due().order_by("pk")[:batch])
        if not chunk:
            return done
        for record in chunk:
            act(record)
            done += 1
