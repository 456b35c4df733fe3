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


@pytest.mark.parametrize("language", ["sq", "sr-latn", "en"])
def test_the_pdf_download_holds_the_translated_titles_and_the_cells_of_the_pages(
    client, analyst, language
):
    client.force_login(analyst)
    client.cookies["django_language"] = language
    page = client.get(reverse("statistics:table", args=["T02"]), {"year": YEAR})
    rows = page.context["published"].rows
    assert rows[0][1:] == ["c", "c", 0, 9]  # the page shows the suppressed cells
    download = client.get(reverse("statistics:report_pdf"), {"year": YEAR})
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    text = _text(download.content)
    with translation.override(language):
        titles = {code: str(definition.title) for code, definition in DEFINITIONS.items()}
    for code in ("T01", "T02", "T06", "T07", "T11", "T14", "T16"):
        assert f"{code}: {titles[code]}" in text
    # The nationals row of table 2 exactly as the page shows it: label, then c c 0 9.
    assert " ".join(str(cell) for cell in rows[0]) in text
    event = AuditEvent.objects.filter(object_type="statistics.report").latest("pk")
    assert event.details == {"year": YEAR, "tables": 18, "format": "pdf"}


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
        client.cookies["django_language"] = language
        text += _text(client.get(reverse("statistics:report_pdf"), {"year": YEAR}).content)
    for letter in "ëçčšž":
        assert letter in text


def test_the_pdf_is_for_analysts_only(client, make_user, registered):
    client.force_login(make_user("case_worker", agency=registered))
    assert client.get(reverse("statistics:report_pdf")).status_code == 404


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
