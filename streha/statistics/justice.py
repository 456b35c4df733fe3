"""The justice tables (T06–T14), counted from the non-identifying fields of the justice records.

Everything here reads a queryset of criminal cases handed over by the justice app's statistics
scope (``streha.statistics.selectors.criminal_cases_for_statistics``, the analyst's scope of the
access policy) and, for the victims' side, the victim cases of ``policy.cases_for_statistics``.
No protected column is read and nothing is decrypted: stages, dates, outcomes, sentences,
offences, amounts, and the sex and citizenship of the person records are stored in clear.
Witnesses are counted by their pseudonymous record and measures only: the seal that links a
pseudonym to a person is never opened here (``WitnessSeal`` is not even imported).

Persons are counted once per table row and year: defendants and victims by their person record,
or by their duplicate cluster when ``streha.linkage`` has linked records as one person.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from streha.cases.models import CaseEvent, Status
from streha.justice import catalogue
from streha.justice.models import (
    AssetKind,
    Charge,
    ChargeStage,
    ClaimDecision,
    CompensationDecision,
    ConfiscationStage,
    Defendant,
    EventKind,
    InjuredParty,
    Instance,
    Judgment,
    Measure,
    Offence,
    OrderStatus,
    Outcome,
    PermitGround,
    PermitStatus,
    ProceedingEvent,
    ProtectionOrder,
    SentenceKind,
    StateCompensation,
    ThbScope,
)
from streha.statistics.definitions import DEFINITIONS
from streha.statistics.disclosure import Grid
from streha.statistics.figures import (
    CITIZENSHIP_GROUPS,
    SEXES,
    Table,
    _citizenship_group,
    _keys,
    _labels,
    _linked_clusters,
    _sex,
)

REPORT_KINDS = (EventKind.CRIMINAL_REPORT, EventKind.SPECIAL_REPORT)
CONVICTED = (Outcome.CONVICTED, Outcome.PARTLY)

JUSTICE_STAGES = (
    ("suspected", _("Suspected")),
    ("prosecuted", _("Prosecuted")),
    ("convicted_first", _("Convicted at first instance")),
    ("convicted_final", _("Convicted by a final judgment")),
)
OFFENCE_SCOPES = (
    ("core", _("Trafficking in human beings")),
    ("related", _("Related offences")),
    ("other", _("Other or no offence recorded")),
)
SENTENCE_BANDS = (
    ("acquitted", _("Acquitted")),
    ("rejected", _("Charge rejected")),
    ("fine", _("Convicted: fine only")),
    ("suspended", _("Convicted: suspended sentence")),
    ("under_1", _("Convicted: imprisonment under 1 year")),
    ("1_5", _("Convicted: imprisonment 1 year to under 5 years")),
    ("5_12", _("Convicted: imprisonment 5 to 12 years")),
    ("over_12", _("Convicted: imprisonment over 12 years")),
    ("other", _("Convicted: other or no sentence recorded")),
)
INSTANCE_GROUPS = (("first", _("First instance")), ("final", _("Final judgments")))
FUNNEL_STEPS = (
    ("identified", _("Identified victims (persons)")),
    ("in_case", _("Victims in a criminal case (persons)")),
    ("reported", _("Criminal reports (criminal cases)")),
    ("indicted", _("Indictments (criminal cases)")),
    ("convicted_first", _("First-instance convictions (criminal cases)")),
    ("convicted_final", _("Final convictions (criminal cases)")),
)
COMPENSATION_ROWS = (
    ("court_filed", _("Court-ordered: claims filed")),
    ("court_granted", _("Court-ordered: claims granted")),
    ("court_paid", _("Court-ordered: claims paid")),
    ("state_filed", _("State compensation: applications filed")),
    ("state_granted", _("State compensation: applications granted")),
    ("state_paid", _("State compensation: paid")),
)

_SCOPE_RANK = {ThbScope.CORE.value: 0, ThbScope.RELATED.value: 1}


def _person_key(clusters: dict[int, int], person_id: int) -> tuple[str, int]:
    """One key per real person: the duplicate cluster when linkage found one, else the record."""
    if person_id in clusters:
        return ("cluster", clusters[person_id])
    return ("person", person_id)


def _standing(events):
    """Events that still stand: neither corrected by a later event nor a withdrawal."""
    superseded = ProceedingEvent.objects.filter(corrects__isnull=False).values("corrects_id")
    return events.exclude(pk__in=superseded).exclude(withdrawn=True)


def _grid(rows, columns, counts, **margins) -> Grid:
    cells = [[counts.get((r, c), 0) for c in columns] for r in rows]
    return Grid.from_cells(cells, width=len(columns), **margins)


def _series_note(year: int) -> list:
    breaks = [code for code in catalogue.series_breaks() if code.in_force_from.year == year]
    return [
        _(
            "Break in series: criminal code %(code)s came into force on %(date)s; figures of "
            "this year are not comparable with earlier years (flag b)."
        )
        % {"code": code.code, "date": code.in_force_from.isoformat()}
        for code in breaks
    ]


# --- T06: persons in the criminal justice system ---------------------------------------------


def _defendants_with_event(criminal_cases, kinds, year: int) -> set[int]:
    """Defendants concerned by a standing event of ``kinds`` dated in ``year``: the event's own
    defendant, or every defendant of the case when the event names none."""
    events = _standing(
        ProceedingEvent.objects.filter(
            case__in=criminal_cases, kind__in=kinds, occurred_on__year=year
        )
    )
    named, whole_cases = set(), set()
    for case_id, defendant_id in events.order_by().values_list("case_id", "defendant_id"):
        if defendant_id:
            named.add(defendant_id)
        else:
            whole_cases.add(case_id)
    ids = set(Defendant.objects.filter(case_id__in=whole_cases).values_list("pk", flat=True))
    return ids | named


def persons_in_justice(criminal_cases, year: int) -> dict[str, set[int]]:
    """Defendant ids at each stage of ``year`` (see T06's definition)."""
    judgments = Judgment.objects.filter(
        case__in=criminal_cases, decided_on__year=year, outcome__in=CONVICTED
    )
    return {
        "suspected": _defendants_with_event(criminal_cases, REPORT_KINDS, year),
        "prosecuted": _defendants_with_event(criminal_cases, [EventKind.INDICTMENT_FILED], year),
        "convicted_first": set(
            judgments.filter(instance=Instance.FIRST).values_list("defendant_id", flat=True)
        ),
        "convicted_final": set(judgments.filter(final=True).values_list("defendant_id", flat=True)),
    }


def table_persons_in_justice(criminal_cases, year: int) -> Table:
    stages = persons_in_justice(criminal_cases, year)
    ids = set().union(*stages.values())
    described = {
        pk: (person_id, _sex(gender), _citizenship_group(citizenship or ""))
        for pk, person_id, gender, citizenship in Defendant.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "person_id", "person__gender", "person__citizenship")
    }
    scope_of: dict[int, str] = {}
    charges = Charge.objects.filter(defendant_id__in=ids, replaced_by__isnull=True)
    for defendant_id, scope in charges.order_by().values_list("defendant_id", "offence__scope"):
        current = scope_of.get(defendant_id, "other")
        best = min((current, scope), key=lambda s: _SCOPE_RANK.get(s, 2))
        scope_of[defendant_id] = best if best in _SCOPE_RANK else "other"
    clusters = _linked_clusters()
    columns = [f"{s}/{c}" for s in _keys(SEXES) for c in _keys(CITIZENSHIP_GROUPS)]
    counts: dict = defaultdict(int)
    anywhere: dict = {}
    for stage, defendants in stages.items():
        persons: dict = {}
        for pk in sorted(defendants):
            person_id, sex, group = described[pk]
            key = _person_key(clusters, person_id)
            scope = scope_of.get(pk, "other")
            if key in persons:  # one person, several defendants: the most serious offence
                scope = min((persons[key][0], scope), key=lambda s: _SCOPE_RANK.get(s, 2))
                persons[key] = (scope, *persons[key][1:])
            else:
                persons[key] = (scope, f"{sex}/{group}")
        for key, (scope, column) in persons.items():
            counts[(f"{scope}/{stage}", column)] += 1
            anywhere.setdefault(key, column)
    by_column: dict = defaultdict(int)
    for column in anywhere.values():
        by_column[column] += 1
    rows = [f"{sc}/{st}" for sc in _keys(OFFENCE_SCOPES) for st in _keys(JUSTICE_STAGES)]
    grid = _grid(rows, columns, counts, column_totals=[by_column[c] for c in columns])
    return Table(
        DEFINITIONS["T06"],
        year,
        [f"{scl} · {stl}" for _sc, scl in OFFENCE_SCOPES for _st, stl in JUSTICE_STAGES],
        [f"{sl} · {cl}" for _s, sl in SEXES for _c, cl in CITIZENSHIP_GROUPS],
        grid,
        total_label=_("Persons at any stage"),
        notes=[
            _("A person at several stages of the year is in several rows."),
            *_series_note(year),
        ],
        series_break=catalogue.is_series_break_year(year),
    )


