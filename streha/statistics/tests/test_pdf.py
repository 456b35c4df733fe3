"""The national annual report as PDF: made in each language from the same published figures,
with translated titles and the cells the pages show (small ones suppressed), and audited."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from streha.accounts.models import AgencyKind
from streha.audit.models import AuditEvent
from streha.cases.models import ExploitationType, Status
from streha.cases.tests.factories import CaseFactory
from streha.people.models import Gender
from streha.statistics.definitions import DEFINITIONS
from streha.statistics.publication import publish
from streha.testing.factories import AgencyFactory, PersonFactory

YEAR = 2025


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def registered(db):
    """9 presumed victims, all nationals: 7 women and 2 men (table 2: the 2 is hidden, and so
    the 7)."""
    agency = AgencyFactory(kind=AgencyKind.SHELTER)
    for i in range(9):
        person = PersonFactory(
            owner_agency=agency,
            gender=Gender.FEMININE if i < 7 else Gender.MASCULINE,
            birth_year=YEAR - 30,
            citizenship="XK",
        )
        CaseFactory(
            owner_agency=agency,
            person=person,
            status=Status.PRESUMED_VICTIM,
            presumed_on=datetime.date(YEAR, 2, 1),
            exploitation_types=[ExploitationType.SEXUAL.value],
        )
    return agency


@pytest.fixture
def analyst(make_user, registered):
    return make_user("analyst", agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR))


def _report(client, language=None) -> bytes:
    """Ask for the report as the page does, run the job as the worker would, download it."""
    from streha.jobs.models import Job
    from streha.jobs.services import execute_job

    if language:
        client.cookies["django_language"] = language
    response = client.post(reverse("statistics:report"), {"year": YEAR})
    assert response.status_code == 302
    job = Job.objects.latest("pk")
    assert response["Location"] == reverse("jobs:detail", args=[job.public_id])
    assert execute_job(str(job.public_id)) == "succeeded"
    job.refresh_from_db()
    assert (job.done, job.total) == (2 * len(DEFINITIONS), 2 * len(DEFINITIONS))
    page = client.get(reverse("jobs:detail", args=[job.public_id]))
    download_url = reverse("statistics:report_download", args=[job.public_id])
    assert download_url in page.content.decode()
    download = client.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    return download.content


@pytest.mark.parametrize("language", ["sq", "sr-latn", "en"])
def test_the_pdf_download_holds_the_translated_titles_and_the_cells_of_the_pages(
    client, analyst, language
):
    client.force_login(analyst)
    client.cookies["django_language"] = language
    page = client.get(reverse("statistics:table", args=["T02"]), {"year": YEAR})
    rows = page.context["published"].rows
    assert rows[0][1:] == ["c", "c", 0, 9]  # the page shows the suppressed cells
    text = _text(_report(client, language))
    with translation.override(language):
        titles = {code: str(definition.title) for code, definition in DEFINITIONS.items()}
    for code in ("T01", "T02", "T06", "T07", "T11", "T14", "T16"):
        assert f"{code}: {titles[code]}" in text
    # The nationals row of table 2 exactly as the page shows it: label, then c c 0 9.
    assert " ".join(str(cell) for cell in rows[0]) in text
    event = AuditEvent.objects.filter(object_type="statistics.report").latest("pk")
    assert event.details["year"] == YEAR and event.details["format"] == "pdf"
    assert event.details["language"] == language


def test_titles_are_really_translated():
    with translation.override("sq"):
        sq = str(DEFINITIONS["T06"].title)
    with translation.override("sr-latn"):
        sr = str(DEFINITIONS["T06"].title)
    with translation.override("en"):
        en = str(DEFINITIONS["T06"].title)
    assert len({sq, sr, en}) == 3


def test_albanian_and_serbian_letters_survive_in_the_pdf(client, analyst):
    client.force_login(analyst)
    text = ""
    for language in ("sq", "sr-latn"):
        text += _text(_report(client, language))
    for letter in "ëçčšž":
        assert letter in text


def test_the_pdf_is_for_analysts_only(client, make_user, registered):
    client.force_login(make_user("case_worker", agency=registered))
    assert client.get(reverse("statistics:report")).status_code == 404
    assert client.post(reverse("statistics:report"), {"year": YEAR}).status_code == 404


def test_a_bad_year_is_refused_with_a_message_and_starts_nothing(client, analyst):
    from streha.jobs.models import Job

    client.force_login(analyst)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("statistics:report"), {"year": "20x5"})
    assert response.status_code == 400
    assert "A year between 1990 and 2100." in response.content.decode()
    assert not Job.objects.exists()


def test_the_job_stops_when_its_starter_lost_the_analyst_role(client, analyst):
    from streha.jobs.models import Job, JobState
    from streha.jobs.services import execute_job
    from streha.statistics.models import ReportFile

    client.force_login(analyst)
    client.post(reverse("statistics:report"), {"year": YEAR})
    job = Job.objects.latest("pk")
    analyst.role_grants.all().delete()
    assert execute_job(str(job.public_id)) == JobState.FAILED
    assert not ReportFile.objects.filter(job=job).exists()


def test_a_report_job_cancelled_while_counting_stops_and_keeps_no_file(
    client, analyst, monkeypatch
):
    from streha.jobs.models import Job, JobState
    from streha.jobs.services import cancel_job, execute_job
    from streha.statistics import figures
    from streha.statistics.models import ReportFile

    client.force_login(analyst)
    client.post(reverse("statistics:report"), {"year": YEAR})
    job = Job.objects.latest("pk")
    counting = figures.registered_victims

    def cancelled_meanwhile(*args, **kwargs):
        cancel_job(analyst, Job.objects.get(pk=job.pk))  # the starter presses "Cancel"
        return counting(*args, **kwargs)

    monkeypatch.setattr(figures, "registered_victims", cancelled_meanwhile)
    assert execute_job(str(job.public_id)) == JobState.CANCELLED
    job.refresh_from_db()
    assert job.done < job.total
    assert not ReportFile.objects.filter(job=job).exists()


def test_only_the_starter_downloads_the_report(client, analyst, make_user):
    from streha.jobs.models import Job

    client.force_login(analyst)
    _report(client, "en")
    job = Job.objects.latest("pk")
    other = make_user("analyst", agency=analyst.agency)
    client.force_login(other)
    url = reverse("statistics:report_download", args=[job.public_id])
    assert client.get(url).status_code == 404


def test_report_command_writes_the_pdf_in_three_languages(registered, tmp_path):
    call_command(
        "report", "national", "--year", str(YEAR), "--out", str(tmp_path), "--format", "pdf"
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"national-report-{YEAR}-{lang}.pdf" for lang in ("en", "sq", "sr-latn")]
    for language in ("sq", "sr-latn", "en"):
        text = _text((tmp_path / f"national-report-{YEAR}-{language}.pdf").read_bytes())
        with translation.override(language):
            assert str(DEFINITIONS["T09"].title) in text
            # Labels joined when a table is made are in the PDF's language too.
            first_row = " ".join(str(cell) for cell in publish(table("T06")).rows[0])
            assert first_row in text
            assert str(DEFINITIONS["T02"].title) in text


def table(code):
    from streha.cases.models import Case
    from streha.justice.models import CriminalCase
    from streha.statistics import figures

    return figures.table(Case.objects.all(), code, YEAR, criminal_cases=CriminalCase.objects.all())
