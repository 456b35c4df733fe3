"""Background jobs: start, run, progress, cancel, a dead worker, rerun, and the job pages."""

import logging
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from streha.accounts.models import Role
from streha.jobs import registry, services
from streha.jobs.models import Job, JobState
from streha.places.models import Region

pytestmark = pytest.mark.django_db

WRITTEN_IN_BATCHES = "test.regions"
FAILING = "test.failing"
CRASHING = "test.crashing"
REFUSING = "test.refusing"
cleaned: list[str] = []


class SimulatedKill(BaseException):
    """What SIGKILL does to a worker: nothing after this point runs, the open transaction is
    rolled back by the database."""


def write_regions(ctx: services.JobContext) -> dict:
    """Writes ``count`` regions in batches of ``batch``, resuming from its checkpoint."""
    count, batch = ctx.params["count"], ctx.params["batch"]
    start = ctx.checkpoint.get("next", 0)
    ctx.progress(start, count)
    for first in range(start, count, batch):
        ctx.raise_if_cancelled()
        with transaction.atomic():
            for n in range(first, min(first + batch, count)):
                Region.objects.create(code=f"job-{n}", country="XK", name_sq=f"R{n}")
                if n == ctx.params.get("kill_at"):
                    raise SimulatedKill
            ctx.progress(min(first + batch, count), checkpoint={"next": first + batch})
        if ctx.params.get("cancel_after") == first:
            Job.objects.filter(pk=ctx.job.pk).update(cancel_requested=True)
    return {"written": count - start}


def failing(ctx):
    raise services.JobError("Nothing to do.")


def crashing(ctx):
    raise ValueError("Arta Krasniqi 1990-01-01")  # a message quoting data: never shown/logged


@pytest.fixture(autouse=True)
def kinds():
    registry.register(
        registry.JobKind(
            WRITTEN_IN_BATCHES,
            "Regions",
            write_regions,
            cleanup=lambda job: cleaned.append(str(job.public_id)),
        )
    )
    registry.register(registry.JobKind(FAILING, "Failing", failing))
    registry.register(registry.JobKind(CRASHING, "Crashing", crashing))
    registry.register(
        registry.JobKind(REFUSING, "Refusing", failing, may_start=lambda user, params: False)
    )
    cleaned.clear()
    yield
    for name in (WRITTEN_IN_BATCHES, FAILING, CRASHING, REFUSING):
        registry.unregister(name)


@pytest.fixture
def starter(make_user):
    return make_user(Role.CASE_WORKER)


@pytest.fixture
def run_worker(monkeypatch):
    # The worker closes stale connections between tasks; the test's connection holds the test
    # transaction, so it stays open here.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    return lambda: call_command("worker", "--batch", "--interval", "0")


def test_start_job_queues_the_job_and_its_task_together(starter):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 5, "batch": 2})
    assert job.state == JobState.QUEUED
    assert job.started_by == starter and job.agency == starter.agency
    assert DBTaskResult.objects.filter(id=job.task_id, status="READY").exists()


def test_the_worker_runs_a_job_in_batches_to_the_end(starter, run_worker):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 5, "batch": 2})
    run_worker()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (job.done, job.total, job.percent) == (5, 5, 100)
    assert job.result == {"written": 5}
    assert job.attempts == 1
    assert Region.objects.filter(code__startswith="job-").count() == 5
    assert cleaned == [str(job.public_id)]
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"


def test_a_job_error_fails_the_job_with_its_message(starter):
    job = services.start_job(FAILING, starter)
    services.execute_job(str(job.public_id))
    job.refresh_from_db()
    assert (job.state, job.error) == (JobState.FAILED, "Nothing to do.")


def test_an_unexpected_error_shows_and_logs_no_data(starter, caplog):
    job = services.start_job(CRASHING, starter)
    with caplog.at_level(logging.ERROR, logger="streha.jobs"):
        services.execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert str(job.public_id) in job.error
    assert "Krasniqi" not in job.error and "Krasniqi" not in caplog.text
    assert "ValueError" in caplog.text


def test_who_may_start_is_asked(starter):
    with pytest.raises(PermissionDenied):
        services.start_job(REFUSING, starter)
    assert not Job.objects.exists()


