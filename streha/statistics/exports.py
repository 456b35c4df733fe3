"""Official formats made from the same tables and records: Eurostat SDMX-CSV and CTDC rows.

Codes of both formats are kept as data (``data/eurostat.json``, ``data/alpha3.json``) so that a
statistician can correct one without a release; ``eurostat.json`` marks each code list
``confirmed`` only once it has been checked against Eurostat's own lists.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from streha.cases.models import CaseEvent, ControlMethod, ExploitationType, Status
from streha.statistics.figures import AGES, CITIZENSHIP_GROUPS, FORM_GROUPS, SEXES, STATUSES
from streha.statistics.publication import CONFIDENTIAL, PublishedTable

DATA = Path(__file__).resolve().parent / "data"


@cache
def eurostat_codes() -> dict:
    return json.loads((DATA / "eurostat.json").read_text(encoding="utf-8"))


@cache
def _alpha3() -> dict:
    return json.loads((DATA / "alpha3.json").read_text(encoding="utf-8"))


def _keys(pairs) -> list[str]:
    return [key for key, _label in pairs]


SDMX_HEADER = ["DATAFLOW", "FREQ", "GEO", "TIME_PERIOD", "LEG_STAT", "SEX", "AGE", "CITIZEN",
               "EXPLOIT", "UNIT", "OBS_VALUE", "OBS_FLAG"]  # fmt: skip


def _column_keys(code: str) -> list[dict]:
    """What each column of a published table stands for, as dimension values."""
    if code in ("T01", "T03"):
        keys = [{"SEX": s, "AGE": a} for s in _keys(SEXES) for a in _keys(AGES)]
    else:  # T02: sex only
        keys = [{"SEX": s, "AGE": "total"} for s in _keys(SEXES)]
    return [*keys, {"SEX": "total", "AGE": "total"}]


def _row_keys(code: str) -> list[dict]:
    total = {"LEG_STAT": "registered", "CITIZEN": "total", "EXPLOIT": "total"}
    if code == "T01":
        rows = [{**total, "LEG_STAT": s} for s in _keys(STATUSES)]
    elif code == "T02":
        rows = [{**total, "CITIZEN": c} for c in _keys(CITIZENSHIP_GROUPS)]
    else:
        rows = [{**total, "EXPLOIT": f} for f in _keys(FORM_GROUPS)]
    return [*rows, total]


def sdmx_csv(published: list[PublishedTable]) -> str:
    """Tables 1–3 as one SDMX-CSV file: one observation per cell, ``c`` for confidential cells
    (value left empty), ``b`` where the series breaks (none for victims so far)."""
    codes = eurostat_codes()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SDMX_HEADER)
    for table in published:
        if table.code not in codes["dataflows"]:
            continue
        columns = _column_keys(table.code)
        for row_key, row in zip(_row_keys(table.code), table.rows, strict=True):
            for column_key, cell in zip(columns, row[1:], strict=True):
                dims = {**row_key, **column_key}
                hidden = cell == CONFIDENTIAL
                writer.writerow(
                    [
                        codes["dataflows"][table.code]["id"],
                        "A",
                        settings.STREHA_COUNTRY,
                        table.table.year,
                        codes["codes"]["LEG_STAT"][dims["LEG_STAT"]],
                        codes["codes"]["SEX"][dims["SEX"]],
                        codes["codes"]["AGE"][dims["AGE"]],
                        codes["codes"]["CITIZEN"][dims["CITIZEN"]],
                        codes["codes"]["EXPLOIT"][dims["EXPLOIT"]],
                        "NR",
                        "" if hidden else cell,
                        codes["flags"]["confidential"] if hidden else "",
                    ]
                )
    return out.getvalue()


JUSTICE_SDMX_HEADER = ["DATAFLOW", "FREQ", "GEO", "TIME_PERIOD", "LEG_STAT", "OFFENCE", "SEX",
                       "CITIZEN", "UNIT", "OBS_VALUE", "OBS_FLAG"]  # fmt: skip


def _flag(hidden: bool, series_break: bool) -> str:
    """Eurostat's observation flags: ``b`` break in series, ``c`` confidential (both: ``bc``)."""
    flags = eurostat_codes()["flags"]
    return (flags["break_in_series"] if series_break else "") + (
        flags["confidential"] if hidden else ""
    )


