"""Official formats: Eurostat SDMX-CSV cells and flags, CTDC rows, bands and k-anonymity."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command

from streha.cases.models import Case, ControlMethod, ExploitationType, Status
from streha.cases.tests.factories import CaseFactory
from streha.people.models import Gender
from streha.statistics import exports
from streha.testing.factories import AgencyFactory, PersonFactory

YEAR = 2025


def _case(agency, *, gender, age, citizenship, forms, means=(), countries=()):
    person = PersonFactory(
        owner_agency=agency, gender=gender, birth_year=YEAR - age, citizenship=citizenship
    )
    return CaseFactory(
        owner_agency=agency,
        person=person,
        status=Status.PRESUMED_VICTIM,
        presumed_on=datetime.date(YEAR, 4, 1),
        exploitation_types=list(forms),
        control_methods=list(means),
        exploitation_countries=list(countries),
        transnational=bool(countries),
    )


@pytest.fixture
def victims(db):
    agency = AgencyFactory()
    sexual = [ExploitationType.SEXUAL.value]
    for _ in range(6):
        _case(agency, gender=Gender.FEMININE, age=16, citizenship="XK", forms=sexual)
    _case(
        agency,
        gender=Gender.MASCULINE,
        age=40,
        citizenship="MD",
        forms=[ExploitationType.SERVITUDE.value],
        means=[ControlMethod.WITHHOLDS_DOCUMENTS.value, ControlMethod.DEBT_BONDAGE.value],
        countries=["DE"],
    )
    return agency


def test_sdmx_file_flags_confidential_cells_and_leaves_their_value_empty(victims, tmp_path):
    call_command(
        "report", "national", "--year", str(YEAR), "--out", str(tmp_path), "--format", "sdmx"
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "eurostat.sdmx.csv").read_text())))
    assert rows[0].keys() >= {"DATAFLOW", "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG"}
    presumed_girls = next(
        r
        for r in rows
        if r["DATAFLOW"] == "ESTAT:CRIM_THB_VICT(1.0)"
        and r["LEG_STAT"] == "VICT_PRSM"
        and r["SEX"] == "F"
        and r["AGE"] == "Y_LT18"
    )
    # 6 girls beside 1 man in a row totalling 7: the 1 is hidden, so the 6 must be too.
    assert (presumed_girls["OBS_VALUE"], presumed_girls["OBS_FLAG"]) == ("", "c")
    total = next(
        r
        for r in rows
        if r["DATAFLOW"] == "ESTAT:CRIM_THB_VICT(1.0)"
        and (r["LEG_STAT"], r["SEX"], r["AGE"]) == ("VICT", "T", "TOTAL")
    )
    assert (total["OBS_VALUE"], total["OBS_FLAG"]) == ("7", "")
    presumed_men = next(
        r
        for r in rows
        if r["DATAFLOW"] == "ESTAT:CRIM_THB_VICT(1.0)"
        and r["LEG_STAT"] == "VICT_PRSM"
        and r["SEX"] == "M"
        and r["AGE"] == "Y_GE18"
    )
    assert (presumed_men["OBS_VALUE"], presumed_men["OBS_FLAG"]) == ("", "c")
    assert {r["TIME_PERIOD"] for r in rows} == {str(YEAR)}


def test_eurostat_codes_say_they_are_unconfirmed():
    codes = exports.eurostat_codes()
    assert all(entry["confirmed"] is False for entry in codes["codes"].values())


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "0--8"),
        (8, "0--8"),
        (9, "9--17"),
        (17, "9--17"),
        (18, "18--20"),
        (29, "27--29"),
        (47, "39--47"),
        (48, "48+"),
        (None, ""),
    ],  # fmt: skip
)
def test_ctdc_age_bands(age, band):
    assert exports.ctdc_age(age) == band


def test_ctdc_rows_map_the_profile_and_count_kosovo_under_serbia(victims):
    rows = exports.ctdc_rows(Case.objects.all(), YEAR, k=1)
    assert len(rows) == 7
    assert list(rows[0]) == exports.CTDC_COLUMNS and len(exports.CTDC_COLUMNS) == 27
    girl = rows[0]
    assert (girl["gender"], girl["ageBroad"], girl["citizenship"]) == ("Woman", "9--17", "SRB")
    assert (girl["isSexualExploit"], girl["isForcedLabour"], girl["isOtherExploit"]) == (1, "", "")
    man = rows[-1]
    assert (man["citizenship"], man["CountryOfExploitation"]) == ("MDA", "DEU")
    assert man["meansWithholdDocs"] == man["meansDebtBondageEarnings"] == 1
    assert man["meansThreats"] == ""
    assert (man["isForcedLabour"], man["typeOfLabourDomesticWork"]) == (1, 1)


def test_ctdc_rare_combinations_lose_their_rarest_details(victims, tmp_path):
    call_command("report", "ctdc", "--year", str(YEAR), "--out", str(tmp_path))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "ctdc.csv").read_text())))
    quasi = exports.CTDC_QUASI_IDENTIFIERS
    # The six girls share every detail and keep it; the lone man is blanked to nothing.
    assert [tuple(r[f] for f in quasi) for r in rows[:6]] == [("SRB", "SRB", "9--17", "Woman")] * 6
    assert tuple(rows[6][f] for f in quasi) == ("", "", "", "")
    assert rows[6]["meansWithholdDocs"] == "1"  # not a quasi-identifier: kept
