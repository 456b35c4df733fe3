"""The HTCDS v2.0 victim profile: which column means what, and how a row becomes the fields
of a person and of their case.

One row per victim (a person with one victim case). Column names are HTCDS field names
(``prs_FirstName``...) plus Streha's extensions (``ext_Reference``, ``ext_Agency``,
``ext_RegisteredOn``, ``ext_IdentifiedOn``, ``ext_Municipality``); values are HTCDS value
names; several values in one cell are separated by ``;``; dates are ISO 8601 (YYYY-MM-DD).
HTCDS columns Streha does not keep are reported as ignored, other columns as unknown: none is
dropped silently. The ``kobo`` profile reads a KoboToolbox/ODK CSV export of the HTCDS XLSForm
(``group/field`` headers, its field spellings, space-separated multiple choices; the
per-choice ``question/choice`` columns are reported as not kept). The form itself is
``data/htcds_xlsform.xml`` (IOM, CC BY 4.0, see ``data/HTCDS_LICENSE.md``).
"""

import csv
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from streha.cases.models import (
    ControlMethod,
    DecisionOrganisation,
    ExploitationType,
    ForcedLabourIndustry,
    RecruitmentMethod,
    RelationshipToTrafficker,
    SexExploitationType,
    Source,
    Status,
)
from streha.cases.services.base import reflection_period_days
from streha.people.models import Gender
from streha.places.catalogues import countries

STANDARD_TSV = Path(__file__).resolve().parent / "data" / "htcds_fields_2.0.txt"

PERSON_COLUMNS = {
    "prs_FirstName": "given_name",
    "prs_SecondName": "family_name",
    "prs_Birthdate": "date_of_birth",
    "prs_Gender": "gender",
    "prs_Citizenship": "citizenship",
    "prs_IdentityNumber": "personal_number",
    "prs_MobilePhone": "phone",
}
# The case's details beyond its profile (read, kept and written back in this order).
CASE_DETAIL_COLUMNS = (
    "vic_TraffickingStatusDecisionMakingOrg",
    "vic_ForcedLabourIndustry",
    "vic_TypeOfSexExploitation",
    "vic_RelationshipToTrafficker",
    "hte_City",
    "hte_Date",
    "con_Consent",
)
CASE_COLUMNS = (
    "vic_TraffickingStatus",
    "vic_TypeOfExploitation",
    "vic_MethodOfRecruitment",
    "vic_MethodsOfControl",
    "vic_AgeWhenTrafficked",
    "cas_Status",
    "hte_Country",
    "hte_Type",
    *CASE_DETAIL_COLUMNS,
)
EXTENSION_COLUMNS = (
    "ext_Reference",
    "ext_Agency",
    "ext_RegisteredOn",
    "ext_IdentifiedOn",
    "ext_Municipality",
    "ext_Source",
)
STORED = (*PERSON_COLUMNS, *CASE_COLUMNS, *EXTENSION_COLUMNS)
REQUIRED = ("ext_Reference", "prs_FirstName")

GENDERS = {
    "Feminine": Gender.FEMININE,
    "Masculine": Gender.MASCULINE,
    "TransgenderFeminine": Gender.TRANSGENDER_FEMININE,
    "TransgenderMasculine": Gender.TRANSGENDER_MASCULINE,
    "NonConforming": Gender.NON_CONFORMING,
    "NonSpecifiedUnknown": Gender.UNKNOWN,
}
# Codes people write for the same thing; an agency's value mapping adds its own.
GENDER_SYNONYMS = {
    "f": "Feminine",
    "female": "Feminine",
    "femër": "Feminine",
    "femer": "Feminine",
    "žensko": "Feminine",
    "zensko": "Feminine",
    "m": "Masculine",
    "male": "Masculine",
    "mashkull": "Masculine",
    "muško": "Masculine",
    "musko": "Masculine",
}
TRAFFICKING_STATUS = {
    "PossibleVictimOfTrafficking": Status.PRESUMED_VICTIM,
    "ActualVictimOfTrafficking": Status.IDENTIFIED,
    "NotAVictimOfTrafficking": Status.NOT_IDENTIFIED,
}
# ``con_Consent`` is a checkbox (the XLSForm writes TRUE or FALSE); empty: not recorded.
CONSENT = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
CASE_STATUS = ("Active", "FollowUp", "Closed", "ClosedReferred")
PLACE_TYPES = {
    "Recruitment": "recruitment_countries",
    "Transit": "transit_countries",
    "Exploitation": "exploitation_countries",
}
SOURCE_BY_AGENCY_KIND = {
    "police": Source.POLICE,
    "shelter": Source.NGO,
    "social_work": Source.SOCIAL_WORK,
    "labour_inspectorate": Source.LABOUR_INSPECTORATE,
    "health": Source.HEALTH,
    "international_organisation": Source.INTERNATIONAL_ORGANISATION,
}