def test_parameters_must_be_plain_data(starter):
    with pytest.raises(ValidationError):
        services.start_job(WRITTEN_IN_BATCHES, starter, {"when": timezone.now()})


def test_a_waiting_job_is_cancelled_at_once_and_never_runs(starter):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 4, "batch": 2})
    services.cancel_job(starter, job)
    services.execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert not Region.objects.filter(code__startswith="job-").exists()
    assert cleaned == [str(job.public_id)]


def test_a_running_job_stops_before_its_next_batch_when_cancelled(starter):
    job = services.start_job(
        WRITTEN_IN_BATCHES, starter, {"count": 6, "batch": 2, "cancel_after": 0}
    )
    services.execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert job.done == 2
    assert Region.objects.filter(code__startswith="job-").count() == 2


def test_only_the_starter_may_cancel(starter, make_user):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 1, "batch": 1})
    with pytest.raises(PermissionDenied):
        services.cancel_job(make_user(Role.CASE_WORKER, agency=starter.agency), job)


def test_a_killed_worker_leaves_whole_batches_and_the_rerun_finishes_without_duplicates(
    starter, run_worker
):
    with translation.override("en"):  # a job writes its messages in its starter's language
        job = services.start_job(
            WRITTEN_IN_BATCHES, starter, {"count": 7, "batch": 3, "kill_at": 4}
        )
    with pytest.raises(SimulatedKill):
        services.execute_job(str(job.public_id))
    job.refresh_from_db()
    # The process died: the job still says "running" and only the first batch is stored.
    assert job.state == JobState.RUNNING
    assert Region.objects.filter(code__startswith="job-").count() == 3
    assert job.done == 3

    # Within its lease nothing changes; after it, the job is failed, not running forever.
    assert services.expire_stale_jobs(now=job.heartbeat_at + timedelta(seconds=60)) == 0
    later = job.heartbeat_at + timedelta(seconds=services.lease_seconds() + 1)
    assert services.expire_stale_jobs(now=later) == 1
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "run it again" in job.error
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"
    assert cleaned == []  # the failed job keeps what a rerun needs

    Job.objects.filter(pk=job.pk).update(params={"count": 7, "batch": 3})  # no second kill
    job.refresh_from_db()
    services.rerun_job(starter, job)
    run_worker()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2
    assert job.result == {"written": 4}
    codes = list(Region.objects.filter(code__startswith="job-").values_list("code", flat=True))
    assert sorted(codes) == sorted(f"job-{n}" for n in range(7))


def test_a_lost_attempt_cannot_overwrite_the_job(starter):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 2, "batch": 1})
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    ctx = services.JobContext(job)
    Job.objects.filter(pk=job.pk).update(state=JobState.FAILED)
    with pytest.raises(services.JobLost):
        ctx.progress(1, 2)


def test_only_failed_jobs_are_rerun_or_discarded(starter):
    job = services.start_job(FAILING, starter)
    with pytest.raises(ValidationError):
        services.rerun_job(starter, job)
    services.execute_job(str(job.public_id))
    job.refresh_from_db()
    services.discard_job(starter, job)
    job.refresh_from_db()
    assert job.cleaned_up_at is not None
    with pytest.raises(ValidationError):
        services.rerun_job(starter, job)


def test_failed_jobs_are_cleaned_up_after_the_keeping_period(starter, settings):
    settings.STREHA_JOB_KEEP_FAILED_HOURS = 1
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 1, "batch": 1})
    Job.objects.filter(pk=job.pk).update(
        state=JobState.FAILED, finished_at=timezone.now() - timedelta(hours=2)
    )
    services.expire_stale_jobs()
    job.refresh_from_db()
    assert job.cleaned_up_at is not None
    assert cleaned == [str(job.public_id)]


# --- Pages ---------------------------------------------------------------------------------------


def test_the_starter_sees_progress_and_htmx_polls_until_the_end(client, starter):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 4, "batch": 2})
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, done=2, total=4, heartbeat_at=timezone.now()
    )
    client.force_login(starter)
    url = reverse("jobs:detail", args=[job.public_id])
    page = client.get(url)
    assert page.status_code == 200
    assert b'value="50"' in page.content
    assert b'hx-trigger="every 1s"' in page.content
    partial = client.get(url, headers={"HX-Request": "true"})
    assert b"<h1>" not in partial.content and b'id="job-progress"' in partial.content
    Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED, done=4)
    final = client.get(url, headers={"HX-Request": "true"})
    assert b'value="100"' in final.content
    assert b"hx-trigger" not in final.content  # polling stops


