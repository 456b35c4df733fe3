"""Starting, running, cancelling and rerunning background jobs: the one way to run long work.

Other apps use three names: ``start_job(kind, user, params)`` (returns the ``Job``; the worker
runs it), ``JobContext`` (what a job body receives) and ``JobError`` (a failure whose message
the starter may read). See ``streha.jobs.registry`` for declaring a kind.

A running job renews its lease (``heartbeat_at``) whenever it reports progress. A job whose
lease ran out (its worker was killed, the machine stopped) is marked failed the next time
anyone looks (``expire_stale_jobs``: the worker at each task, the job pages at each poll), so no
job shows "running" forever; a failed job can be run again, and a job body writes in atomic
batches and records its ``checkpoint`` in the same transaction, so a rerun carries on after
the last whole batch and writes nothing twice.
"""

import json
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from streha.accounts.models import User
from streha.audit import read_context
from streha.jobs import registry
from streha.jobs.models import Job, JobState

logger = logging.getLogger("streha.jobs")

__all__ = [
    "JobCancelled",
    "JobContext",
    "JobError",
    "JobLost",
    "WorkerStopping",
    "cancel_job",
    "discard_job",
    "execute_job",
    "expire_stale_jobs",
    "rerun_job",
    "start_job",
    "stop_between_batches",
]


def lease_seconds() -> int:
    return int(getattr(settings, "STREHA_JOB_LEASE_SECONDS", 120))


class JobError(Exception):
    """The job cannot go on; the message (translated, no personal data) is shown to the
    starter."""


class JobCancelled(Exception):
    """The starter asked the job to stop."""


class JobLost(Exception):
    """This attempt no longer owns the job (its lease expired and it was marked failed)."""


class WorkerStopping(Exception):
    """The worker was asked to stop: the job goes back to the queue after its last whole
    batch, and the next worker carries on from there."""


_stopping = False


def stop_between_batches(stop: bool = True) -> None:
    """Called by the worker on SIGTERM/SIGINT: running jobs stop at their next batch."""
    global _stopping
    _stopping = stop


class JobContext:
    """What a job body receives: its parameters, and the means to report progress."""

    def __init__(self, job: Job):
        self.job = job
        self.attempt = job.attempts

    @property
    def params(self) -> dict:
        return self.job.params

    @property
    def checkpoint(self) -> dict:
        return self.job.checkpoint

    def starter(self, may: Callable[[User], bool] | None = None) -> User:
        """The person who started the job, checked again now that the job runs.

        A job may wait in the queue, or be rerun days later: by then its starter may have left
        (deactivated or deleted) or lost the role that let them start it. Work done for them
        must stop, with a message they can read, instead of running on a permission they no
        longer hold. ``may(user)`` is the kind's own permission check, asked again here.
        """
        user = self.job.started_by
        if user is None or not user.is_active:
            raise JobError(_("The person who started this job can no longer sign in."))
        if may is not None and not may(user):
            raise JobError(_("You are not allowed to do this."))
        return user

    def _mine(self):
        return Job.objects.filter(pk=self.job.pk, state=JobState.RUNNING, attempts=self.attempt)

    def progress(self, done: int, total: int | None = None, *, checkpoint: Mapping | None = None):
        """Record progress (and renew the lease). Called inside a batch's transaction, the
        progress and checkpoint are committed with the batch or not at all."""
        changes: dict[str, Any] = {"done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            changes["total"] = total
        if checkpoint is not None:
            changes["checkpoint"] = dict(checkpoint)
        if not self._mine().update(**changes):
            raise JobLost(str(self.job.public_id))
        for name, value in changes.items():
            setattr(self.job, name, value)

    def step_counter(self, total: int) -> Callable[[], None]:
        """Report 0 of ``total`` steps now, and return the function a job made of many small
        steps calls after each: it counts the step, stops the job there if it was cancelled,
        and records the progress (never past ``total``)."""
        self.progress(0, total)
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            self.raise_if_cancelled()
            self.progress(min(done, total))

        return step

    def heartbeat(self) -> None:
        if not self._mine().update(heartbeat_at=timezone.now()):
            raise JobLost(str(self.job.public_id))

    def raise_if_cancelled(self) -> None:
        """Stop here if the starter asked to cancel or the worker is stopping (call between
        batches)."""
        if _stopping:
            raise WorkerStopping(str(self.job.public_id))
        state = self._mine().values_list("cancel_requested", flat=True).first()
        if state is None:
            raise JobLost(str(self.job.public_id))
        if state:
            raise JobCancelled(str(self.job.public_id))


# --- Starting ----------------------------------------------------------------------------------


def _json_safe(params: Mapping) -> dict:
    try:
        return json.loads(json.dumps(dict(params)))
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("The job's parameters are not valid.")) from exc