# --- T07: the attrition funnel ---------------------------------------------------------------


def _identified(cases, year: int):
    identified = Exists(CaseEvent.objects.filter(case=OuterRef("pk"), to_status=Status.IDENTIFIED))
    return cases.annotate(was_identified=identified).filter(
        decided_on__year=year, was_identified=True
    )


def _cases_with(criminal_cases, kinds, year: int | None) -> set[int]:
    events = ProceedingEvent.objects.filter(case__in=criminal_cases, kind__in=kinds)
    if year is not None:
        events = events.filter(occurred_on__year=year)
    return set(_standing(events).order_by().values_list("case_id", flat=True))


def _cases_convicted(criminal_cases, year: int | None, **instance) -> set[int]:
    judgments = Judgment.objects.filter(case__in=criminal_cases, outcome__in=CONVICTED, **instance)
    if year is not None:
        judgments = judgments.filter(decided_on__year=year)
    return set(judgments.order_by().values_list("case_id", flat=True))


def _funnel(victim_cases, criminal_cases, year: int | None, only=None) -> dict[str, int]:
    """The steps of the funnel; ``only``: the criminal case ids of a cohort (each step then
    reads the justice records once and keeps the cohort's cases, instead of joining the
    cohort's victims into every query)."""
    clusters = _linked_clusters()

    def persons(rows) -> int:
        return len({_person_key(clusters, person_id) for person_id in rows})

    def kept(ids: set[int]) -> int:
        return len(ids if only is None else ids & only)

    through = criminal_cases.model.victim_cases.through
    links = through.objects.filter(case_id__in=victim_cases.values("pk"))
    if only is None:
        links = links.filter(criminalcase_id__in=criminal_cases.values("pk"))
    if year is not None:
        links = links.filter(criminalcase__opened_on__year=year)
    in_case = [
        person_id
        for case_id, person_id in links.values_list("criminalcase_id", "case__person_id")
        if only is None or case_id in only
    ]
    return {
        "identified": persons(victim_cases.values_list("person_id", flat=True)),
        "in_case": persons(in_case),
        "reported": kept(_cases_with(criminal_cases, REPORT_KINDS, year)),
        "indicted": kept(_cases_with(criminal_cases, [EventKind.INDICTMENT_FILED], year)),
        "convicted_first": kept(_cases_convicted(criminal_cases, year, instance=Instance.FIRST)),
        "convicted_final": kept(_cases_convicted(criminal_cases, year, final=True)),
    }


