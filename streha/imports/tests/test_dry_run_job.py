# ruff: noqa: F811 (the justice fixtures are imported by name, then used as arguments)
"""The dry run as a background job: it checks every row for its starter, reports progress and
its report, writes nothing else, stops when cancelled, and stops when its starter may no longer
import."""

import json
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from streha.accounts.models import Role, RoleGrant
from streha.audit.models import AuditEvent
from streha.cases.models import Case, CaseEvent
from streha.imports import services
from streha.imports.models import ImportedRecord, ImportUpload
from streha.imports.tests.conftest import csv_bytes, row
from streha.imports.tests.test_justice_import import as_csv, rows  # noqa: F401
from streha.jobs.models import Job, JobState
from streha.jobs.services import JobContext, execute_job
from streha.justice.models import CriminalCase
from streha.justice.tests.conftest import offences, reported, world  # noqa: F401
from streha.people.models import Person

pytestmark = pytest.mark.django_db

SECRET = "Synthsecretname"


def written() -> dict:
    """Everything an import could write (the audit log without its read events)."""
    return {
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "case_events": CaseEvent.objects.count(),
        "records": ImportedRecord.objects.count(),
        "criminal_cases": CriminalCase.objects.count(),
        "audit": AuditEvent.objects.exclude(action="system_read").count(),
    }


def run(upload: ImportUpload) -> Job:
    job = upload.dry_run_job
    execute_job(str(job.public_id))
    job.refresh_from_db()
    return job


@pytest.fixture
def progress_seen(monkeypatch) -> list:
    """Every progress a job reports, as (done, total)."""
    seen = []
    real = JobContext.progress

    def recording(self, done, total=None, *, checkpoint=None):
        seen.append((done, total))
        return real(self, done, total, checkpoint=checkpoint)

    monkeypatch.setattr(JobContext, "progress", recording)
    return seen


def test_the_dry_run_job_reports_progress_and_its_report_and_writes_nothing(
    importer, owner, monkeypatch, progress_seen
):
    services.import_now(importer, owner, csv_bytes([row("D1"), row("D2")]))
    before = written()
    content = csv_bytes(
        [
            row("D1"),  # unchanged
            row("D2", prs_SecondName="Otherfamily"),  # would be updated
            row("D3"),  # would be created
            row("D4", prs_Birthdate="1999-13-45"),  # rejected
        ]
    )
    monkeypatch.setattr(services, "BATCH", 2)
    upload = services.check_upload(importer, owner, content, file_name="records.csv")
    assert written() == before  # the request wrote the file and the job record only

    job = run(upload)

    assert job.state == JobState.SUCCEEDED
    assert progress_seen == [(0, 4), (2, None), (4, None)]
    assert (job.done, job.total, job.percent) == (4, 4, 100)
    report = services.Report(**job.result)
    assert (report.rows, report.unchanged, report.updated, report.created) == (4, 1, 1, 1)
    assert report.rejected == 1 and report.errors[0][:2] == [5, "prs_Birthdate"]
    assert written() == before
    assert Person.objects.get(reference="D2").family_name == "Testfamily"
    # The file stays, unchanged, for the real run the person may now confirm.
    upload.refresh_from_db()
    assert upload.job is None and services.upload_content(upload) == content


def test_the_justice_profile_is_checked_by_the_job_too(world, rows, make_user, progress_seen):
    user = make_user(Role.AGENCY_ADMIN, agency=world.police)
    upload = services.check_upload(user, world.police, as_csv(rows), profile="jus")
    job = run(upload)
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.result["created"], job.result["rejected"]) == (7, 0)
    assert progress_seen[0] == (0, 7) and job.done == 7
    assert not CriminalCase.objects.exists()


