"""The statistics pages and API: who may see them, and that every output shows the same cells."""

import datetime

import pytest
from django.urls import reverse

from streha.accounts.models import AgencyKind
from streha.audit.models import AuditEvent
from streha.cases.models import ExploitationType, Status
from streha.cases.tests.factories import CaseFactory
from streha.people.models import Gender
from streha.statistics.publication import as_csv, publish
from streha.testing.auth import reauthenticate
from streha.testing.factories import AgencyFactory, PersonFactory

YEAR = 2025


@pytest.fixture
def registered(db):
    agency = AgencyFactory(kind=AgencyKind.SHELTER)
    for i in range(9):
        person = PersonFactory(
            owner_agency=agency,
            gender=Gender.FEMININE if i < 7 else Gender.MASCULINE,
            birth_year=YEAR - 30,
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
def national_analyst(make_user):
    return make_user("analyst", agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR))


@pytest.fixture
def shelter_analyst(make_user, registered):
    return make_user("analyst", agency=registered)


def test_tables_are_for_analysts_only(client, make_user, registered):
    worker = make_user("case_worker", agency=registered)
    client.force_login(worker)
    assert client.get(reverse("statistics:index")).status_code == 404
    assert client.get(reverse("statistics:table", args=["T01"])).status_code == 404


def test_analyst_sees_key_figures_and_every_table(client, national_analyst, registered):
    client.force_login(national_analyst)
    page = client.get(reverse("statistics:index"), {"year": YEAR}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.context["key_figures"][0][1] == 9  # exact inside the coordinator's office
    for code in [f"T{n:02}" for n in range(1, 17)]:
        assert reverse("statistics:table", args=[code]) in page.content.decode()


def test_key_figures_outside_the_coordinators_office_are_suppressed(client, shelter_analyst):
    client.force_login(shelter_analyst)
    page = client.get(reverse("statistics:index"), {"year": YEAR})
    figures = dict((str(label), value) for label, value in page.context["key_figures"])
    assert list(figures.values()) == [9, 0, 9, 0]  # registered, identified, presumed, children


def test_table_page_csv_and_api_show_the_same_cells(
    client, api_client, national_analyst, registered, stopped_clock
):
    # The clock stopped: the page and the CSV each say when the figures were counted.
    client.force_login(national_analyst)
    page = client.get(reverse("statistics:table", args=["T02"]), {"year": YEAR})
    # A download leaves the system: a fresh password and second factor first; the page not.
    assert page.status_code == 200
    refused = client.get(reverse("statistics:table", args=["T02"]), {"year": YEAR, "format": "csv"})
    assert refused.url.startswith(reverse("account_reauthenticate"))
    reauthenticate(client, national_analyst)
    assert page.status_code == 200
    published = page.context["published"]
    # 7 women and 2 men, all nationals: the 2 is hidden, and so the 7 (else 9 − 7).
    assert published.rows[0][1:] == ["c", "c", 0, 9]
    download = client.get(
        reverse("statistics:table", args=["T02"]), {"year": YEAR, "format": "csv"}
    )
    assert download["Content-Type"].startswith("text/csv")
    assert download.content.decode() == as_csv(published)
    event = AuditEvent.objects.filter(object_type="statistics.table").latest("pk")
    assert event.object_id == "T02" and event.details["rows"] == len(published.rows)
    api_client.force_authenticate(national_analyst)
    answer = api_client.get(reverse("statistics-table", args=["T02"]), {"year": YEAR})
    assert answer.status_code == 200
    assert answer.json()["rows"] == [list(row) for row in published.rows]
    assert answer.json()["suppression"] == published.rule


def test_bad_years_and_codes_are_clear_errors(client, api_client, national_analyst):
    client.force_login(national_analyst)
    assert client.get(reverse("statistics:table", args=["T99"])).status_code == 404
    assert client.get(reverse("statistics:table", args=["T01"]), {"year": "x"}).status_code == 404
    api_client.force_authenticate(national_analyst)
    answer = api_client.get(
        reverse("statistics-table", args=["T01"]), {"year": "1200"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["year"] == ["A year between 1990 and 2100."]


def test_shelter_analyst_counts_only_its_agency(api_client, shelter_analyst, registered):
    CaseFactory(presumed_on=datetime.date(YEAR, 2, 1))  # another agency's victim
    api_client.force_authenticate(shelter_analyst)
    rows = api_client.get(reverse("statistics-table", args=["T01"]), {"year": YEAR}).json()["rows"]
    assert rows[-1][-1] == 9


def test_publish_min_cell_setting(settings, national_analyst, registered):
    from streha.access import policy
    from streha.statistics import figures

    settings.STREHA_STATS_MIN_CELL = 2  # only ones hidden: the 2 men may now be published
    table = figures.table(policy.cases_for_statistics(national_analyst), "T02", YEAR)
    assert publish(table).rows[0][1:] == [7, 2, 0, 9]


def test_xlsx_download_holds_the_same_cells(client, national_analyst, registered):
    import io

    from openpyxl import load_workbook

    client.force_login(national_analyst)
    page = client.get(reverse("statistics:table", args=["T02"]), {"year": YEAR})
    reauthenticate(client, national_analyst)
    download = client.get(
        reverse("statistics:table", args=["T02"]), {"year": YEAR, "format": "xlsx"}
    )
    assert download["Content-Disposition"] == 'attachment; filename="T02-2025.xlsx"'
    sheet = load_workbook(io.BytesIO(download.content)).active
    # Title, when the figures were counted, the header, then the cells.
    rows = [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]
    published = page.context["published"]
    assert sheet.cell(row=2, column=1).value == published.as_of
    assert rows[: len(published.rows)] == [list(row) for row in published.rows]


def test_the_analysts_home_links_every_table_and_the_report(client, national_analyst):
    from streha.statistics.definitions import DEFINITIONS
    from streha.statistics.selectors import my_work_panels

    panel = my_work_panels(national_analyst)[0]
    urls = [url for _label, url in panel.links]
    for code in DEFINITIONS:
        assert any(url.startswith(reverse("statistics:table", args=[code])) for url in urls)
    assert any(url.startswith(reverse("statistics:report")) for url in urls)


@pytest.mark.parametrize("code", ["T06", "T07", "T08", "T09", "T10", "T11", "T12", "T13", "T14"])
def test_justice_tables_page_csv_and_api_agree(client, api_client, national_analyst, code):
    from streha.justice.catalogue import load_offences

    load_offences("XK")
    client.force_login(national_analyst)
    page = client.get(reverse("statistics:table", args=[code]), {"year": YEAR})
    assert page.status_code == 200
    published = page.context["published"]
    assert str(published.table.definition.title) in page.content.decode()
    reauthenticate(client, national_analyst)  # a download leaves the system: a fresh sign-in
    download = client.get(reverse("statistics:table", args=[code]), {"year": YEAR, "format": "csv"})
    assert download.content.decode() == as_csv(published)
    api_client.force_authenticate(national_analyst)
    answer = api_client.get(reverse("statistics-table", args=[code]), {"year": YEAR})
    assert answer.status_code == 200
    assert answer.json()["rows"] == [list(row) for row in published.rows]
