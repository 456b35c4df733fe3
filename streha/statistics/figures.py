"""The national tables, computed from non-identifying fields only.

Everything here reads a queryset of victim cases handed over by the access policy
(``policy.cases_for_statistics``, the analyst's pseudonymised scope) and never touches a protected
column: sex, year of birth, citizenship, statuses, dates and the
exploitation profile are stored in clear precisely so that they can be counted without
decrypting anyone. Each table is first built exactly (``Table.grid``); what may be published is
decided by ``streha.statistics.disclosure`` when the table is shown or written.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, Value, When
from django.db.models import Case as Case_
from django.utils import timezone
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from streha.cases.models import CaseEvent, ExploitationType, Status
from streha.places.catalogues import countries
from streha.statistics.definitions import DEFINITIONS, Definition
from streha.statistics.disclosure import Grid

DATA = Path(__file__).resolve().parent / "data"

# EU-27 member states since 1 February 2020 (ISO 3166-1 alpha-2; Greece as GR).
EU27 = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

SEXES = (("female", _("Female")), ("male", _("Male")), ("unknown", _("Other or unknown")))
AGES = (("child", _("Child")), ("adult", _("Adult")), ("unknown", _("Unknown age")))
STATUSES = (("identified", _("Identified victims")), ("presumed", _("Presumed victims")))
CITIZENSHIP_GROUPS = (
    ("national", _("Nationals")),
    ("eu", _("Other EU-27 citizens")),
    ("non_eu", _("Non-EU citizens")),
    ("unknown", _("Citizenship unknown")),
)
FORM_GROUPS = (
    ("sexual", _("Sexual exploitation")),
    ("labour", _("Labour exploitation")),
    ("other", _("Other forms")),
    ("unknown", _("Form unknown")),
)
GLOTIP_GROUPS = (
    ("women", _("Women")),
    ("men", _("Men")),
    ("girls", _("Girls")),
    ("boys", _("Boys")),
    ("unknown", _("Sex or age unknown")),
)
SCOPES = (
    ("internal", _("Internal")),
    ("transnational", _("Transnational")),
    ("unknown", _("Unknown")),
)
FORM_GROUP_OF = {
    ExploitationType.SEXUAL: "sexual",
    ExploitationType.FORCED_LABOUR: "labour",
    ExploitationType.SERVITUDE: "labour",
}


@dataclass
class Table:
    """One table: labels, the exact counts and their margins, and what defines them."""

    definition: Definition
    year: int
    row_labels: list[Promise | str]
    column_labels: list[Promise | str]
    grid: Grid
    total_label: Promise | str = _("Total")
    notes: list[Promise | str] = field(default_factory=list)
    rate: float | None = None  # table 16 only: victims per 100,000 inhabitants
    population: int | None = None
    # A new criminal code came into force in the year (Eurostat flag "b" on every figure).
    series_break: bool = False
    # Suppressed even in the exact view (protected witnesses: nobody may narrow one down).
    always_suppressed: bool = False
    # Cells hidden before secondary suppression because a filter could otherwise be used to
    # difference them out (``streha.statistics.filters``), and the filter, as stated in files.
    forced_hidden: set = field(default_factory=set)
    # What each row stands for where the labels are data (table 4: ISO codes; "??" unknown).
    row_keys: list = field(default_factory=list)
    filter_label: str = ""
    # Amounts in euros beside the counts (tables 11 and 12): one grid of the same rows, each
    # column hidden wherever the count column it belongs to (``amount_of``) is hidden.
    amounts: Grid | None = None
    amount_labels: list[Promise | str] = field(default_factory=list)
    amount_of: list[int] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.definition.code


@dataclass
class Victim:
    """What the tables need to know of one registered victim in one year, nothing identifying."""

    status: str  # identified | presumed
    sex: str
    age: str  # child | adult | unknown
    citizenship: str  # ISO code or ""
    forms: set[str]
    transnational: bool | None
    n: int = 1  # how many persons share exactly this description (counted together in SQL)
    # Where the filters place the person (``streha.statistics.filters``): the kind of agency
    # that registered them and the municipality (and its region) of first contact; "" unknown.
    agency_kind: str = ""
    municipality: str = ""
    region: str = ""


def _sex(gender: str) -> str:
    return {"feminine": "female", "masculine": "male"}.get(gender, "unknown")


def _age_group(age: int | None) -> str:
    if age is None:
        return "unknown"
    return "child" if age < 18 else "adult"


def _citizenship_group(code: str) -> str:
    if not code:
        return "unknown"
    if code == settings.STREHA_COUNTRY:
        return "national"
    return "eu" if code in EU27 else "non_eu"


def registered_victims(cases, year: int) -> list[Victim]:
    """The persons registered in ``year`` among ``cases`` (a statistics scope), described.

    Most persons have one victim case in a year: those are grouped and counted by the database
    (one row per distinct description, with its count). The few with several cases are read case
    by case and merged here, so that each person still counts once.
    """
    identified = Exists(CaseEvent.objects.filter(case=OuterRef("pk"), to_status=Status.IDENTIFIED))
    qualifying = cases.annotate(was_identified=identified).filter(
        Q(presumed_on__year=year) | Q(decided_on__year=year, was_identified=True)
    )
    several = (
        qualifying.order_by()
        .values("person_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values("person_id")
    )
    # Records linked as one person (streha.linkage) are merged like one person's several cases.
    clusters = _linked_clusters()
    grouped = (
        qualifying.exclude(person_id__in=several)
        .exclude(person_id__in=list(clusters))
        .annotate(identified_in_year=_identified_in(year))
        .order_by()
        .values_list(*DESCRIPTION[1:-3], "identified_in_year")
        .annotate(n=Count("pk"))
    )
    victims = [_victim([(None, *row[:-2], row[-2])], year, n=row[-1]) for row in grouped]
    by_person: dict[int, list[tuple]] = defaultdict(list)
    rows = qualifying.filter(Q(person_id__in=several) | Q(person_id__in=list(clusters)))
    for row in rows.order_by("person_id", "pk").values_list(*DESCRIPTION).iterator(chunk_size=5000):
        by_person[clusters.get(row[0], row[0])].append((*row[:-3], _identified_on(row, year)))
    victims.extend(_victim(person_cases, year) for person_cases in by_person.values())
    return victims


def _linked_clusters() -> dict[int, int]:
    """Person id -> cluster id of persons linked as duplicates (empty without the linkage app)."""
    try:
        from streha.linkage.selectors import linked_persons
    except ImportError:
        return {}
    return linked_persons()


# What describes a victim case for the tables (the last three decide "identified in the year").
DESCRIPTION = (
    "person_id",
    "person__gender",
    "person__birth_year",
    "person__citizenship",
    "is_child",
    "age_at_identification",
    "exploitation_types",
    "transnational",
    "owner_agency__kind",
    "first_contact_municipality__code",
    "first_contact_municipality__region__code",
    "presumed_on",
    "decided_on",
    "was_identified",
)


def _identified_in(year: int):
    """True when the case's identification decision fell in ``year``, as a database expression."""
    return Case_(
        When(decided_on__year=year, was_identified=True, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _identified_on(row: tuple, year: int) -> bool:
    decided_on, was_identified = row[-2], row[-1]
    return bool(was_identified and decided_on is not None and decided_on.year == year)


def _victim(cases: list[tuple], year: int, n: int = 1) -> Victim:
    """One person from their cases in the year: (person, gender, birth year, citizenship,
    is child, age at identification, forms, transnational, agency kind, municipality, region,
    identified in the year). The filters place the person by their first counted case."""
    identified = [c for c in cases if c[11]]
    status = "identified" if identified else "presumed"
    counted = identified or cases
    _, gender, birth_year, citizenship = cases[0][:4]
    age: int | None = next((c[5] for c in counted if c[5] is not None), None)
    if age is None and birth_year:
        age = year - birth_year
    age_group = _age_group(age)
    if age_group == "unknown" and any(c[4] for c in counted):
        age_group = "child"
    forms = {form for c in cases for form in (c[6] or [])}
    scopes = {c[7] for c in cases}
    transnational = True if True in scopes else (False if False in scopes else None)
    agency_kind, municipality, region = counted[0][8:11]
    return Victim(
        status,
        _sex(gender),
        age_group,
        citizenship or "",
        forms,
        transnational,
        n,
        agency_kind or "",
        municipality or "",
        region or "",
    )


def _grid(rows: list[str], columns: list[str], counts: dict[tuple[str, str], int]) -> Grid:
    cells = [[counts.get((r, c), 0) for c in columns] for r in rows]
    return Grid.from_cells(cells, width=len(columns))


def _keys(pairs) -> list[str]:
    return [key for key, _label in pairs]


def _labels(pairs) -> list:
    return [label for _key, label in pairs]


SEX_AGE = [(s, a) for s, _sl in SEXES for a, _al in AGES]


def _sex_age_labels() -> list[str]:
    return [f"{sl} · {al}" for _s, sl in SEXES for _a, al in AGES]


def table_status_sex_age(year: int, victims: list[Victim]) -> Table:
    counts: dict = defaultdict(int)
    for v in victims:
        counts[(v.status, f"{v.sex}/{v.age}")] += v.n
    columns = [f"{s}/{a}" for s, a in SEX_AGE]
    return Table(
        DEFINITIONS["T01"],
        year,
        _labels(STATUSES),
        _sex_age_labels(),
        _grid(_keys(STATUSES), columns, counts),
        total_label=_("Registered victims"),
    )


def table_citizenship_sex(year: int, victims: list[Victim]) -> Table:
    counts: dict = defaultdict(int)
    for v in victims:
        counts[(_citizenship_group(v.citizenship), v.sex)] += v.n
    return Table(
        DEFINITIONS["T02"],
        year,
        _labels(CITIZENSHIP_GROUPS),
        _labels(SEXES),
        _grid(_keys(CITIZENSHIP_GROUPS), _keys(SEXES), counts),
    )


def _form_groups(forms: set[str]) -> set[str]:
    if not forms:
        return {"unknown"}
    return {FORM_GROUP_OF.get(form, "other") for form in forms}


def table_forms_sex_age(year: int, victims: list[Victim]) -> Table:
    counts: dict = defaultdict(int)
    persons: dict = defaultdict(int)
    for v in victims:
        column = f"{v.sex}/{v.age}"
        persons[column] += v.n
        for group in _form_groups(v.forms):
            counts[(group, column)] += v.n
    columns = [f"{s}/{a}" for s, a in SEX_AGE]
    grid = Grid.from_cells(
        [[counts.get((g, c), 0) for c in columns] for g in _keys(FORM_GROUPS)],
        column_totals=[persons.get(c, 0) for c in columns],
    )
    return Table(
        DEFINITIONS["T03"],
        year,
        _labels(FORM_GROUPS),
        _sex_age_labels(),
        grid,
        total_label=_("Registered victims (persons)"),
        notes=[_("A victim exploited in several forms is in several rows.")],
    )


def _glotip_group(v: Victim) -> str:
    if v.sex == "unknown" or v.age == "unknown":
        return "unknown"
    return {
        ("female", "adult"): "women",
        ("male", "adult"): "men",
        ("female", "child"): "girls",
        ("male", "child"): "boys",
    }[(v.sex, v.age)]


# Resolved when shown, in the reader's language, like the other labels.
_country_name = lazy(countries.name, str)
_place_name = lazy(lambda place: place.name, str)


def table_country_glotip(year: int, victims: list[Victim]) -> Table:
    counts: dict = defaultdict(int)
    for v in victims:
        counts[(v.citizenship or "??", _glotip_group(v))] += v.n
    codes = sorted({country for country, _group in counts}, key=lambda c: (c == "??", c))
    labels = [_country_name(c) if c != "??" else _("Citizenship unknown") for c in codes]
    return Table(
        DEFINITIONS["T04"],
        year,
        labels,
        _labels(GLOTIP_GROUPS),
        _grid(codes, _keys(GLOTIP_GROUPS), counts),
        row_keys=codes,
    )


def table_scope_form_sex(year: int, victims: list[Victim]) -> Table:
    counts: dict = defaultdict(int)
    for v in victims:
        scope = {True: "transnational", False: "internal", None: "unknown"}[v.transnational]
        for group in _form_groups(v.forms):
            counts[(f"{scope}/{group}", v.sex)] += v.n
    rows = [f"{s}/{g}" for s in _keys(SCOPES) for g in _keys(FORM_GROUPS)]
    labels = [f"{sl} · {gl}" for _s, sl in SCOPES for _g, gl in FORM_GROUPS]
    persons: dict = defaultdict(int)
    for v in victims:
        persons[v.sex] += v.n
    grid = Grid.from_cells(
        [[counts.get((r, s), 0) for s in _keys(SEXES)] for r in rows],
        column_totals=[persons.get(s, 0) for s in _keys(SEXES)],
    )
    return Table(
        DEFINITIONS["T05"],
        year,
        labels,
        _labels(SEXES),
        grid,
        total_label=_("Registered victims (persons)"),
        notes=[_("A victim exploited in several forms is in several rows.")],
    )


@dataclass
class ReflectionEntry:
    """One person in one row of table 15 (granted or ended), and where the filters place them."""

    row: str  # granted | ended
    sex: str
    agency_kind: str = ""
    municipality: str = ""
    region: str = ""
    n: int = 1


_PLACE = (
    "person__gender",
    "owner_agency__kind",
    "first_contact_municipality__code",
    "first_contact_municipality__region__code",
)


def reflection_entries(cases, year: int) -> list[ReflectionEntry]:
    """The persons whose reflection period started (granted) or ended in ``year``, once per
    person (or cluster of linked records) and row, placed by their first case of the row.

    Most persons have one such case in a row: those are counted by the database, grouped by
    sex and place. The few with several cases, or linked as duplicates, are read case by case
    and counted once here.
    """
    clusters = _linked_clusters()
    linked = list(clusters)
    entries = []
    for key, lookup in (("granted", "presumed_on__year"), ("ended", "reflection_ends_on__year")):
        in_row = cases.filter(**{lookup: year}, reflection_ends_on__isnull=False)
        several = (
            in_row.order_by()
            .values("person_id")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .values("person_id")
        )
        grouped = (
            in_row.exclude(person_id__in=several)
            .exclude(person_id__in=linked)
            .order_by()
            .values_list(*_PLACE)
            .annotate(n=Count("pk"))
        )
        for gender, kind, municipality, region, n in grouped:
            entries.append(
                ReflectionEntry(key, _sex(gender), kind or "", municipality or "", region or "", n)
            )
        seen = set()
        rows = (
            in_row.filter(Q(person_id__in=several) | Q(person_id__in=linked))
            .order_by("person_id", "pk")
            .values_list("person_id", *_PLACE)
        )
        for person_id, gender, kind, municipality, region in rows.iterator(chunk_size=5000):
            person = ("cluster", clusters[person_id]) if person_id in clusters else person_id
            if person not in seen:
                seen.add(person)
                entries.append(
                    ReflectionEntry(key, _sex(gender), kind or "", municipality or "", region or "")
                )
    return entries


def table_reflection_periods_of(year: int, entries: list[ReflectionEntry]) -> Table:
    counts: dict = defaultdict(int)
    for entry in entries:
        counts[(entry.row, entry.sex)] += entry.n
    grid = Grid.from_cells(
        [[counts.get((r, s), 0) for s in _keys(SEXES)] for r in ("granted", "ended")],
        column_totals=[
            sum(counts.get((r, s), 0) for r in ("granted", "ended")) for s in _keys(SEXES)
        ],
    )
    # "Granted" and "ended" may hold the same person: the column totals are given, not summed.
    grid.column_totals_add_up = False
    return Table(
        DEFINITIONS["T15"],
        year,
        [_("Reflection periods granted"), _("Reflection periods ended")],
        _labels(SEXES),
        grid,
        total_label=_("Both rows"),
    )


def table_reflection_periods(cases, year: int) -> Table:
    return table_reflection_periods_of(year, reflection_entries(cases, year))


@cache
def population() -> dict[str, dict]:
    """Resident population by country and year, with the source of each figure."""
    return json.loads((DATA / "population.json").read_text(encoding="utf-8"))


def population_of(year: int) -> tuple[int | None, str]:
    country = population().get(settings.STREHA_COUNTRY, {})
    figures = country.get("figures", {})
    known = sorted(int(y) for y in figures if int(y) <= year)
    if not known:
        return None, ""
    entry = figures[str(known[-1])]
    return entry["population"], entry["source"]


def table_rate(year: int, victims: list[Victim]) -> Table:
    count = sum(v.n for v in victims)
    grid = Grid.from_cells([[count]])
    inhabitants, source = population_of(year)
    notes = [_("Population: %(source)s") % {"source": source}] if source else []
    return Table(
        DEFINITIONS["T16"],
        year,
        [_("Registered victims")],
        [_("Persons")],
        grid,
        notes=notes,
        rate=None if not inhabitants else round(count * 100_000 / inhabitants, 1),
        population=inhabitants,
    )


OUTCOMES = (
    ("victim_case", _("Victim case")),
    ("police_report", _("Police report")),
    ("closed", _("Closed")),
    ("open", _("Open")),
)


@dataclass
class TipGroup:
    """Tips of the year sharing category, outcome, channel and municipality, counted in SQL."""

    category: str
    outcome: str
    channel: str
    municipality_id: int | None
    municipality: str  # code, "" unknown
    region: str
    n: int
    agency_kind: str = ""  # tips come from the public: no agency kind places them


def tip_groups(tips, year: int) -> list[TipGroup]:
    """The year's tips in one grouped query, shared by the two tip tables."""
    rows = (
        tips.filter(received_on__year=year)
        .order_by()
        .values_list(
            "category",
            "converted_kind",
            "status",
            "channel",
            "municipality_id",
            "municipality__code",
            "municipality__region__code",
        )
        .annotate(n=Count("pk"))
    )
    return [
        TipGroup(
            category,
            converted_kind or ("closed" if status == "closed" else "open"),
            channel,
            municipality_id,
            municipality or "",
            region or "",
            n,
        )
        for category, converted_kind, status, channel, municipality_id, municipality, region, n in (
            rows
        )
    ]


def table_tips_by_category_of(year: int, groups: list[TipGroup]) -> Table:
    from streha.tips.models import Category

    counts: dict = defaultdict(int)
    for group in groups:
        counts[(group.category, group.outcome)] += group.n
    return Table(
        DEFINITIONS["TIP1"],
        year,
        list(Category.labels),
        _labels(OUTCOMES),
        _grid(list(Category.values), _keys(OUTCOMES), counts),
    )


def table_tips_by_municipality_of(year: int, groups: list[TipGroup]) -> Table:
    from streha.places.models import Municipality
    from streha.tips.models import Channel

    counts: dict = defaultdict(int)
    for group in groups:
        counts[(group.municipality_id, group.channel)] += group.n
    municipalities = Municipality.objects.in_bulk({m for m, _c in counts if m is not None})
    ordered = sorted(municipalities.values(), key=lambda m: m.code)
    keys = [*(m.pk for m in ordered), None]
    labels = [*(_place_name(m) for m in ordered), _("Municipality unknown")]
    return Table(
        DEFINITIONS["TIP2"],
        year,
        labels,
        list(Channel.labels),
        _grid(keys, list(Channel.values), counts),
    )


def table_tips_by_category(tips, year: int) -> Table:
    return table_tips_by_category_of(year, tip_groups(tips, year))


def table_tips_by_municipality(tips, year: int) -> Table:
    return table_tips_by_municipality_of(year, tip_groups(tips, year))


# Tables built from the year's registered victims, by code (in the order of the codes).
VICTIM_TABLES = {
    "T01": table_status_sex_age,
    "T02": table_citizenship_sex,
    "T03": table_forms_sex_age,
    "T04": table_country_glotip,
    "T05": table_scope_form_sex,
    "T16": table_rate,
}


# Tables built from rows read once (``read_rows``) and shared by every table of one report;
# the filters of ``streha.statistics.filters`` select among those rows.
ROW_TABLES = {
    **{code: ("victims", build) for code, build in VICTIM_TABLES.items()},
    "T15": ("reflection", table_reflection_periods_of),
    "TIP1": ("tips", table_tips_by_category_of),
    "TIP2": ("tips", table_tips_by_municipality_of),
}


def read_rows(kind: str, cases, tips, year: int) -> list:
    if kind == "victims":
        return registered_victims(cases, year)
    if kind == "reflection":
        return reflection_entries(cases, year)
    return tip_groups(tips, year)


def national_tables(
    cases, year: int, tips=None, criminal_cases=None, tick=None, table_filter=None
) -> list[Table]:
    """Every table available for ``year`` from ``cases`` (``policy.cases_for_statistics`` or
    ``policy.cases_for_national_report``) and ``criminal_cases`` (the justice scope of
    ``streha.statistics.selectors``), in the order of their codes. Rows are read once for all
    the tables made from them; ``tick()`` is called after each table (a job's progress)."""
    rows: dict[str, list] = {}
    tables = []

    def made(table: Table) -> None:
        tables.append(table)
        if tick is not None:
            tick()

    def from_rows(code: str) -> Table:
        kind, build = ROW_TABLES[code]
        if kind not in rows:
            rows[kind] = read_rows(kind, cases, tips, year)
        if table_filter:
            from streha.statistics.filters import filtered

            return filtered(code, year, rows[kind], build, table_filter)
        return build(year, rows[kind])

    for code in ("T01", "T02", "T03", "T04", "T05"):
        made(from_rows(code))
    if criminal_cases is not None:
        from streha.statistics.justice import JUSTICE_CODES, justice_table

        for code in JUSTICE_CODES:
            made(justice_table(cases, criminal_cases, code, year))
    made(from_rows("T15"))
    made(from_rows("T16"))
    if tips is not None:
        made(from_rows("TIP1"))
        made(from_rows("TIP2"))
    return tables


def table(cases, code: str, year: int, tips=None, criminal_cases=None, table_filter=None):
    """One table, computing only what it needs (a page or an API call shows one); with a
    ``table_filter`` (``streha.statistics.filters.TableFilter``) that applies to the table,
    counted among the filtered rows and protected against differencing."""
    if code in ROW_TABLES:
        kind, build = ROW_TABLES[code]
        if kind == "tips" and tips is None:
            return None
        rows = read_rows(kind, cases, tips, year)
        if table_filter:
            from streha.statistics.filters import filtered

            return filtered(code, year, rows, build, table_filter)
        return build(year, rows)
    if criminal_cases is not None:
        from streha.statistics.justice import justice_table

        return justice_table(cases, criminal_cases, code, year)
    return None


def default_year() -> int:
    return timezone.localdate().year