def test_cancelling_a_running_dry_run_stops_it_and_deletes_the_file(
    importer, owner, monkeypatch, progress_seen
):
    monkeypatch.setattr(services, "BATCH", 1)
    upload = services.check_upload(importer, owner, csv_bytes([row(f"X{n}") for n in range(5)]))
    job = upload.dry_run_job
    real_count = services._count_rows

    def count_then_cancel(upload):
        # The starter presses "Cancel" while the job runs (after it claimed the job).
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        return real_count(upload)

    monkeypatch.setattr(services, "_count_rows", count_then_cancel)
    job = run(upload)
    assert job.state == JobState.CANCELLED
    assert progress_seen == [(0, 5)]  # stopped at the first batch boundary
    assert not job.result
    assert not ImportUpload.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.parametrize("loss", ["role_revoked", "deactivated"])
def test_a_starter_who_lost_the_right_to_import_gets_no_check(client, importer, owner, loss):
    upload = services.check_upload(importer, owner, csv_bytes([row("L1")]))
    if loss == "role_revoked":
        RoleGrant.objects.filter(user=importer).update(revoked_at=timezone.now())
    else:
        importer.is_active = False
        importer.save(update_fields=["is_active"])

    job = run(upload)

    assert job.state == JobState.FAILED
    assert not job.result
    with translation.override(job.language):
        expected = (
            gettext("You are not allowed to do this.")
            if loss == "role_revoked"
            else gettext("The person who started this job can no longer sign in.")
        )
    assert job.error == expected
    assert not Person.objects.exists()
    if loss == "role_revoked":
        # Nothing to confirm: the page shows the failure, no report and no import button.
        client.force_login(importer)
        page = client.get(reverse("imports:check", args=[job.public_id]))
        assert b'data-state="failed"' in page.content
        assert b'id="start-import"' not in page.content
        assert client.post(reverse("imports:check", args=[job.public_id])).status_code == 400
        assert not Job.objects.filter(kind=services.JOB_KIND).exists()


def test_no_cell_reaches_the_job_record_or_the_logs(importer, owner, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    content = csv_bytes(
        [row("S1", prs_FirstName=SECRET, prs_Birthdate=f"{SECRET}-13", prs_Gender=SECRET)]
    )
    job = run(services.check_upload(importer, owner, content))
    assert job.state == JobState.SUCCEEDED and job.result["rejected"] == 1
    # An internal error quoting a cell (as a database error may) reaches neither the job's
    # error text nor the log: only the exception's class does.
    real = services.dry_run

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        raise ValueError(f"value {SECRET!r} is not valid")

    monkeypatch.setattr(services, "dry_run", failing)
    failed = run(services.check_upload(importer, owner, content))
    assert failed.state == JobState.FAILED and str(failed.public_id) in failed.error
    for done in (job, failed):
        assert SECRET not in json.dumps([done.result, done.error, done.params, done.checkpoint])
    assert "ValueError" in caplog.text
    assert SECRET not in caplog.text


def test_a_check_whose_worker_died_shows_as_failed(client, importer, owner):
    upload = services.check_upload(importer, owner, csv_bytes([row("K1")]))
    Job.objects.filter(pk=upload.dry_run_job_id).update(
        state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    client.force_login(importer)
    url = reverse("imports:check", args=[upload.dry_run_job.public_id])
    page = client.get(url, HTTP_HX_REQUEST="true")
    assert b'data-state="failed"' in page.content and b"hx-get" not in page.content
    assert reverse("jobs:detail", args=[upload.dry_run_job.public_id]).encode() in page.content


def test_the_real_run_checks_its_starter_again_and_the_command_needs_none(importer, owner):
    job = services.start_import(importer, owner, csv_bytes([row("R1")]))
    RoleGrant.objects.filter(user=importer).update(revoked_at=timezone.now())
    execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.FAILED and not Person.objects.exists()
    by_command = services.start_import(None, owner, csv_bytes([row("R2")]))
    execute_job(str(by_command.public_id))
    by_command.refresh_from_db()
    assert by_command.state == JobState.SUCCEEDED
    assert list(Person.objects.values_list("reference", flat=True)) == ["R2"]