def table_attrition(cases, criminal_cases, year: int) -> Table:
    """By year: each step counted by its own event dated in the year. Cohort: the victims
    identified in the year, and the criminal cases they are victims in, followed to this day."""
    by_year = _funnel(_identified(cases, year), criminal_cases, year)
    cohort_victims = _identified(cases, year)
    cohort_cases = set(
        criminal_cases.filter(victim_cases__in=cohort_victims.values("pk"))
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )
    cohort = _funnel(cohort_victims, criminal_cases, None, only=cohort_cases)
    counts = {(step, "year"): by_year[step] for step in by_year}
    counts |= {(step, "cohort"): cohort[step] for step in cohort}
    grid = _grid(_keys(FUNNEL_STEPS), ["year", "cohort"], counts, margins=False)
    return Table(
        DEFINITIONS["T07"],
        year,
        _labels(FUNNEL_STEPS),
        [_("Events dated in the year"), _("Cohort of the year, followed to date")],
        grid,
        notes=[_("Rows count different units and do not add up."), *_series_note(year)],
        series_break=catalogue.is_series_break_year(year),
    )


# --- T08: offences by article ----------------------------------------------------------------

_offence_label = lazy(lambda offence: f"{offence.citation} {offence.title}", str)
_code_label = lazy(lambda code: f"{code.code} {code.title}", str)

CHARGE_STAGES = (
    (ChargeStage.REPORT.value, _("At the criminal report")),
    (ChargeStage.INDICTMENT.value, _("In the indictment")),
    (ChargeStage.JUDGMENT.value, _("In the judgment")),
)


