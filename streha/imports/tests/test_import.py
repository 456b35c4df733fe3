"""Importing victim records: dry run, real run as a job, idempotence, updates, audit, and
every kind of broken input giving row-level errors while nothing broken is written."""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from defusedxml import ElementTree
from django.core.management import call_command
from openpyxl import Workbook

from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.cases.models import Case, Status
from streha.imports import htcds, services
from streha.imports.models import ImportedRecord, ImportUpload
from streha.imports.tests.conftest import HEADER, csv_bytes, row
from streha.jobs.models import Job, JobState
from streha.jobs.services import execute_job, expire_stale_jobs, lease_seconds, rerun_job
from streha.people.models import Gender, Person
from streha.testing.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def run(importer, owner, content, file_name="records.csv"):
    job = services.start_import(importer, owner, content, file_name=file_name)
    execute_job(str(job.public_id))
    job.refresh_from_db()
    return job, services.Report(**job.result) if job.result else None


def test_dry_run_says_what_would_happen_and_writes_nothing(importer, owner):
    report = services.dry_run(importer, owner, csv_bytes([row("A1"), row("A2")]))
    assert (report.rows, report.created, report.rejected) == (2, 2, 0)
    assert report.ok
    assert not Person.objects.exists() and not Case.objects.exists()
    assert not AuditEvent.objects.filter(action="create").exists()


