"""Two of issue 12's broken-input cases tested whole: a file written in another encoding than
UTF-8 (not just one row), and the everyday spellings of sex that the import maps to HTCDS
values without a mapping ("F", "Female", "Femër", "Žensko", ...)."""

import pytest

from streha.imports import services
from streha.imports.tests.conftest import csv_bytes, row
from streha.jobs.models import JobState
from streha.jobs.services import execute_job
from streha.people.models import Gender, Person

pytestmark = pytest.mark.django_db


def run(importer, owner, content):
    job = services.start_import(importer, owner, content, file_name="records.csv")
    execute_job(str(job.public_id))
    job.refresh_from_db()
    return job, services.Report(**job.result) if job.result else None


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("F", Gender.FEMININE),
        ("Female", Gender.FEMININE),
        ("Femër", Gender.FEMININE),
        ("femer", Gender.FEMININE),
        ("Žensko", Gender.FEMININE),
        ("M", Gender.MASCULINE),
        ("Male", Gender.MASCULINE),
        ("Mashkull", Gender.MASCULINE),
        ("Muško", Gender.MASCULINE),
        ("Feminine", Gender.FEMININE),
    ],
)
def test_everyday_spellings_of_sex_are_read_as_the_htcds_values(importer, owner, written, stored):
    job, report = run(importer, owner, csv_bytes([row("SEX1", prs_Gender=written)]))
    assert job.state == JobState.SUCCEEDED and (report.created, report.rejected) == (1, 0)
    assert Person.objects.get(reference="SEX1").gender == stored


def test_an_unknown_spelling_of_sex_is_rejected_by_line_and_column(importer, owner):
    job, report = run(importer, owner, csv_bytes([row("SEX2", prs_Gender="Fem")]))
    assert (report.created, report.rejected) == (0, 1)
    assert [(line, column) for line, column, _reason in report.errors] == [(2, "prs_Gender")]
    assert not Person.objects.exists()


def test_a_whole_file_in_windows_1252_rejects_each_row_it_cannot_read_and_keeps_the_rest(
    importer, owner
):
    """Spreadsheets saved as "CSV" on Windows are often Windows-1252: the rows whose bytes are
    not UTF-8 are rejected by line and column (their names would be stored garbled), the rows
    that are plain ASCII are imported."""
    rows = [
        row("W1", prs_FirstName="Qëndresë"),
        row("W2", prs_FirstName="Ana"),
        row("W3"),
        row("W4", prs_SecondName="Krasniqi"),
    ]
    rows[2]["prs_SecondName"] = "Bërisha"
    content = csv_bytes(rows, encoding="cp1252")
    job, report = run(importer, owner, content)
    assert job.state == JobState.SUCCEEDED
    assert (report.created, report.rejected) == (2, 2)
    assert sorted(Person.objects.values_list("reference", flat=True)) == ["W2", "W4"]
    assert {(line, column) for line, column, _reason in report.errors} == {
        (2, "prs_FirstName"),
        (4, "prs_SecondName"),
    }


def test_a_whole_file_in_utf_16_is_refused_before_any_row(importer, owner):
    """Excel's "Unicode text" is UTF-16: its header cannot be read, so the file is refused as a
    whole with a reason, and nothing is written."""
    content = csv_bytes([row("U1"), row("U2")], encoding="utf-16")
    job, report = run(importer, owner, content)
    assert report is None or report.created == 0
    if report is not None:
        assert report.file_error
    else:
        assert job.state == JobState.FAILED and job.error
    assert not Person.objects.exists()
