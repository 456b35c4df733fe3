"""SDMX-CSV for every table with an international format: the files are parsed and each
observation is compared with the cell the HTML table shows (after suppression)."""

import csv
import io
import re

import pytest
from django.urls import reverse

from streha.accounts.models import AgencyKind
from streha.statistics.exports import eurostat_codes
from streha.statistics.publication import CONFIDENTIAL
from streha.statistics.tests.test_justice_figures import YEAR, justice_year  # noqa: F401
from streha.testing.auth import reauthenticate
from streha.testing.factories import AgencyFactory

# Tables whose SDMX file leaves out the totals row (their totals count persons at any stage).
WITHOUT_TOTALS_ROW = {"T06", "T09"}


@pytest.fixture
def analyst(client, make_user, justice_year):  # noqa: F811
    user = make_user("analyst", agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR))
    client.force_login(user)
    reauthenticate(client, user)
    client.cookies["django_language"] = "en"
    return user


def _page_and_sdmx(client, code):
    url = reverse("statistics:table", args=[code])
    page = client.get(url, {"year": YEAR})
    download = client.get(url, {"year": YEAR, "format": "sdmx"})
    assert download.status_code == 200, code
    # The file's name says when its figures were counted (SDMX-CSV has no column for it).
    name = rf'{code}-{YEAR}-prepared-\d{{8}}T\d{{4}}Z\.sdmx\.csv"$'
    assert re.search(name, download["Content-Disposition"]), download["Content-Disposition"]
    observations = list(csv.DictReader(io.StringIO(download.content.decode())))
    return page.context["published"], observations


def _shown(observation):
    """The observation as the page shows its cell: the value, or "c" when flagged confidential."""
    if "c" in observation["OBS_FLAG"]:
        assert observation["OBS_VALUE"] == ""
        return CONFIDENTIAL
    return observation["OBS_VALUE"]


@pytest.mark.parametrize("code", ["T01", "T02", "T03", "T04", "T06", "T09"])
def test_every_sdmx_observation_is_the_cell_of_the_html_table(client, analyst, code):
    published, observations = _page_and_sdmx(client, code)
    rows = published.rows[:-1] if code in WITHOUT_TOTALS_ROW else published.rows
    cells = [str(cell) for row in rows for cell in row[1:]]
    assert [_shown(o) for o in observations] == cells
    assert {o["GEO"] for o in observations} == {"XK"}
    assert {o["TIME_PERIOD"] for o in observations} == {str(YEAR)}
    assert any(cell == CONFIDENTIAL for cell in cells) or code == "T04"


def test_table_4_observations_carry_the_country_and_the_glotip_group(client, analyst):
    published, observations = _page_and_sdmx(client, "T04")
    countries = [*(k if k != "??" else "UNK" for k in published.table.row_keys), "TOTAL"]
    assert [o["CITIZEN"] for o in observations[::6]] == countries
    groups = eurostat_codes()["other_codes"]["GLOTIP_GROUP"]
    girls = next(o for o in observations if (o["SEX"], o["AGE"]) == ("F", "Y_LT18"))
    assert groups["girls"] == {"SEX": girls["SEX"], "AGE": girls["AGE"]}


def test_table_9_observations_carry_instance_band_and_minimum(client, analyst):
    published, observations = _page_and_sdmx(client, "T09")
    # Row 6 of the page: first instance, 1 year to under 5 years; column 2: below the minimum.
    cell = next(
        o
        for o in observations
        if (o["LEG_STAT"], o["OUTCOME"], o["STAT_MIN"]) == ("PER_CNV", "IMP_1-5Y", "LT_MIN")
    )
    assert _shown(cell) == str(published.rows[5][2])


def test_table_16_gives_the_count_and_the_rate_as_the_page(client, analyst):
    published, observations = _page_and_sdmx(client, "T16")
    count, *rate = observations
    assert count["SERIES"] == "VC_HTF_DETV" and _shown(count) == str(published.rows[0][1])
    if rate:
        assert rate[0]["UNIT"] == "PER_100000_POP"


def test_every_code_of_the_new_sdmx_tables_is_marked_unconfirmed():
    codes = eurostat_codes()
    assert all(not flow["confirmed"] for flow in codes["other_dataflows"].values())
    assert all(not code_list["confirmed"] for code_list in codes["other_codes"].values())


def test_sdmx_is_not_offered_for_a_filtered_table_or_one_without_a_format(client, analyst):
    url = reverse("statistics:table", args=["T01"])
    filtered = client.get(url, {"year": YEAR, "agency_kind": "police", "format": "sdmx"})
    assert filtered.status_code == 400 and "Content-Disposition" not in filtered
    assert "international format" in filtered.content.decode()
    t12 = client.get(reverse("statistics:table", args=["T12"]), {"year": YEAR, "format": "sdmx"})
    assert t12.status_code == 400