def test_the_writes_cost_queries_per_batch_not_per_row(importer, owner, monkeypatch):
    """Every table is written once per batch: a batch of 29 rows costs the queries of a batch
    of 5, and one more batch a fixed number more (batches of 30 rows here)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(services, "BATCH", 30)

    def queries_for(first: int, count: int) -> int:
        rows = [row(f"Q{first + index:03d}") for index in range(count)]
        with CaptureQueriesContext(connection) as captured:
            job, report = run(importer, owner, csv_bytes(rows))
        assert job.state == JobState.SUCCEEDED and report.created == count
        return len(captured.captured_queries)

    queries_for(0, 5)  # the first run also creates the id counters of some tables
    five_rows = queries_for(100, 5)
    one_batch = queries_for(200, 29)
    two_batches = queries_for(300, 59)
    assert one_batch == five_rows
    assert 0 < two_batches - one_batch <= 40


def test_the_real_run_creates_persons_and_cases_audits_each_and_deletes_the_file(importer, owner):
    job, report = run(importer, owner, csv_bytes([row("A1"), row("A2", prs_Gender="F")]))
    assert job.state == JobState.SUCCEEDED
    assert (report.created, report.rejected) == (2, 0)
    person = Person.objects.get(reference="A1")
    assert person.given_name == "SynthnameA1" and person.owner_agency == owner
    assert person.gender == Gender.FEMININE and person.citizenship == "AL"
    assert str(person.date_of_birth) == "1999-04-01" and person.birth_year == 1999
    assert Person.objects.get(reference="A2").gender == Gender.FEMININE  # "F" understood
    case = Case.objects.get(person=person)
    assert case.status == Status.PRESUMED_VICTIM
    assert case.exploitation_types == ["ForcedLabour", "SexualExploitation"]
    assert case.exploitation_countries == ["XK"]
    assert str(case.first_contact_on) == "2024-03-01"
    assert case.first_contact_municipality.code == "prishtina"
    events = AuditEvent.objects.filter(action="create", details__import_job=str(job.public_id))
    assert events.filter(object_type="people.person").count() == 2
    assert events.filter(object_type="cases.case").count() == 2
    assert not ImportUpload.objects.exists()  # deleted when the job ended
    assert (job.done, job.total) == (2, 2)


def test_the_same_file_twice_creates_nothing_new_and_says_so(importer, owner):
    content = csv_bytes([row("A1"), row("A2")])
    run(importer, owner, content)
    # Each run of a job is one audited system read (streha.jobs); no record event is added.
    record_events = AuditEvent.objects.exclude(action="system_read")
    events = record_events.count()
    job, report = run(importer, owner, content)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert Person.objects.count() == 2 and Case.objects.count() == 2
    assert record_events.count() == events


def test_a_changed_row_updates_its_record_audited_as_an_update(importer, owner):
    run(importer, owner, csv_bytes([row("A1"), row("A2")]))
    job, report = run(
        importer,
        owner,
        csv_bytes([row("A1", prs_SecondName="Changedfamily", hte_Country="RS"), row("A2")]),
    )
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    person = Person.objects.get(reference="A1")
    assert person.family_name == "Changedfamily"
    assert Case.objects.get(person=person).exploitation_countries == ["RS"]
    updates = AuditEvent.objects.filter(action="update", details__import_job=str(job.public_id))
    assert updates.filter(object_type="people.person", object_id=str(person.public_id)).count() == 1
    assert updates.filter(object_type="cases.case").count() == 1


def test_broken_rows_are_rejected_by_line_and_column_and_nothing_broken_is_written(importer, owner):
    rows = [
        row("OK1"),
        row("BAD-DATE", prs_Birthdate="31/12/1999"),
        row("BAD-CODE", vic_TypeOfExploitation="Smuggling"),
        row("NUL", prs_SecondName="Nul\x00name"),
        row("HUGE", prs_SecondName="x" * (10 * 1024 * 1024)),
        row("FORMULA", prs_SecondName='=HYPERLINK("http://evil.invalid")'),
        row("NO-NAME", prs_FirstName=""),
        row("FUTURE", ext_RegisteredOn="2999-01-01"),
        row("BAD-COUNTRY", prs_Citizenship="Atlantis"),
        row("IDENTIFIED-NO-DATE", vic_TraffickingStatus="ActualVictimOfTrafficking"),
    ]
    content = csv_bytes(rows)
    # A row in another encoding: "Qëndresë" in Latin-1 in the middle of a UTF-8 file.
    content += b"LATIN,,Q" + "ëndresë".encode("latin-1") + b",X,,,,,,,,,,\r\n"
    job, report = run(importer, owner, content)
    assert job.state == JobState.SUCCEEDED
    assert report.created == 1 and report.rejected == 10
    assert list(Person.objects.values_list("reference", flat=True)) == ["OK1"]
    by_line = {(line, column) for line, column, _reason in report.errors}
    assert (3, "prs_Birthdate") in by_line
    assert (4, "vic_TypeOfExploitation") in by_line
    assert (5, "prs_SecondName") in by_line
    assert (6, "prs_SecondName") in by_line
    assert (7, "prs_SecondName") in by_line
    assert (8, "prs_FirstName") in by_line
    assert (9, "ext_RegisteredOn") in by_line
    assert (10, "prs_Citizenship") in by_line
    assert (11, "ext_IdentifiedOn") in by_line
    assert (12, "prs_FirstName") in by_line
    text = " ".join(reason for _l, _c, reason in report.errors)
    for identity in ("Nul", "Atlantis", "Smuggling", "31/12/1999", "HYPERLINK", "ndres"):
        assert identity not in text  # reasons never quote the cell


def test_unknown_and_not_kept_columns_are_reported(importer, owner):
    header = [*HEADER, "prs_MaritalStatus", "Favourite colour"]
    report = services.dry_run(importer, owner, csv_bytes([row("A1")], header=header))
    assert report.ignored_columns == ["prs_MaritalStatus"]
    assert report.unknown_columns == ["Favourite colour"]


def test_a_file_without_the_required_columns_is_refused(importer, owner):
    report = services.dry_run(importer, owner, b"prs_FirstName\nSomeone\n")
    assert "ext_Reference" in report.file_error and not report.ok


def test_rows_for_an_agency_the_importer_may_not_import_for_are_rejected(importer, owner):
    other = AgencyFactory(code="police-two")
    report = services.dry_run(importer, owner, csv_bytes([row("A1", ext_Agency=other.code)]))
    assert report.rejected == 1 and report.errors[0][1] == "ext_Agency"


def test_the_national_coordinator_imports_for_any_agency(make_user, owner):
    coordinator = make_user(
        Role.AGENCY_ADMIN, agency=AgencyFactory(kind="national_coordinator", code="nc")
    )
    report = services.dry_run(coordinator, owner, csv_bytes([row("A1", ext_Agency="shelter-one")]))
    assert report.created == 1


def test_a_case_worker_may_not_import(make_user, owner):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.dry_run(make_user(Role.CASE_WORKER, agency=owner), owner, csv_bytes([row("A")]))


def _xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(name, "") for name in header])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_files_import_and_formulas_are_refused(importer, owner):
    content = _xlsx([row("X1"), row("X2", prs_SecondName="=1+1")])
    job, report = run(importer, owner, content, file_name="records.xlsx")
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors[0][:2] == [3, "prs_SecondName"]
    assert Person.objects.get().reference == "X1"


def test_an_xlsx_bomb_is_refused_whole(importer, owner):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (50 * 1024 * 1024) + b"</a>")
    report = services.dry_run(importer, owner, out.getvalue(), file_name="bomb.xlsx")
    assert report.file_error and report.rows == 0
    job, final = run(importer, owner, out.getvalue(), file_name="bomb.xlsx")
    assert final.file_error and not Person.objects.exists()


def test_the_kobo_export_of_the_htcds_form_is_read(importer, owner):
    header = [
        "start",
        "group_person/prs_First_Name",
        "group_person/prs_Gender",
        "vic_TypeOfExploitation",
        "vic_Methods_of_Control",
        "_uuid",
        "_submission_time",
    ]
    content = (
        ";".join(header)
        + "\n2024-01-01;Synthkobo;Masculine;ForcedLabour ForcedBegging;DebtBondage;"
        "uuid-0001;2024-01-02\n"
    ).encode()
    job = services.start_import(importer, owner, content, profile="kobo")
    execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.result["created"] == 1, job.result
    case = Case.objects.get()
    assert case.person.reference == "uuid-0001"
    assert case.exploitation_types == ["ForcedBegging", "ForcedLabour"]
    assert case.control_methods == ["DebtBondage"]


def test_a_kobo_export_of_the_htcds_xlsform_is_read_with_no_unknown_column(importer, owner):
    """Headers as KoboToolbox exports the HTCDS XLSForm (every question of the form itself, a
    0/1 column per choice of a multiple choice, the submission's meta columns)."""
    xforms = "{http://www.w3.org/2002/xforms}"
    form = ElementTree.parse(Path(htcds.__file__).parent / "data" / "htcds_xlsform.xml")
    questions = [bind.get("nodeset").removeprefix("/data/") for bind in form.iter(xforms + "bind")]
    choices = {
        select.get("ref").removeprefix("/data/"): [v.text for v in select.iter(xforms + "value")]
        for select in form.iter(xforms + "select")
    }
    answers = {
        "start": "2024-01-01T10:00:00.000+01:00",
        "prs_First_Name": "Synthform",
        "prs_Second_Name": "Testfamily",
        "prs_Birthdate": "1998-02-03",
        "prs_Gender": "Feminine",
        "prs_Citizenship": "MD",
        "vic_TraffickingStatus": "PossibleVictimOfTrafficking",
        "vic_TypeOfExploitation": "ForcedLabour ForcedBegging",
        "vic_Methods_of_Control": "DebtBondage WithholdsDocuments",
        "vic_MethodOfRecruitment": "ThroughOnlineSocialNetworks",
        "cas_Status": "Active",
        "meta/instanceID": "uuid:kobo-uuid-0001",
        "_uuid": "kobo-uuid-0001",
        "_submission_time": "2024-01-02T09:00:00",
    }
    header, cells = [], []
    for question in questions:
        header.append(question)
        cells.append(answers.get(question, ""))
        for choice in choices.get(question, []):
            header.append(f"{question}/{choice}")
            cells.append("1" if choice in answers.get(question, "").split() else "0")
    for meta in ("_id", "_uuid", "_submission_time", "_validation_status", "_status", "_index"):
        header.append(meta)
        cells.append(answers.get(meta, "1"))
    content = (";".join(header) + "\n" + ";".join(cells) + "\n").encode()
    report = services.dry_run(importer, owner, content, profile="kobo")
    assert report.unknown_columns == [] and report.rejected == 0 and report.created == 1
    assert "vic_TypeOfExploitation/ForcedLabour" in report.ignored_columns
    assert "prs_MailingCity" in report.ignored_columns  # in the form, not kept by Streha
    job = services.start_import(importer, owner, content, profile="kobo")
    execute_job(str(job.public_id))
    case = Case.objects.select_related("person").get()
    assert case.person.reference == "kobo-uuid-0001"
    assert (case.person.gender, case.person.citizenship) == (Gender.FEMININE, "MD")
    assert case.exploitation_types == ["ForcedBegging", "ForcedLabour"]
    assert case.control_methods == ["DebtBondage", "WithholdsDocuments"]
    assert case.recruitment_methods == ["ThroughOnlineSocialNetworks"]
    assert case.status == Status.PRESUMED_VICTIM


def test_a_worker_killed_half_way_leaves_whole_batches_and_the_rerun_completes(
    importer, owner, monkeypatch, run_jobs
):
    class Killed(BaseException):
        pass

    monkeypatch.setattr(services, "BATCH", 2)
    real_write = services._Importer.write
    calls = {"n": 0}

    def write_then_die(self, batch):
        calls["n"] += 1
        real_write(self, batch)
        if calls["n"] == 2:
            raise Killed  # inside the batch's transaction: the database rolls it back

    monkeypatch.setattr(services._Importer, "write", write_then_die)
    content = csv_bytes([row(f"K{n}") for n in range(5)])
    job = services.start_import(importer, owner, content)
    with pytest.raises(Killed):
        execute_job(str(job.public_id))
    assert sorted(Person.objects.values_list("reference", flat=True)) == ["K0", "K1"]
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.done == 2
    expire_stale_jobs(now=job.heartbeat_at + timedelta(seconds=lease_seconds() + 1))
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert ImportUpload.objects.filter(job=job).exists()  # kept for the rerun

    monkeypatch.setattr(services._Importer, "write", real_write)
    rerun_job(importer, job)
    run_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.result["created"] == 5 and job.result["rows"] == 5
    assert sorted(Person.objects.values_list("reference", flat=True)) == [f"K{n}" for n in range(5)]
    assert ImportedRecord.objects.count() == 5
    creates = AuditEvent.objects.filter(action="create", object_type="people.person")
    assert creates.count() == 5
    assert not ImportUpload.objects.exists()


def test_the_command_exits_0_when_all_rows_went_in_and_1_otherwise(owner, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([row("C1")]))
    call_command("import", "htcds", str(good), "--agency", owner.code, "--dry-run")
    assert "\t" not in capsys.readouterr().out  # no rejected row listed; exit code 0
    assert not Person.objects.exists()
    call_command("import", "htcds", str(good), "--agency", owner.code)
    assert Person.objects.filter(reference="C1").exists()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row("C2", prs_Birthdate="yesterday")]))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "htcds", str(bad), "--agency", owner.code)
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "2\tprs_Birthdate\t" in out and "yesterday" not in out
    assert not Job.objects.filter(state=JobState.RUNNING).exists()


