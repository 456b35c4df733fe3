"""A real worker process killed with SIGKILL half-way through an import: only whole batches
are stored, the job is seen as failed once its lease runs out, and the rerun completes it
without duplicates."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection

from streha.imports import services
from streha.imports.models import ImportedRecord
from streha.imports.tests.conftest import csv_bytes, row
from streha.jobs.models import Job, JobState
from streha.jobs.services import execute_job, expire_stale_jobs, lease_seconds, rerun_job
from streha.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)
BATCH = 5
ROWS = 300


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (
        f"postgres://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}"
        f"/{settings['NAME']}"
    )


def test_sigkill_half_way_then_rerun(importer, owner, settings):
    job = services.start_import(importer, owner, csv_bytes([row(f"S{n:04d}") for n in range(ROWS)]))
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "STREHA_IMPORT_BATCH": str(BATCH),
        "STREHA_LOG_LEVEL": "ERROR",
    }
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "streha.cli", "worker", "--interval", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = Job.objects.filter(pk=job.pk).values_list("done", flat=True).get()
            if done >= 4 * BATCH:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING  # dead, but nobody has looked yet
    assert 4 * BATCH <= job.done < ROWS, "the worker finished before it could be killed"
    stored = Person.objects.filter(owner_agency=owner).count()
    assert stored == job.done and stored % BATCH == 0  # whole batches, with their progress
    assert ImportedRecord.objects.count() == stored

    expire_stale_jobs(now=job.heartbeat_at + timedelta(seconds=lease_seconds() + 1))
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    rerun_job(importer, job)
    execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.result["created"] == ROWS and job.result["rejected"] == 0
    assert Person.objects.filter(owner_agency=owner).count() == ROWS
    assert ImportedRecord.objects.values("source_reference").distinct().count() == ROWS