def _enqueue(job: Job) -> None:
    """Put the job on the task queue. On the database queue this happens in the caller's
    transaction (the job and its queue entry are stored together or not at all); on another
    broker, after the commit, so the worker never sees a job that does not exist yet."""
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    from streha.jobs.tasks import run_job

    def enqueue() -> None:
        result = run_job.enqueue(str(job.public_id))
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
        job.task_id = str(result.id)

    if isinstance(task_backends[run_job.backend], DatabaseBackend):
        enqueue()
    else:
        transaction.on_commit(enqueue)


def start_job(
    kind: str,
    user: User | None,
    params: Mapping | None = None,
    *,
    agency=None,
) -> Job:
    """Queue a job of ``kind`` started by ``user`` (None: the system, e.g. a schedule)."""
    job_kind = registry.get(kind)
    params = _json_safe(params or {})
    if user is not None and job_kind.may_start is not None and not job_kind.may_start(user, params):
        raise PermissionDenied(_("You are not allowed to do this."))
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            started_by=user,
            agency=agency if agency is not None else getattr(user, "agency", None),
            language=translation.get_language() or settings.LANGUAGE_CODE,
            params=params,
        )
        _enqueue(job)
    return job


# --- Running (in the worker) ---------------------------------------------------------------------


def _cleanup(job: Job) -> None:
    kind = registry.kinds().get(job.kind)
    if job.cleaned_up_at is not None:
        return
    if kind is not None and kind.cleanup is not None:
        kind.cleanup(job)
    Job.objects.filter(pk=job.pk).update(cleaned_up_at=timezone.now())
    job.cleaned_up_at = timezone.now()


def _finish(job: Job, attempt: int, state: str, *, result=None, error: str = "") -> bool:
    changes: dict[str, Any] = {"state": state, "finished_at": timezone.now(), "error": error}
    if result is not None:
        changes["result"] = result
    if state == JobState.SUCCEEDED and job.total is not None:
        changes["done"] = job.total
    updated = Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=attempt).update(
        **changes
    )
    if updated:
        for name, value in changes.items():
            setattr(job, name, value)
    return bool(updated)