def test_a_reference_twice_in_the_file_is_rejected_even_in_another_batch(
    importer, owner, monkeypatch
):
    monkeypatch.setattr(services, "BATCH", 2)
    content = csv_bytes([row("D1"), row("D2"), row("D3"), row("D1", prs_SecondName="Other")])
    dry = services.dry_run(importer, owner, content)
    assert (dry.created, dry.rejected) == (3, 1)
    job, report = run(importer, owner, content)
    assert (report.created, report.updated, report.rejected) == (3, 0, 1)
    assert report.errors == [[5, "ext_Reference", report.errors[0][2]]]
    assert Person.objects.get(reference="D1").family_name == "Testfamily"


def test_an_anonymised_record_is_not_written_again(importer, owner):
    from streha.people.services import anonymise_person

    run(importer, owner, csv_bytes([row("Z1")]))
    anonymise_person(Person.objects.get(reference="Z1"), reason="retention period ended")
    job, report = run(importer, owner, csv_bytes([row("Z1", prs_SecondName="Again")]))
    assert (report.updated, report.rejected) == (0, 1)
    person = Person.objects.get(reference="Z1")
    assert person.given_name == "" and person.family_name == ""


def test_an_unchanged_reference_twice_in_a_later_file_is_rejected_across_batches(
    importer, owner, monkeypatch
):
    """A job finds its earlier batches' references in the database (not in memory): an
    unchanged record met in one batch is marked as met, so its repeat is still caught."""
    monkeypatch.setattr(services, "BATCH", 2)
    run(importer, owner, csv_bytes([row("U1")]))
    content = csv_bytes([row("U1"), row("U2"), row("U3"), row("U1")])
    job, report = run(importer, owner, content)
    assert (report.created, report.unchanged, report.rejected) == (2, 1, 1)
    assert report.errors == [[5, "ext_Reference", report.errors[0][2]]]
    assert ImportedRecord.objects.get(source_reference="U1").last_job == job