def _charges(criminal_cases, year: int):
    return Charge.objects.filter(defendant__case__in=criminal_cases, recorded_on__year=year)


def table_offences(criminal_cases, year: int) -> Table:
    offences = list(
        Offence.objects.filter(scope__in=[ThbScope.CORE, ThbScope.RELATED])
        .select_related("criminal_code")
        .order_by("criminal_code__in_force_from", "scope", "article", "paragraph")
    )
    known = {offence.pk for offence in offences}
    counts: dict = defaultdict(int)
    rows = _charges(criminal_cases, year).order_by().values_list("offence_id", "stage")
    for offence_id, stage in rows:
        counts[(offence_id if offence_id in known else "other", stage)] += 1
    keys = [*(offence.pk for offence in offences), "other"]
    labels = [*(_offence_label(offence) for offence in offences), _("Other offences")]
    return Table(
        DEFINITIONS["T08"],
        year,
        labels,
        _labels(CHARGE_STAGES),
        _grid(keys, _keys(CHARGE_STAGES), counts),
        total_label=_("Charges"),
        notes=_series_note(year),
        series_break=catalogue.is_series_break_year(year),
    )


# --- T09: judgments and sentences ------------------------------------------------------------


def sentence_band(outcome: str, sentences: list[tuple[str, int | None]]) -> str:
    """The band of one judgment (see T09's definition): the longest imprisonment decides."""
    if outcome == Outcome.ACQUITTED:
        return "acquitted"
    if outcome == Outcome.REJECTED:
        return "rejected"
    # Bands of the reference tables (justice-stats.md §6.3, T9: "<1y, 1–<5y, 5–12y, >12y"), in
    # months because sentences are stored in months (a year is 12): exactly 5 years is in 5–12.
    months = [m for kind, m in sentences if kind == SentenceKind.IMPRISONMENT and m is not None]
    if months:
        longest = max(months)
        if longest < 12:
            return "under_1"
        if longest < 60:
            return "1_5"
        return "5_12" if longest <= 144 else "over_12"
    kinds = {kind for kind, _m in sentences}
    if SentenceKind.SUSPENDED in kinds:
        return "suspended"
    if SentenceKind.FINE in kinds:
        return "fine"
    return "other"


def table_judgments(criminal_cases, year: int) -> Table:
    judgments = (
        Judgment.objects.filter(case__in=criminal_cases, decided_on__year=year)
        .select_related("defendant")
        .prefetch_related("sentences")
        .order_by("decided_on", "pk")
    )
    clusters = _linked_clusters()
    latest: dict = {}
    for judgment in judgments:
        key = _person_key(clusters, judgment.defendant.person_id)
        if judgment.instance == Instance.FIRST:
            latest[("first", key)] = judgment
        if judgment.final:
            latest[("final", key)] = judgment
    counts: dict = defaultdict(int)
    for (group, _key), judgment in latest.items():
        sentences = list(judgment.sentences.all())
        band = sentence_band(judgment.outcome, [(s.kind, s.months) for s in sentences])
        below = any(s.below_minimum for s in sentences)
        counts[(f"{group}/{band}", "below" if below else "within")] += 1
    rows = [f"{g}/{b}" for g in _keys(INSTANCE_GROUPS) for b in _keys(SENTENCE_BANDS)]
    return Table(
        DEFINITIONS["T09"],
        year,
        [f"{gl} · {bl}" for _g, gl in INSTANCE_GROUPS for _b, bl in SENTENCE_BANDS],
        [_("At or above the statutory minimum"), _("Below the statutory minimum")],
        _grid(rows, ["within", "below"], counts),
        total_label=_("Persons judged (once per instance)"),
        notes=_series_note(year),
        series_break=catalogue.is_series_break_year(year),
    )


# --- T10: reclassified charges ---------------------------------------------------------------


def table_reclassified(criminal_cases, year: int) -> Table:
    rows = (
        _charges(criminal_cases, year)
        .filter(replaces__offence__scope=ThbScope.CORE, stage__in=["indictment", "judgment"])
        .exclude(offence__scope=ThbScope.CORE)
        .order_by()
        .values_list("replaces__offence_id", "offence_id", "stage")
    )
    counts: dict = defaultdict(int)
    for source, target, stage in rows:
        counts[((source, target), stage)] += 1
    pairs = sorted({pair for pair, _stage in counts})
    offences = Offence.objects.select_related("criminal_code").in_bulk(
        {pk for pair in pairs for pk in pair}
    )
    labels = [_reclassified_label(offences[source], offences[target]) for source, target in pairs]
    columns = [ChargeStage.INDICTMENT.value, ChargeStage.JUDGMENT.value]
    return Table(
        DEFINITIONS["T10"],
        year,
        labels,
        [_("In the indictment"), _("In the judgment")],
        _grid(pairs, columns, counts),
        total_label=_("Reclassified charges"),
        notes=_series_note(year),
        series_break=catalogue.is_series_break_year(year),
    )


