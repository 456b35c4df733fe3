"""Declares the deduplication job kind (found by streha.jobs when Django starts)."""

from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.jobs.registry import job_kind
from streha.jobs.services import JobContext, JobError

KIND = "linkage.deduplicate"


def _may_start(user, params: dict) -> bool:
    return policy.can_run_deduplication(user)


@job_kind(KIND, label=_("Find duplicate persons"), may_start=_may_start)
def deduplicate(ctx: JobContext) -> dict:
    """Read, train, score, store; progress is the share of persons read, then the steps."""
    from streha.linkage import services

    def progress(done: int, total: int) -> None:
        ctx.progress(done, total + total // 4)
        ctx.raise_if_cancelled()

    try:
        model = services.run_deduplication(
            reason=f"deduplication job {ctx.job.public_id}",
            progress=progress,
            job=ctx.job,
            retrain=bool(ctx.params.get("retrain")),
        )
    except services.LinkageUnavailable as exc:
        raise JobError(exc.messages[0]) from exc
    except MemoryError as exc:
        raise JobError(str(_("The run needs more memory than it may use."))) from exc
    return {
        "persons": model.persons,
        "pairs": model.pairs,
        "model": model.pk,
        "trained": model.trained,
        "seconds": model.timings,
        "writes": getattr(model, "writes", {}),
    }