# KoboToolbox/ODK: the XLSForm's own spellings, and export columns that are about the form.
KOBO_NAMES = {
    "prs_First_Name": "prs_FirstName",
    "prs_Second_Name": "prs_SecondName",
    "vic_Methods_of_Control": "vic_MethodsOfControl",
}
KOBO_META = re.compile(r"^(_.*|start|end|today|deviceid|__version__|meta/.*|instanceID)$")


@cache
def standard_fields() -> frozenset[str]:
    """Every field name of HTCDS v2.0 (from the standard's field table)."""
    names = set()
    with STANDARD_TSV.open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) > 6 and re.match(r"^[a-z]{3}_\w+$", row[6]):
                names.add(row[6])
    return frozenset(names)


@dataclass
class Columns:
    """The header line understood: which column index holds which HTCDS field."""

    index: dict[str, int]
    ignored: list[str]  # HTCDS (or form) columns Streha does not keep
    unknown: list[str]  # neither HTCDS nor Streha's
    duplicated: list[str]
    missing: list[str]  # required columns absent


def read_header(cells: list[str], *, mapping: dict | None = None, profile: str = "htcds"):
    headers = (mapping or {}).get("headers", {})
    index: dict[str, int] = {}
    ignored, unknown, duplicated = [], [], []
    for position, raw in enumerate(cells):
        name = headers.get(raw, raw).strip()
        if profile == "kobo":
            if KOBO_META.match(name):
                # The submission's id as reference: ``_uuid``, else ``meta/instanceID``.
                if name == "_uuid":
                    index["_source_uuid"] = position
                elif name == "meta/instanceID":
                    index.setdefault("_source_uuid", position)
                continue
            parts = name.split("/")
            question = KOBO_NAMES.get(parts[-2], parts[-2]) if len(parts) > 1 else ""
            if question in STORED or question in standard_fields():
                # Kobo's 0/1 column for one choice of a multiple-choice question, beside the
                # question's own column (which holds every choice): read that one only.
                ignored.append(name[:60])
                continue
            name = KOBO_NAMES.get(parts[-1], parts[-1])
        if not name:
            continue
        if name in index:
            duplicated.append(name)
        elif name in STORED:
            index[name] = position
        elif name in standard_fields():
            ignored.append(name)
        else:
            unknown.append(name[:60])
    if profile == "kobo" and "ext_Reference" not in index and "_source_uuid" in index:
        index["ext_Reference"] = index.pop("_source_uuid")
    index.pop("_source_uuid", None)
    missing = [name for name in REQUIRED if name not in index]
    return Columns(index, ignored, unknown, duplicated, missing)


class RowErrors(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors  # (column, reason)
        super().__init__("row rejected")


@dataclass
class ParsedRow:
    reference: str
    agency_code: str
    person: dict
    case: dict


def _split(value: str, profile: str) -> list[str]:
    separator = None if profile == "kobo" and ";" not in value else ";"
    return [part.strip() for part in value.split(separator) if part.strip()]


def _date(value: str, column: str, errors: list, today: date | None = None) -> date | None:
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value[:10])
    except ValueError:
        errors.append((column, _("Write the date as YYYY-MM-DD.")))
        return None
    if parsed > (today or timezone.localdate()):
        errors.append((column, _("The date cannot be in the future.")))
        return None
    if parsed.year < 1900:
        errors.append((column, _("The date is too far in the past.")))
        return None
    return parsed


@cache
def _values_of(choices) -> frozenset[str]:
    """A code list's values, once per process (``Choices.values`` builds a new list each time)."""
    return frozenset(choices.values)


def _codes(value: str, column: str, choices, values_map: dict, profile: str, errors: list):
    codes = []
    for part in _split(value, profile):
        code = values_map.get(part, part)
        if code not in _values_of(choices):
            errors.append((column, _("Unknown code; use the HTCDS value names.")))
            return []
        codes.append(code)
    return sorted(set(codes))


