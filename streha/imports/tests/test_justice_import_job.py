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


def test_every_record_the_justice_file_adds_has_its_own_audit_event(rows, world):
    """Besides the criminal case's event (with the number of records), one event per record
    the file adds (defendants, proceeding events, charges, judgments), each naming the job."""
    from streha.justice.models import Charge, Defendant, Judgment, ProceedingEvent

    job = services.start_import(None, world.police, as_csv(rows), profile="jus")
    execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    events = AuditEvent.objects.filter(details__import_job=str(job.public_id), action="create")
    written = {
        "justice.defendant": Defendant,
        "justice.proceedingevent": ProceedingEvent,
        "justice.charge": Charge,
        "justice.judgment": Judgment,
    }
    total = 0
    for object_type, model in written.items():
        stored = model.objects.all()
        ids = sorted(str(getattr(record, "public_id", None) or record.pk) for record in stored)
        audited = sorted(events.filter(object_type=object_type).values_list("object_id", flat=True))
        assert audited == ids, object_type
        total += len(ids)
    # With the criminal case itself, the records the job reports as created (this file has
    # defendants, events and charges).
    assert total >= 3 and total + 1 == job.result["created"]