def test_a_poll_shows_a_dead_workers_job_as_failed(client, starter):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 4, "batch": 2})
    long_ago = timezone.now() - timedelta(seconds=services.lease_seconds() + 5)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, heartbeat_at=long_ago)
    client.force_login(starter)
    page = client.get(reverse("jobs:detail", args=[job.public_id]), headers={"HX-Request": "true"})
    assert b'data-state="failed"' in page.content
    assert b"/rerun/" in page.content


def test_someone_else_gets_404_and_cannot_cancel(client, starter, make_user):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 4, "batch": 2})
    client.force_login(make_user(Role.CASE_WORKER, agency=starter.agency))
    assert client.get(reverse("jobs:detail", args=[job.public_id])).status_code == 404
    assert client.post(reverse("jobs:cancel", args=[job.public_id])).status_code == 404
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


def test_cancel_from_the_page(client, starter):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 4, "batch": 2})
    client.force_login(starter)
    response = client.post(reverse("jobs:cancel", args=[job.public_id]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    again = client.post(reverse("jobs:cancel", args=[job.public_id]), follow=True)
    assert again.status_code == 200  # "already over", said in words, not a 500


def test_the_list_shows_my_jobs_only(client, starter, make_user):
    mine = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 1, "batch": 1})
    other = services.start_job(
        WRITTEN_IN_BATCHES, make_user(Role.CASE_WORKER), {"count": 1, "batch": 1}
    )
    client.force_login(starter)
    page = client.get(reverse("jobs:list"))
    assert str(mine.public_id).encode() in page.content
    assert str(other.public_id).encode() not in page.content


def test_a_stopping_worker_puts_the_job_back_after_a_whole_batch(starter, run_worker):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 6, "batch": 2})
    first_task = job.task_id
    real_progress = services.JobContext.progress

    def stop_after_first_batch(self, done, total=None, **kwargs):
        real_progress(self, done, total, **kwargs)
        if done == 2:
            services.stop_between_batches()  # what SIGTERM does to the worker

    try:
        services.JobContext.progress = stop_after_first_batch
        services.execute_job(str(job.public_id))
    finally:
        services.JobContext.progress = real_progress
        services.stop_between_batches(False)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.done == 2
    assert job.task_id != first_task
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    run_worker()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 2
    assert Region.objects.filter(code__startswith="job-").count() == 6


# --- JobContext.starter: the starter re-checked when the job runs ------------------------------


def test_starter_is_the_person_who_started_the_job_while_still_allowed(starter):
    job = services.start_job(FAILING, starter)
    assert services.JobContext(job).starter(lambda user: user.pk == starter.pk) == starter


def test_starter_refuses_a_starter_who_can_no_longer_sign_in(starter):
    job = services.start_job(FAILING, starter)
    starter.is_active = False
    starter.save(update_fields=["is_active"])
    job.refresh_from_db()
    with translation.override("en"), pytest.raises(services.JobError, match="no longer sign in"):
        services.JobContext(job).starter()


def test_starter_refuses_a_job_whose_starter_is_gone(starter):
    job = services.start_job(FAILING, starter)
    Job.objects.filter(pk=job.pk).update(started_by=None)
    job.refresh_from_db()
    with translation.override("en"), pytest.raises(services.JobError, match="no longer sign in"):
        services.JobContext(job).starter()


def test_starter_refuses_a_starter_who_lost_the_permission(starter):
    job = services.start_job(FAILING, starter)
    with translation.override("en"), pytest.raises(services.JobError, match="not allowed"):
        services.JobContext(job).starter(lambda user: False)


def test_a_step_counter_reports_each_step_and_stops_a_cancelled_job(starter):
    job = services.start_job(WRITTEN_IN_BATCHES, starter, {"count": 3, "batch": 1})
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    step = services.JobContext(job).step_counter(2)
    job.refresh_from_db()
    assert (job.done, job.total) == (0, 2)
    step()
    step()
    step()  # one step more than announced: the count never passes the total
    job.refresh_from_db()
    assert (job.done, job.total) == (2, 2)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    with pytest.raises(services.JobCancelled):
        step()