def parse_row(
    cells: list[str],
    columns: Columns,
    *,
    mapping: dict | None = None,
    profile: str = "htcds",
    today: date | None = None,
) -> ParsedRow:
    """The row's person and case fields, or ``RowErrors`` listing every problem found."""
    value_maps = (mapping or {}).get("values", {})

    def get(name: str) -> str:
        position = columns.index.get(name)
        if position is None or position >= len(cells):
            return ""
        return cells[position]

    def mapped(name: str) -> dict:
        return value_maps.get(name, {})

    errors: list[tuple[str, str]] = []
    reference = get("ext_Reference")
    if not reference:
        errors.append(("ext_Reference", _("The source's reference is required.")))
    elif len(reference) > 32:
        errors.append(("ext_Reference", _("The reference is longer than 32 characters.")))
    person: dict = {}
    given = get("prs_FirstName")
    if not given:
        errors.append(("prs_FirstName", _("The first name is required.")))
    for column, name in PERSON_COLUMNS.items():
        if name in ("date_of_birth", "gender", "citizenship"):
            continue
        value = get(column)
        limit = 100 if name.endswith("_name") else 30 if name == "personal_number" else 40
        if len(value) > limit:
            errors.append((column, _("The value is too long.")))
        person[name] = value
    today = today or timezone.localdate()
    birth = _date(get("prs_Birthdate"), "prs_Birthdate", errors, today)
    person["date_of_birth"] = birth
    person["birth_year"] = birth.year if birth else None
    gender_raw = get("prs_Gender")
    gender_code = mapped("prs_Gender").get(gender_raw) or GENDER_SYNONYMS.get(
        gender_raw.lower(), gender_raw
    )
    if gender_raw and gender_code not in GENDERS:
        errors.append(("prs_Gender", _("Unknown code; use the HTCDS value names.")))
    person["gender"] = GENDERS.get(gender_code, Gender.UNKNOWN)
    citizenship = _split(get("prs_Citizenship"), profile)
    citizenship = [mapped("prs_Citizenship").get(code, code).upper() for code in citizenship]
    if any(code not in countries for code in citizenship):
        errors.append(("prs_Citizenship", _("Use ISO 3166 two-letter country codes.")))
        citizenship = []
    person["citizenship"] = citizenship[0] if citizenship else ""

    case: dict = {}
    registered = _date(get("ext_RegisteredOn"), "ext_RegisteredOn", errors, today)
    identified = _date(get("ext_IdentifiedOn"), "ext_IdentifiedOn", errors, today)
    case["first_contact_on"] = registered or identified or today
    status_raw = get("vic_TraffickingStatus")
    status_code = mapped("vic_TraffickingStatus").get(status_raw, status_raw)
    status = Status.FIRST_CONTACT
    if status_code:
        if status_code not in TRAFFICKING_STATUS:
            errors.append(("vic_TraffickingStatus", _("Unknown code; use the HTCDS value names.")))
        else:
            status = TRAFFICKING_STATUS[status_code]
    if identified and status == Status.FIRST_CONTACT:
        status = Status.IDENTIFIED
    if status in (Status.IDENTIFIED, Status.NOT_IDENTIFIED):
        if identified is None and not any(c == "ext_IdentifiedOn" for c, _r in errors):
            errors.append(("ext_IdentifiedOn", _("An identification decision needs its date.")))
        case["decided_on"] = identified
    if status == Status.PRESUMED_VICTIM:
        case["presumed_on"] = case["first_contact_on"]
        days = reflection_period_days()  # the case services' rule, one place
        case["reflection_ends_on"] = case["first_contact_on"] + timedelta(days=days)
    closure = mapped("cas_Status").get(get("cas_Status"), get("cas_Status"))
    if closure and closure not in CASE_STATUS:
        errors.append(("cas_Status", _("Unknown code; use the HTCDS value names.")))
    if closure in ("Closed", "ClosedReferred"):
        case["status_before_closure"] = status
        status = Status.CLOSED
    case["status"] = status
    for column, name, choices in (
        ("vic_TypeOfExploitation", "exploitation_types", ExploitationType),
        ("vic_MethodOfRecruitment", "recruitment_methods", RecruitmentMethod),
        ("vic_MethodsOfControl", "control_methods", ControlMethod),
        ("vic_ForcedLabourIndustry", "forced_labour_industries", ForcedLabourIndustry),
        ("vic_TypeOfSexExploitation", "sex_exploitation_types", SexExploitationType),
    ):
        case[name] = _codes(get(column), column, choices, mapped(column), profile, errors)
    for column, name, choices in (
        ("vic_RelationshipToTrafficker", "relationship_to_trafficker", RelationshipToTrafficker),
        ("vic_TraffickingStatusDecisionMakingOrg", "decision_organisation", DecisionOrganisation),
    ):
        codes = _codes(get(column), column, choices, mapped(column), profile, errors)
        if len(codes) > 1:
            errors.append((column, _("Only one value is allowed here.")))
        case[name] = codes[0] if codes else ""
    city = get("hte_City")
    if len(city) > 100:
        errors.append(("hte_City", _("The value is too long.")))
    # Protected and empty in most files: None (NULL) is not sealed, an empty text would be.
    case["exploitation_city"] = city or None
    case["relationship_to_trafficker"] = case["relationship_to_trafficker"] or None
    case["trafficked_on"] = _date(get("hte_Date"), "hte_Date", errors, today)
    consent = get("con_Consent")
    if consent and consent.lower() not in CONSENT:
        errors.append(("con_Consent", _("Write TRUE or FALSE.")))
    case["interview_consent"] = CONSENT.get(consent.lower()) if consent else None
    place_type = get("hte_Type") or "Exploitation"
    if place_type not in PLACE_TYPES:
        errors.append(("hte_Type", _("Unknown code; use the HTCDS value names.")))
    else:
        places = [code.upper() for code in _split(get("hte_Country"), profile)]
        if any(code not in countries for code in places):
            errors.append(("hte_Country", _("Use ISO 3166 two-letter country codes.")))
        else:
            case[PLACE_TYPES[place_type]] = places
    age = get("vic_AgeWhenTrafficked")
    if birth:
        case["age_at_identification"] = max(0, case["first_contact_on"].year - birth.year)
    elif age:
        if not age.isdigit() or int(age) > 120:
            errors.append(("vic_AgeWhenTrafficked", _("Write the age as a whole number.")))
        else:
            case["age_at_identification"] = int(age)
    if case.get("age_at_identification") is not None:
        case["is_child"] = case["age_at_identification"] < 18
    source = get("ext_Source")
    if source and source not in _values_of(Source):
        errors.append(("ext_Source", _("Unknown code; use the HTCDS value names.")))
    case["source"] = source
    case["_municipality"] = get("ext_Municipality")
    if errors:
        raise RowErrors(errors)
    return ParsedRow(reference=reference, agency_code=get("ext_Agency"), person=person, case=case)