def execute_job(public_id: str) -> str:
    """Run one queued job to its end; returns the state it ended in. The task calls this."""
    expire_stale_jobs()
    now = timezone.now()
    claimed = Job.objects.filter(public_id=public_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    job = Job.objects.filter(public_id=public_id).first()
    if job is None or not claimed:
        return job.state if job is not None else "missing"
    attempt = job.attempts
    ctx = JobContext(job)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            job_kind = registry.get(job.kind)
            if job.cancel_requested:
                raise JobCancelled(public_id)
            # A job works for the person who started it, outside any request: what it decrypts
            # (an uploaded file, the records it updates) is read inside one audited system read
            # naming the job (streha/audit/read_context.py).
            with read_context.system(f"background job: {job.kind}", actor=job.started_by, obj=job):
                result = job_kind.run(ctx) or {}
        except JobCancelled:
            if _finish(job, attempt, JobState.CANCELLED):
                _cleanup(job)
        except JobLost:
            logger.warning("job %s lost its lease and stopped", public_id)
        except WorkerStopping:
            requeued = Job.objects.filter(
                pk=job.pk, state=JobState.RUNNING, attempts=attempt
            ).update(state=JobState.QUEUED)
            if requeued:
                job.state = JobState.QUEUED
                _enqueue(job)
            logger.info("job %s goes back to the queue: the worker is stopping", public_id)
        except JobError as exc:
            _finish(job, attempt, JobState.FAILED, error=str(exc))
        except registry.UnknownJobKind:
            _finish(job, attempt, JobState.FAILED, error=_("This kind of job no longer exists."))
        except Exception as exc:
            # Only the exception's class: its message may quote data (a database error does).
            logger.error("job %s (%s) failed: %s", public_id, job.kind, type(exc).__name__)
            _finish(
                job,
                attempt,
                JobState.FAILED,
                error=_(
                    "The job stopped because of an internal error. Run it again; if it fails "
                    "again, tell the system administrator (job %(id)s)."
                )
                % {"id": public_id},
            )
        else:
            if _finish(job, attempt, JobState.SUCCEEDED, result=_json_safe(result)):
                _cleanup(job)
    return job.state


def expire_stale_jobs(now=None) -> int:
    """Mark failed every running job whose lease ran out, and clean up failed jobs kept past
    ``STREHA_JOB_KEEP_FAILED_HOURS`` (their files are deleted; they can no longer be rerun)."""
    now = now or timezone.now()
    stale = list(
        Job.objects.filter(
            state=JobState.RUNNING, heartbeat_at__lt=now - timedelta(seconds=lease_seconds())
        )
    )
    for job in stale:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            message = _(
                "The job stopped without finishing (the worker running it stopped). Whole "
                "batches already written are kept; run it again to finish."
            )
        updated = Job.objects.filter(
            pk=job.pk, state=JobState.RUNNING, attempts=job.attempts
        ).update(state=JobState.FAILED, finished_at=now, error=message)
        if updated and job.task_id:
            _fail_queue_entry(job.task_id, now)
    keep = timedelta(hours=int(getattr(settings, "STREHA_JOB_KEEP_FAILED_HOURS", 72)))
    for job in Job.objects.filter(
        state=JobState.FAILED, cleaned_up_at__isnull=True, finished_at__lt=now - keep
    ):
        _cleanup(job)
    return len(stale)


def _fail_queue_entry(task_id: str, now) -> None:
    """The queue entry of a dead worker's task says "running" forever too; close it."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another broker: it has its own way of noticing dead workers
        return
    DBTaskResult.objects.filter(id=task_id, status__in=["READY", "RUNNING"]).update(
        status="FAILED", finished_at=now
    )


# --- What the starter can do ---------------------------------------------------------------------


def _require_owner(user: User, job: Job) -> None:
    from streha.access import policy

    if job.started_by_id != user.pk and not policy.is_system_admin(user):
        raise PermissionDenied(_("You are not allowed to do this."))


@transaction.atomic
def cancel_job(user: User, job: Job) -> Job:
    """A waiting job is cancelled at once; a running one stops before its next batch (the
    batches it already wrote stay)."""
    _require_owner(user, job)
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.is_final:
        raise ValidationError(_("This job is already over."))
    if job.state == JobState.QUEUED:
        job.state = JobState.CANCELLED
        job.finished_at = timezone.now()
        job.cancel_requested = True
        job.save(update_fields=["state", "finished_at", "cancel_requested"])
        _cleanup(job)
    else:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
    return job


@transaction.atomic
def rerun_job(user: User, job: Job) -> Job:
    """Queue a failed job again; it carries on from its last whole batch."""
    _require_owner(user, job)
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.state != JobState.FAILED or job.cleaned_up_at is not None:
        raise ValidationError(_("Only a failed job can be run again, and only while it is kept."))
    job.state = JobState.QUEUED
    job.error = ""
    job.finished_at = None
    job.cancel_requested = False
    job.save(update_fields=["state", "error", "finished_at", "cancel_requested"])
    _enqueue(job)
    return job


@transaction.atomic
def discard_job(user: User, job: Job) -> Job:
    """Give up a failed job: what it keeps for a rerun (an uploaded file) is deleted now."""
    _require_owner(user, job)
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.state != JobState.FAILED:
        raise ValidationError(_("Only a failed job can be discarded."))
    _cleanup(job)
    return job