@pytest.mark.parametrize("tamper", ["swap", "drop-middle", "drop-last"])
def test_the_file_is_kept_in_sealed_chunks_and_a_tampered_one_fails_before_any_write(
    importer, owner, monkeypatch, tamper
):
    from streha.imports.models import ImportUploadChunk
    from streha.protection import chunks

    monkeypatch.setattr(chunks, "CHUNK_BYTES", 200)
    content = csv_bytes([row(f"T{n:03d}") for n in range(40)])
    job = services.start_import(importer, owner, content, file_name="records.csv")
    upload = ImportUpload.objects.get(job=job)
    stored = list(ImportUploadChunk.objects.filter(upload=upload).order_by("index"))
    assert len(stored) == -(-len(content) // 200) > 3
    assert not any(b"SynthnameT" in chunk.sealed.encode() for chunk in stored)
    assert bytes(upload.content) == b""  # the file is in its chunks only
    assert services.upload_content(upload) == content
    if tamper == "swap":
        first, second = stored[1], stored[2]
        first.sealed, second.sealed = second.sealed, first.sealed
        ImportUploadChunk.objects.bulk_update([first, second], ["sealed"])
    else:
        stored[2 if tamper == "drop-middle" else -1].delete()
    execute_job(str(job.public_id))
    job.refresh_from_db()
    # Every chunk is checked (the count of rows) before the first batch is written.
    assert job.state == JobState.FAILED
    assert not Person.objects.exists() and not ImportedRecord.objects.exists()