_reclassified_label = lazy(
    lambda source, target: f"{source.citation} → {target.citation} {target.title}", str
)


# --- T11: confiscation -----------------------------------------------------------------------


def _euros(value: Decimal | None) -> int:
    return int((value or Decimal(0)).quantize(Decimal(1)))


def table_confiscation(criminal_cases, year: int) -> Table:
    from streha.justice.models import Confiscation

    records = (
        Confiscation.objects.filter(case__in=criminal_cases, decided_on__year=year)
        .order_by()
        .values_list("case_id", "asset", "stage", "value_eur")
    )
    cases: dict = defaultdict(set)
    euros: dict = defaultdict(Decimal)
    for case_id, asset, stage, value in records:
        for key in ((asset, stage), (asset, "any"), ("any", stage), ("any", "any")):
            cases[key].add(case_id)
        euros[(asset, stage)] += value or Decimal(0)
    assets, stages = _keys(AssetKind.choices), _keys(ConfiscationStage.choices)
    count_grid = Grid.from_cells(
        [[len(cases[(a, s)]) for s in stages] for a in assets],
        column_totals=[len(cases[("any", s)]) for s in stages],
        row_totals=[len(cases[(a, "any")]) for a in assets],
        grand_total=len(cases[("any", "any")]),
    )
    amounts = Grid.from_cells([[_euros(euros[(a, s)]) for s in stages] for a in assets])
    return Table(
        DEFINITIONS["T11"],
        year,
        _labels(AssetKind.choices),
        [_("Criminal cases: seized"), _("Criminal cases: confiscated")],
        count_grid,
        total_label=_("Criminal cases"),
        notes=[_("A criminal case with several assets is in several rows.")],
        amounts=amounts,
        amount_labels=[_("Euros seized"), _("Euros confiscated")],
        amount_of=[0, 1],
    )


# --- T12: compensation -----------------------------------------------------------------------


def table_compensation(criminal_cases, year: int) -> Table:
    parties = InjuredParty.objects.filter(case__in=criminal_cases)
    court = {
        "court_filed": (
            parties.filter(claim_filed=True, case__opened_on__year=year),
            "amount_claimed",
        ),
        "court_granted": (
            parties.filter(
                decision__in=[ClaimDecision.GRANTED, ClaimDecision.PARTLY], decided_on__year=year
            ),
            "amount_awarded",
        ),
        "court_paid": (parties.filter(amount_paid__gt=0, decided_on__year=year), "amount_paid"),
    }
    applications = StateCompensation.objects.filter(injured_party__case__in=criminal_cases)
    state = {
        "state_filed": (applications.filter(applied_on__year=year), None),
        "state_granted": (
            applications.filter(decision=CompensationDecision.GRANTED, decided_on__year=year),
            "amount_eur",
        ),
        "state_paid": (applications.filter(paid_on__year=year), "amount_eur"),
    }
    clusters = _linked_clusters()
    counts: dict = defaultdict(int)
    persons_by_sex: dict = defaultdict(set)
    amounts: list[list[int | None]] = []
    for row, (records, amount_field) in (court | state).items():
        prefix = "" if row.startswith("court") else "injured_party__"
        fields = [f"{prefix}victim_case__person_id", f"{prefix}victim_case__person__gender"]
        seen: dict = {}
        total = Decimal(0)
        for person_id, gender, amount in records.order_by("pk").values_list(
            *fields, amount_field or "pk"
        ):
            seen.setdefault(_person_key(clusters, person_id), _sex(gender))
            total += amount if amount_field and amount else Decimal(0)
        for key, sex in seen.items():
            counts[(row, sex)] += 1
            persons_by_sex[sex].add(key)
        amounts.append([_euros(total) if amount_field else None])
    grid = _grid(
        _keys(COMPENSATION_ROWS),
        _keys(SEXES),
        counts,
        column_totals=[len(persons_by_sex[s]) for s in _keys(SEXES)],
    )
    return Table(
        DEFINITIONS["T12"],
        year,
        _labels(COMPENSATION_ROWS),
        _labels(SEXES),
        grid,
        total_label=_("Victims in any row (persons)"),
        notes=[_("Rows follow a claim from filing to payment and do not add up.")],
        amounts=Grid.from_cells(amounts, margins=False),
        amount_labels=[_("Euros")],
        amount_of=[len(SEXES)],  # each row's amount is hidden with the row's total
    )


