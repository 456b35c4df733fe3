# ruff: noqa: F811 (the justice fixtures are imported by name, then used as arguments)
"""The justice profile run as the import job: what it writes is audited naming the job
(issue 12: "every imported record is audited, with the import job id"), and the file is
deleted when the job ends. test_justice_import.py runs the same rows without a job."""

import pytest

from streha.audit.models import AuditEvent
from streha.imports import services
from streha.imports.models import ImportUpload
from streha.imports.tests.test_justice_import import as_csv, rows  # noqa: F401
from streha.jobs.models import JobState
from streha.jobs.services import execute_job
from streha.justice.models import CriminalCase
from streha.justice.tests.conftest import offences, reported, world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_justice_job_names_itself_in_the_audit_and_deletes_the_file(rows, world):
    job = services.start_import(None, world.police, as_csv(rows), profile="jus")
    execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.result["created"], job.result["rejected"]) == (7, 0)
    case = CriminalCase.objects.get()
    events = AuditEvent.objects.filter(details__import_job=str(job.public_id))
    created = events.get(action="create", object_type="justice.criminalcase")
    assert created.object_id == str(case.public_id) and created.details["records"] == 7
    assert not ImportUpload.objects.exists()