def justice_sdmx_csv(published: list[PublishedTable]) -> str:
    """Table 6 (persons suspected, prosecuted, convicted by sex and citizenship, trafficking and
    related offences apart) as SDMX-CSV: ``c`` for a confidential cell (value left empty), ``b``
    on every observation of a year in which a new criminal code came into force (2019)."""
    from streha.statistics.justice import JUSTICE_STAGES, OFFENCE_SCOPES

    codes = eurostat_codes()
    dims = codes["justice_codes"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(JUSTICE_SDMX_HEADER)
    for table in published:
        if table.code not in codes["justice_dataflows"]:
            continue
        rows = [(sc, st) for sc in _keys(OFFENCE_SCOPES) for st in _keys(JUSTICE_STAGES)]
        columns = [(s, c) for s in _keys(SEXES) for c in _keys(CITIZENSHIP_GROUPS)]
        columns.append(("total", "total"))
        for (scope, stage), row in zip(rows, table.rows, strict=False):  # not the totals row
            for (sex, citizen), cell in zip(columns, row[1:], strict=True):
                hidden = cell == CONFIDENTIAL
                writer.writerow(
                    [
                        codes["justice_dataflows"][table.code]["id"],
                        "A",
                        settings.STREHA_COUNTRY,
                        table.table.year,
                        dims["LEG_STAT"][stage],
                        dims["OFFENCE"][scope],
                        dims["SEX"][sex],
                        dims["CITIZEN"][citizen],
                        "NR",
                        "" if hidden else cell,
                        _flag(hidden, table.table.series_break),
                    ]
                )
    return out.getvalue()


# --- Tables 4, 9 and 16: the same SDMX-CSV shape, one file per table --------------------------

OTHER_SDMX_HEADERS = {
    "T04": ["DATAFLOW", "FREQ", "GEO", "TIME_PERIOD", "LEG_STAT", "CITIZEN", "SEX", "AGE",
            "UNIT", "OBS_VALUE", "OBS_FLAG"],
    "T09": ["DATAFLOW", "FREQ", "GEO", "TIME_PERIOD", "LEG_STAT", "OUTCOME", "STAT_MIN",
            "UNIT", "OBS_VALUE", "OBS_FLAG"],
    "T16": ["DATAFLOW", "FREQ", "GEO", "TIME_PERIOD", "SERIES", "SEX", "AGE", "UNIT",
            "OBS_VALUE", "OBS_FLAG"],
}  # fmt: skip


def _observations(table: PublishedTable):
    """(dimension values, published cell) for each cell of tables 4, 9 and 16."""
    from streha.statistics.figures import GLOTIP_GROUPS
    from streha.statistics.justice import INSTANCE_GROUPS, SENTENCE_BANDS

    codes = eurostat_codes()["other_codes"]
    if table.code == "T04":
        citizens = [*(key if key != "??" else "UNK" for key in table.table.row_keys), "TOTAL"]
        groups = [*_keys(GLOTIP_GROUPS), "total"]
        for citizen, row in zip(citizens, table.rows, strict=True):
            for group, cell in zip(groups, row[1:], strict=True):
                sex_age = codes["GLOTIP_GROUP"][group]
                yield {"LEG_STAT": "VICT", "CITIZEN": citizen, **sex_age}, cell
    elif table.code == "T09":
        rows = [(i, b) for i, _il in INSTANCE_GROUPS for b, _bl in SENTENCE_BANDS]
        for (instance, band), row in zip(rows, table.rows, strict=False):  # not the totals row
            for minimum, cell in zip(("within", "below", "total"), row[1:], strict=True):
                yield (
                    {
                        "LEG_STAT": codes["INSTANCE"][instance],
                        "OUTCOME": codes["OUTCOME"][band],
                        "STAT_MIN": codes["STAT_MIN"][minimum],
                    },
                    cell,
                )
    elif table.code == "T16":
        from streha.statistics.publication import rate_shown

        base = {"SEX": "_T", "AGE": "_T"}
        yield {"SERIES": codes["SERIES"]["count"], **base, "UNIT": "NR"}, table.rows[0][1]
        rate = rate_shown(table)
        if rate != "–":
            value = rate if rate == CONFIDENTIAL else float(rate)
            yield {"SERIES": codes["SERIES"]["rate"], **base, "UNIT": "PER_100000_POP"}, value


def other_sdmx_csv(table: PublishedTable) -> str:
    """Table 4, 9 or 16 as SDMX-CSV: one observation per published cell, ``c`` for a hidden
    cell (value left empty), ``b`` on a year of series break; codes from ``eurostat.json``
    (``other_dataflows``, ``other_codes``), all unconfirmed."""
    codes = eurostat_codes()
    header = OTHER_SDMX_HEADERS[table.code]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for dims, cell in _observations(table):
        hidden = cell == CONFIDENTIAL
        values = {
            "DATAFLOW": codes["other_dataflows"][table.code]["id"],
            "FREQ": "A",
            "GEO": settings.STREHA_COUNTRY,
            "TIME_PERIOD": table.table.year,
            "UNIT": "NR",
            **dims,
            "OBS_VALUE": "" if hidden else cell,
            "OBS_FLAG": _flag(hidden, table.table.series_break),
        }
        writer.writerow([values[column] for column in header])
    return out.getvalue()


# --- CTDC global dataset ---------------------------------------------------------------------

CTDC_COLUMNS = [
    "yearOfRegistration", "gender", "ageBroad", "citizenship", "CountryOfExploitation",
    "traffickMonths", "meansDebtBondageEarnings", "meansThreats", "meansAbusePsyPhySex",
    "meansFalsePromises", "meansDrugsAlcohol", "meansDenyBasicNeeds", "meansExcessiveWorkHours",
    "meansWithholdDocs", "isForcedLabour", "isSexualExploit", "isOtherExploit",
    "typeOfLabourAgriculture", "typeOfLabourConstruction", "typeOfLabourDomesticWork",
    "typeOfLabourHospitality", "typeOfSexProstitution", "typeOfSexPornography",
    "recruiterRelationIntimatePartner", "recruiterRelationFriend", "recruiterRelationFamily",
    "recruiterRelationOther",
]  # fmt: skip
# CTDC's age bands, written as in its data files ("0--8"); 48 and older is "48+".
AGE_BANDS = (
    (0, 8, "0--8"),
    (9, 17, "9--17"),
    (18, 20, "18--20"),
    (21, 23, "21--23"),
    (24, 26, "24--26"),
    (27, 29, "27--29"),
    (30, 38, "30--38"),
    (39, 47, "39--47"),
)
CTDC_GENDER = {
    "feminine": "Woman",
    "masculine": "Man",
    "transgender_feminine": "Trans/Transgender/NonConforming",
    "transgender_masculine": "Trans/Transgender/NonConforming",
    "non_conforming": "Trans/Transgender/NonConforming",
}
CTDC_MEANS = {
    "meansDebtBondageEarnings": {ControlMethod.DEBT_BONDAGE, ControlMethod.TAKES_EARNINGS},
    "meansThreats": {
        ControlMethod.PHYSICAL_THREATS,
        ControlMethod.THREATS_LAW_ENFORCEMENT,
        ControlMethod.THREATENS_FAMILY,
    },
    "meansAbusePsyPhySex": {
        ControlMethod.PSYCHOLOGICAL_ABUSE,
        ControlMethod.PHYSICAL_ABUSE,
        ControlMethod.SEXUAL_ABUSE,
    },
    "meansFalsePromises": {ControlMethod.FALSE_PROMISES},
    "meansDrugsAlcohol": {ControlMethod.PSYCHOACTIVE},
    "meansDenyBasicNeeds": {
        ControlMethod.RESTRICTS_FINANCIAL,
        ControlMethod.RESTRICTS_MEDICAL,
        ControlMethod.WITHHOLDS_NECESSITIES,
    },
    "meansExcessiveWorkHours": {ControlMethod.EXCESSIVE_HOURS},
    "meansWithholdDocs": {ControlMethod.WITHHOLDS_DOCUMENTS},
}
# Fields whose rare combinations are blanked, most revealing first (CTDC's k-anonymity: every
# combination of these appears at least k times, else the first of them is set to NULL).
CTDC_QUASI_IDENTIFIERS = ("citizenship", "CountryOfExploitation", "ageBroad", "gender")


def ctdc_country(code: str) -> str:
    """ISO alpha-3 as CTDC writes it; Kosovo is counted under Serbia, as CTDC does."""
    table = _alpha3()
    return table["ctdc_overrides"].get(code) or table["alpha3"].get(code, "")


def ctdc_age(age: int | None) -> str:
    if age is None or age < 0:
        return ""
    return next((band for low, high, band in AGE_BANDS if low <= age <= high), "48+")


def ctdc_rows(cases, year: int, k: int) -> list[dict]:
    """One row per victim case registered in ``year`` (presumed or identified), in CTDC's 27
    columns; NULL is an empty cell and binary variables are 1 or NULL, as in the codebook."""
    identified = Exists(CaseEvent.objects.filter(case=OuterRef("pk"), to_status=Status.IDENTIFIED))
    records = (
        cases.annotate(was_identified=identified)
        .filter(Q(presumed_on__year=year) | Q(decided_on__year=year, was_identified=True))
        .order_by("pk")
        .values_list(
            "person__gender",
            "person__birth_year",
            "person__citizenship",
            "age_at_identification",
            "exploitation_types",
            "exploitation_countries",
            "transnational",
            "control_methods",
        )
    )
    rows = []
    for gender, birth_year, citizenship, age, forms, countries, transnational, means in records:
        if age is None and birth_year:
            age = year - birth_year
        forms, means = set(forms or []), set(means or [])
        exploitation_country = countries[0] if countries else ""
        if not exploitation_country and transnational is False:
            exploitation_country = settings.STREHA_COUNTRY
        row = dict.fromkeys(CTDC_COLUMNS, "")
        row.update(
            yearOfRegistration=year,
            gender=CTDC_GENDER.get(gender, ""),
            ageBroad=ctdc_age(age),
            citizenship=ctdc_country(citizenship) if citizenship else "",
            CountryOfExploitation=ctdc_country(exploitation_country)
            if exploitation_country
            else "",
        )
        for column, methods in CTDC_MEANS.items():
            if means & methods:
                row[column] = 1
        if forms:
            labour = {ExploitationType.FORCED_LABOUR, ExploitationType.SERVITUDE}
            row["isForcedLabour"] = 1 if forms & labour else ""
            row["isSexualExploit"] = 1 if ExploitationType.SEXUAL in forms else ""
            row["isOtherExploit"] = 1 if forms - labour - {ExploitationType.SEXUAL} else ""
            if ExploitationType.SERVITUDE in forms:
                row["typeOfLabourDomesticWork"] = 1
        rows.append(row)
    return k_anonymise(rows, k)


def k_anonymise(rows: list[dict], k: int) -> list[dict]:
    """Blank quasi-identifiers until every combination of them is shared by ``k`` rows or more
    (or is entirely blank): the rarest detail goes first, so most rows keep most of theirs."""
    for field in CTDC_QUASI_IDENTIFIERS:
        combos = Counter(tuple(row[f] for f in CTDC_QUASI_IDENTIFIERS) for row in rows)
        for row in rows:
            if combos[tuple(row[f] for f in CTDC_QUASI_IDENTIFIERS)] < k:
                row[field] = ""
    return rows


def ctdc_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CTDC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