# --- The other way: a person and their case as an HTCDS row (what the importer reads) ----------

EXPORT_COLUMNS = (
    "ext_Reference",
    "ext_Agency",
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_Gender",
    "prs_Citizenship",
    "prs_IdentityNumber",
    "prs_MobilePhone",
    "vic_TraffickingStatus",
    "vic_TypeOfExploitation",
    "vic_MethodOfRecruitment",
    "vic_MethodsOfControl",
    "vic_AgeWhenTrafficked",
    "cas_Status",
    "hte_Country",
    "hte_Type",
    "ext_RegisteredOn",
    "ext_IdentifiedOn",
    "ext_Municipality",
    "ext_Source",
    *CASE_DETAIL_COLUMNS,
)
_STATUS_NAMES = {stage: name for name, stage in TRAFFICKING_STATUS.items()}
_GENDER_NAMES = {gender: name for name, gender in GENDERS.items()}


def row_of(person, case) -> dict[str, str]:
    """One victim as the import reads it: importing these rows into an empty system and
    writing them again gives the same rows. The caller decides who may see them."""
    stage = case.status_before_closure if case.status == Status.CLOSED else case.status
    place_type, places = "", []
    for kind, name in PLACE_TYPES.items():
        if getattr(case, name):
            place_type, places = kind, getattr(case, name)
    return {
        "ext_Reference": person.reference,
        "ext_Agency": case.owner_agency.code,
        "prs_FirstName": person.given_name,
        "prs_SecondName": person.family_name,
        "prs_Birthdate": person.date_of_birth.isoformat() if person.date_of_birth else "",
        "prs_Gender": _GENDER_NAMES.get(person.gender, ""),
        "prs_Citizenship": person.citizenship,
        "prs_IdentityNumber": person.personal_number,
        "prs_MobilePhone": person.phone,
        "vic_TraffickingStatus": _STATUS_NAMES.get(stage, ""),
        "vic_TypeOfExploitation": ";".join(case.exploitation_types),
        "vic_MethodOfRecruitment": ";".join(case.recruitment_methods),
        "vic_MethodsOfControl": ";".join(case.control_methods),
        "vic_AgeWhenTrafficked": ""
        if case.age_at_identification is None or person.date_of_birth
        else str(case.age_at_identification),
        "cas_Status": "Closed" if case.status == Status.CLOSED else "Active",
        "hte_Country": ";".join(places),
        "hte_Type": place_type,
        "ext_RegisteredOn": case.first_contact_on.isoformat(),
        "ext_IdentifiedOn": case.decided_on.isoformat() if case.decided_on else "",
        "ext_Municipality": case.first_contact_municipality.code
        if case.first_contact_municipality_id
        else "",
        "ext_Source": case.source,
        "vic_TraffickingStatusDecisionMakingOrg": case.decision_organisation,
        "vic_ForcedLabourIndustry": ";".join(case.forced_labour_industries),
        "vic_TypeOfSexExploitation": ";".join(case.sex_exploitation_types),
        "vic_RelationshipToTrafficker": case.relationship_to_trafficker or "",
        "hte_City": case.exploitation_city or "",
        "hte_Date": case.trafficked_on.isoformat() if case.trafficked_on else "",
        "con_Consent": ""
        if case.interview_consent is None
        else str(case.interview_consent).upper(),
    }
