"""The kinds of background job the system knows, declared by the apps that own the work.

An app declares a kind in its own ``jobs.py`` (found when Django starts)::

    from streha.jobs.registry import job_kind

    @job_kind("retention.apply", label=_("Apply retention periods"))
    def apply_retention(ctx: JobContext) -> dict:
        ...
        return {"anonymised": count}

The function receives a ``JobContext`` (parameters, progress, cancellation, checkpoint) and
returns a small JSON result (counts and opaque ids only). ``may_start(user, params)`` says who
may start it from a page (system jobs started by commands or schedules pass ``user=None``);
``cleanup(job)`` runs once when the job is over for good (finished, cancelled or discarded),
for example to delete an uploaded file.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streha.jobs.models import Job
    from streha.jobs.services import JobContext


@dataclass(frozen=True)
class JobKind:
    name: str
    label: Any
    run: "Callable[[JobContext], dict]"
    may_start: Callable[[Any, dict], bool] | None = None
    cleanup: "Callable[[Job], None] | None" = None
    # Where the job's page links to for its outcome (a URL name taking the job's public_id).
    result_url_name: str = ""


_KINDS: dict[str, JobKind] = {}


class UnknownJobKind(LookupError):
    pass


def register(kind: JobKind) -> JobKind:
    if kind.name in _KINDS and _KINDS[kind.name].run is not kind.run:
        raise ValueError(f"Job kind {kind.name!r} is registered twice.")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def job_kind(
    name: str,
    *,
    label,
    may_start: Callable[[Any, dict], bool] | None = None,
    cleanup: "Callable[[Job], None] | None" = None,
    result_url_name: str = "",
):
    """Decorator declaring ``func`` as the body of job kind ``name``."""

    def decorate(func):
        register(
            JobKind(
                name=name,
                label=label,
                run=func,
                may_start=may_start,
                cleanup=cleanup,
                result_url_name=result_url_name,
            )
        )
        return func

    return decorate


def get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownJobKind(name) from None


def kinds() -> dict[str, JobKind]:
    return dict(_KINDS)