# --- T13: residence permits ------------------------------------------------------------------

PERMIT_ROWS = [(g, s) for g, _gl in PermitGround.choices for s, _sl in PermitStatus.choices]


def table_residence_permits(criminal_cases, year: int) -> Table:
    from streha.justice.models import ResidencePermit

    permits = (
        ResidencePermit.objects.filter(
            injured_party__case__in=criminal_cases, decided_on__year=year
        )
        .order_by("pk")
        .values_list(
            "ground",
            "status",
            "injured_party__victim_case__person_id",
            "injured_party__victim_case__person__gender",
        )
    )
    clusters = _linked_clusters()
    in_row: dict = defaultdict(dict)
    anywhere: dict = {}
    for ground, status, person_id, gender in permits:
        key = _person_key(clusters, person_id)
        in_row[(ground, status)].setdefault(key, _sex(gender))
        anywhere.setdefault(key, _sex(gender))
    counts: dict = defaultdict(int)
    for row, persons in in_row.items():
        for sex in persons.values():
            counts[(row, sex)] += 1
    by_sex: dict = defaultdict(int)
    for sex in anywhere.values():
        by_sex[sex] += 1
    labels = [f"{gl} · {sl}" for _g, gl in PermitGround.choices for _s, sl in PermitStatus.choices]
    return Table(
        DEFINITIONS["T13"],
        year,
        labels,
        _labels(SEXES),
        _grid(PERMIT_ROWS, _keys(SEXES), counts, column_totals=[by_sex[s] for s in _keys(SEXES)]),
        total_label=_("Victims with a decision (persons)"),
    )


# --- T14: protected witnesses by measure -----------------------------------------------------


def table_protected_witnesses(criminal_cases, year: int) -> Table:
    """Witnesses by the measure ordered and the state of the order; never a pseudonym, a case
    or a date finer than the year, and always suppressed (even in the exact view)."""
    orders = (
        ProtectionOrder.objects.filter(witness__case__in=criminal_cases, ordered_on__year=year)
        .order_by("ordered_on", "pk")
        .values_list("witness_id", "measures", "status")
    )
    latest: dict = {}
    for witness_id, measures, status in orders:
        for measure in set(measures or []):
            latest[(witness_id, measure)] = status  # the latest order of the year decides
    counts: dict = defaultdict(int)
    by_status: dict = defaultdict(set)
    witnesses = set()
    for (witness_id, measure), status in latest.items():
        counts[(measure, status)] += 1
        by_status[status].add(witness_id)
        witnesses.add(witness_id)
    statuses = _keys(OrderStatus.choices)
    return Table(
        DEFINITIONS["T14"],
        year,
        _labels(Measure.choices),
        _labels(OrderStatus.choices),
        _grid(
            _keys(Measure.choices),
            statuses,
            counts,
            column_totals=[len(by_status[s]) for s in statuses],
            grand_total=len(witnesses),
        ),
        total_label=_("Protected witnesses"),
        notes=[_("A witness with several measures is in several rows.")],
        always_suppressed=True,
    )


JUSTICE_TABLES = {
    "T06": table_persons_in_justice,
    "T08": table_offences,
    "T09": table_judgments,
    "T10": table_reclassified,
    "T11": table_confiscation,
    "T12": table_compensation,
    "T13": table_residence_permits,
    "T14": table_protected_witnesses,
}


def justice_table(cases, criminal_cases, code: str, year: int) -> Table | None:
    if code == "T07":
        return table_attrition(cases, criminal_cases, year)
    if code in JUSTICE_TABLES:
        return JUSTICE_TABLES[code](criminal_cases, year)
    return None


def justice_tables(cases, criminal_cases, year: int) -> list[Table]:
    return [justice_table(cases, criminal_cases, code, year) for code in JUSTICE_CODES]


JUSTICE_CODES = ("T06", "T07", "T08", "T09", "T10", "T11", "T12", "T13", "T14")
