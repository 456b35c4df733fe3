"""Writes of criminal cases: every rule of the proceedings, checked here and audited.

Each service takes the acting user and the case, asks the access policy (``PermissionDenied``),
validates the input (``ValidationError`` with messages by field, never quoting the input),
refuses what the proceedings as they stand do not allow (``errors.ProceedingsRefusal``, a
domain error), writes in one transaction and records one audit event. Events are appended,
never changed; the stage, the defendants' status and the case's "downgraded" and "below
minimum" flags are derived from what was recorded, here and nowhere else.
"""

import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import AccessGrant, FieldGroup
from streha.accounts.models import Agency, AgencyKind, Role, User
from streha.audit import read_context
from streha.audit import services as audit
from streha.justice.errors import NotTheirStep, ProceedingsRefusal
from streha.justice.models import (
    Charge,
    ChargeStage,
    ClaimDecision,
    Confiscation,
    CriminalCase,
    Deadline,
    DeadlineKind,
    Defendant,
    DefendantStatus,
    EventKind,
    FunnelFigure,
    InjuredParty,
    Instance,
    Judgment,
    Offence,
    Outcome,
    ProceedingEvent,
    ProtectionOrder,
    ResidencePermit,
    Sentence,
    SentenceKind,
    Stage,
    StateCompensation,
    VictimCaseShare,
    VictimInterview,
    Witness,
    WitnessResolution,
    WitnessSeal,
)
from streha.people.models import Person

K = EventKind
S = Stage

# The stage each event leads to.
EVENT_STAGE = {
    K.POLICE_CASE_OPENED: S.POLICE,
    K.CRIMINAL_REPORT: S.REPORTED,
    K.SPECIAL_REPORT: S.REPORTED,
    K.INVESTIGATION_INITIATED: S.INVESTIGATION,
    K.INVESTIGATION_SUSPENDED: S.SUSPENDED,
    K.INVESTIGATION_TERMINATED: S.DISCONTINUED,
    K.CHARGES_DISMISSED: S.DISCONTINUED,
    K.INDICTMENT_FILED: S.INDICTED,
    K.INDICTMENT_CONFIRMED: S.INDICTED,
    K.INDICTMENT_DISMISSED: S.INDICTMENT_DISMISSED,
    K.PLEA_AGREEMENT: S.INDICTED,
    K.MAIN_TRIAL: S.TRIAL,
    K.FIRST_INSTANCE_JUDGMENT: S.JUDGED,
    K.APPEAL_FILED: S.APPEAL,
    K.APPEAL_DECIDED: S.APPEAL,
    K.RETRIAL_ORDERED: S.TRIAL,
    K.FINAL: S.FINAL,
    K.EXTRAORDINARY_REMEDY: S.FINAL,
}
# The events that may follow each stage ("" for a case without events). Judgments are
# recorded per defendant, so a judgment event may follow another.
NEXT_EVENTS: dict[str, frozenset[str]] = {
    "": frozenset({K.POLICE_CASE_OPENED, K.CRIMINAL_REPORT, K.SPECIAL_REPORT}),
    S.POLICE: frozenset({K.CRIMINAL_REPORT, K.SPECIAL_REPORT}),
    S.REPORTED: frozenset({K.INVESTIGATION_INITIATED, K.CHARGES_DISMISSED, K.INDICTMENT_FILED}),
    S.INVESTIGATION: frozenset(
        {
            K.INVESTIGATION_SUSPENDED,
            K.INVESTIGATION_TERMINATED,
            K.INDICTMENT_FILED,
            K.PLEA_AGREEMENT,
        }
    ),
    S.SUSPENDED: frozenset({K.INVESTIGATION_INITIATED, K.INVESTIGATION_TERMINATED}),
    S.DISCONTINUED: frozenset({K.INVESTIGATION_INITIATED}),
    S.INDICTED: frozenset(
        {
            K.INDICTMENT_CONFIRMED,
            K.INDICTMENT_DISMISSED,
            K.PLEA_AGREEMENT,
            K.MAIN_TRIAL,
            K.FIRST_INSTANCE_JUDGMENT,
        }
    ),
    S.INDICTMENT_DISMISSED: frozenset({K.APPEAL_FILED, K.INDICTMENT_FILED}),
    S.TRIAL: frozenset({K.FIRST_INSTANCE_JUDGMENT, K.PLEA_AGREEMENT}),
    S.JUDGED: frozenset({K.APPEAL_FILED, K.FINAL, K.FIRST_INSTANCE_JUDGMENT}),
    S.APPEAL: frozenset({K.APPEAL_DECIDED, K.RETRIAL_ORDERED, K.FINAL, K.APPEAL_FILED}),
    S.FINAL: frozenset({K.EXTRAORDINARY_REMEDY, K.FIRST_INSTANCE_JUDGMENT, K.APPEAL_DECIDED}),
}
# Events a judgment records (per defendant), by instance.
JUDGMENT_EVENT = {
    Instance.FIRST: K.FIRST_INSTANCE_JUDGMENT,
    Instance.APPEAL: K.APPEAL_DECIDED,
    Instance.SUPREME: K.EXTRAORDINARY_REMEDY,
}


@dataclass(frozen=True)
class DeadlineRule:
    """A procedural time limit opened by an event, for the office named by ``agency_field``,
    done when one of ``closed_by`` is recorded. The periods are NOT confirmed from the
    Criminal Procedure Code 08/L-032 (to be checked by a legal officer)."""

    kind: str
    days: int
    agency_field: str
    closed_by: frozenset[str]


DEADLINE_RULES = {
    K.CRIMINAL_REPORT: DeadlineRule(
        DeadlineKind.DECIDE_ON_REPORT,
        30,
        "prosecution_office",
        frozenset({K.INVESTIGATION_INITIATED, K.CHARGES_DISMISSED, K.INDICTMENT_FILED}),
    ),
    K.SPECIAL_REPORT: DeadlineRule(
        DeadlineKind.DECIDE_ON_REPORT,
        30,
        "prosecution_office",
        frozenset({K.INVESTIGATION_INITIATED, K.CHARGES_DISMISSED, K.INDICTMENT_FILED}),
    ),
    K.INVESTIGATION_INITIATED: DeadlineRule(
        DeadlineKind.INVESTIGATION_LIMIT,
        730,
        "prosecution_office",
        frozenset(
            {K.INDICTMENT_FILED, K.INVESTIGATION_TERMINATED, K.PLEA_AGREEMENT, K.CHARGES_DISMISSED}
        ),
    ),
    K.INVESTIGATION_SUSPENDED: DeadlineRule(
        DeadlineKind.SUSPENSION_REVIEW,
        180,
        "prosecution_office",
        frozenset({K.INVESTIGATION_INITIATED, K.INVESTIGATION_TERMINATED}),
    ),
    K.INDICTMENT_FILED: DeadlineRule(
        DeadlineKind.INDICTMENT_REVIEW,
        30,
        "prosecution_office",
        frozenset({K.INDICTMENT_CONFIRMED, K.INDICTMENT_DISMISSED, K.MAIN_TRIAL, K.PLEA_AGREEMENT}),
    ),
    K.FIRST_INSTANCE_JUDGMENT: DeadlineRule(
        DeadlineKind.APPEAL_WINDOW,
        15,
        "prosecution_office",
        frozenset({K.APPEAL_FILED, K.FINAL}),
    ),
}


def _audit(actor, action, case, purpose, request, details=None):
    audit.record(
        actor,
        action,
        obj=case,
        field_groups=["investigation"],
        purpose=purpose,
        request=request,
        details=details,
    )


def _access(actor: User, case: CriminalCase) -> policy.CriminalCaseAccess:
    access = policy.criminal_case_access(actor, case)
    policy.require(access.can_view)
    return access


def _locked(case: CriminalCase) -> CriminalCase:
    """The case row locked for this transaction: derived fields are recomputed under it."""
    return CriminalCase.objects.select_for_update().get(pk=case.pk)


def _not_future(value: date | None, field: str) -> None:
    if value and value > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


# --- Dated records of a case (confiscation, compensation, permits, interviews) -------------


@dataclass(frozen=True)
class DatedRecordKind:
    """One kind of dated record of a criminal case, said once: its model, the audit purpose,
    who may record it (``may(access, party, actor)``), the dates that cannot be in the future,
    its own checks (``checks(case, fields)``, raising ``ValidationError``), and whether it is
    recorded on an injured party of the case (``of_party``) or on the case itself."""

    model: type
    purpose: str
    may: Callable[[policy.CriminalCaseAccess, object, User], bool]
    dates: tuple[str, ...] = ()
    checks: Callable[[CriminalCase, dict], None] = lambda case, fields: None
    of_party: bool = False


@transaction.atomic
def record(kind: DatedRecordKind, actor: User, case: CriminalCase, *, request=None, **fields):
    """Record one dated record of ``kind``: the policy, the dates, the kind's checks, one row,
    one audit event on the case."""
    access = _access(actor, case)
    owner = {"case": case}
    if kind.of_party:
        party = fields.pop("party")
        if party.case_id != case.pk:
            raise ValidationError({"party": _("Choose an injured party of this case.")})
        owner = {"injured_party": party}
    policy.require(kind.may(access, owner.get("injured_party"), actor))
    for name in kind.dates:
        _not_future(fields.get(name), name)
    kind.checks(case, fields)
    item = kind.model.objects.create(**owner, **fields)
    _audit(actor, audit.Action.UPDATE, case, kind.purpose, request)
    return item


# --- Opening, numbers, links ----------------------------------------------------------------


def _reference() -> str:
    year = timezone.localdate().year
    count = CriminalCase.objects.filter(reference__startswith=f"CR-{year}-").count()
    while True:
        count += 1
        reference = f"CR-{year}-{count:06d}"
        if not CriminalCase.objects.filter(reference=reference).exists():
            return reference


def prosecution_offices():
    return Agency.objects.filter(kind=AgencyKind.PROSECUTION, is_active=True)


def courts():
    return Agency.objects.filter(kind=AgencyKind.COURT, is_active=True)


@transaction.atomic
def open_case(
    actor: User,
    *,
    opened_on: date,
    police_number: str = "",
    prosecution_office: Agency | None = None,
    summary: str = "",
    victim_case=None,
    request=None,
) -> CriminalCase:
    """Open a criminal case; the police unit (or, for a prosecutor, the office) is the actor's
    agency. Opened from a victim case, the case is linked to it."""
    policy.require(policy.can_open_criminal_cases(actor))
    _not_future(opened_on, "opened_on")
    police = actor.has_role(Role.INVESTIGATOR)
    if victim_case is not None and not policy.case_access(actor, victim_case).can_view:
        raise ValidationError({"victim_case": _("No such victim case.")})
    case = CriminalCase(
        reference=_reference(),
        opened_on=opened_on,
        police_agency=actor.agency if police else None,
        police_number=police_number.strip(),
        prosecution_office=prosecution_office if police else actor.agency,
        summary=summary.strip(),
        opened_by=actor,
        prosecutor=None if police else actor,
    )
    case.save()
    if victim_case is not None:
        case.victim_cases.add(victim_case)
    _append_event(
        actor,
        case,
        kind=K.POLICE_CASE_OPENED if police else K.CRIMINAL_REPORT,
        occurred_on=opened_on,
        agency=actor.agency,
    )
    _audit(actor, audit.Action.CREATE, case, "open criminal case", request)
    return case


@transaction.atomic
def set_numbers(
    actor: User,
    case: CriminalCase,
    *,
    police_number: str = "",
    prosecution_number: str = "",
    court: Agency | None = None,
    court_number: str = "",
    request=None,
) -> CriminalCase:
    """Each office keeps its own number; the prosecution names the court."""
    access = _access(actor, case)
    policy.require(access.can_edit)
    case = _locked(case)
    if access.police:
        case.police_number = police_number.strip()
    if access.prosecution or access.court:
        case.prosecution_number = prosecution_number.strip() or case.prosecution_number
        if court is not None:
            case.court = court
        case.court_number = court_number.strip() or case.court_number
    case.save()
    _audit(actor, audit.Action.UPDATE, case, "case numbers", request)
    return case


@transaction.atomic
def assign_prosecutor(
    actor: User, case: CriminalCase, *, prosecutor: str, request=None
) -> CriminalCase:
    """A prosecutor of the office takes the case (or a supervisor there hands it over)."""
    access = _access(actor, case)
    policy.require(
        access.prosecution or (access.supervisor and actor.agency_id == case.prosecution_office_id)
    )
    user = (
        policy.staff_holding(case.prosecution_office_id, [Role.PROSECUTOR])
        .filter(username__iexact=prosecutor.strip())
        .first()
    )
    if user is None:
        raise ValidationError({"prosecutor": _("No prosecutor of this office has that user name.")})
    case = _locked(case)
    case.prosecutor = user
    case.save()
    Deadline.objects.filter(case=case, done_at__isnull=True, agency=case.prosecution_office).update(
        assignee=user
    )
    _audit(actor, audit.Action.UPDATE, case, "assign prosecutor", request)
    return case


@transaction.atomic
def link_victim_case(actor: User, case: CriminalCase, *, victim_case, request=None) -> None:
    access = _access(actor, case)
    policy.require(access.police or access.prosecution)
    if not policy.case_access(actor, victim_case).can_view and not _shared_with(
        victim_case, actor.agency_id
    ):
        raise ValidationError({"victim_case": _("No such victim case.")})
    case.victim_cases.add(victim_case)
    _audit(actor, audit.Action.UPDATE, case, "link victim case", request)


def _shared_with(victim_case, agency_id) -> bool:
    return VictimCaseShare.objects.filter(victim_case=victim_case, office_id=agency_id).exists()


# --- Events, corrections and the derived stage -------------------------------------------------


def effective_events(case: CriminalCase, events: list | None = None) -> list[ProceedingEvent]:
    """The case's events as they stand after corrections: a corrected event is replaced by its
    latest correction (or dropped when that correction withdraws it). ``events``, when given,
    are all the case's events already read (in any order)."""
    if events is None:
        events = list(case.events.order_by("recorded_at", "pk"))
    else:
        events = sorted(events, key=lambda e: (e.recorded_at, e.pk))
    latest = {e.corrects_id: e for e in events if e.corrects_id}  # the last one stands
    standing = (latest.get(e.pk, e) for e in events if not e.corrects_id)
    return [e for e in standing if not e.withdrawn]


def derive_stage(events: list[ProceedingEvent]) -> tuple[str, date | None]:
    """The stage of the latest effective event by its date (then by when it was recorded)."""
    if not events:
        return "", None
    latest = max(events, key=lambda e: (e.occurred_on, e.recorded_at, e.pk))
    return EVENT_STAGE[latest.kind], latest.occurred_on


def refresh_derived(case: CriminalCase) -> None:
    """Derive the case's stage, flags and deadlines again from its standing events: after every
    event, and after an import wrote events the way the services would."""
    events = effective_events(case)
    stage, on = derive_stage(events)
    case.stage, case.stage_on = stage or Stage.POLICE, on
    kinds = {e.kind for e in events}
    if kinds & {K.INDICTMENT_FILED, K.PLEA_AGREEMENT}:
        case.defendants.filter(status=DefendantStatus.SUSPECT).update(
            status=DefendantStatus.ACCUSED
        )
    case.reclassified = any(
        charge.downgrades
        for charge in Charge.objects.filter(
            defendant__case=case, replaces__isnull=False
        ).select_related("offence", "replaces__offence")
    )
    case.below_minimum = Sentence.objects.filter(judgment__case=case, below_minimum=True).exists()
    count_figures(case)
    case.save()
    _update_deadlines(case, events)


# --- The attrition funnel's figures, kept as events are recorded --------------------------------
# Every figure of the funnel decomposes by case (a defendant, a judgment and a protection order
# belong to one case), so each case holds its own contribution (``CriminalCase.figures``) and
# ``FunnelFigure`` holds the sums by year, for the country and for each agency the case names.
# A change of the case moves the sums by the difference between its old and new contribution.

FUNNEL_EVENTS = (
    K.POLICE_CASE_OPENED,
    K.CRIMINAL_REPORT,
    K.SPECIAL_REPORT,
    K.INVESTIGATION_INITIATED,
    K.INDICTMENT_FILED,
)
CONVICTED = (Outcome.CONVICTED, Outcome.PARTLY)


def _contributions(cases: list) -> dict[int, dict]:
    """Each case's contribution to the funnel, ``{"agencies": [...], "counts": {"year:metric":
    n}}``, read in four queries whatever the number of cases. Counted as the funnel defines it:
    a case once per year for each event kind that stands (neither corrected since nor
    withdrawn), each defendant once per year convicted at first instance, finally, and with a
    sentence below the minimum, the case in its opening year when downgraded, and each
    protection order once per measure it orders."""
    ids = [c.pk for c in cases]
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}

    def add(case_id: int, year: int, metric: str, n: int = 1) -> None:
        key = f"{year}:{metric}"
        counts[case_id][key] = counts[case_id].get(key, 0) + n

    events = list(
        ProceedingEvent.objects.filter(case_id__in=ids)
        .order_by()
        .values_list("pk", "case_id", "kind", "occurred_on", "corrects_id", "withdrawn")
    )
    superseded = {corrects for *_rest, corrects, _w in events if corrects}
    standing = {
        (case_id, on.year, kind)
        for pk, case_id, kind, on, _corrects, withdrawn in events
        if kind in FUNNEL_EVENTS and pk not in superseded and not withdrawn
    }
    for case_id, year, kind in standing:
        add(case_id, year, f"case:{kind}")
    judgments = Judgment.objects.filter(case_id__in=ids, outcome__in=CONVICTED).order_by()
    first = set(
        judgments.filter(instance=Instance.FIRST).values_list(
            "case_id", "decided_on__year", "defendant_id"
        )
    )
    final = set(
        judgments.filter(final=True).values_list("case_id", "decided_on__year", "defendant_id")
    )
    below = set(
        Judgment.objects.filter(case_id__in=ids, sentences__below_minimum=True)
        .order_by()
        .values_list("case_id", "decided_on__year", "defendant_id")
    )
    for metric, rows in (
        ("convicted_first", first),
        ("convicted_final", final),
        ("below_minimum", below),
    ):
        for case_id, year, _defendant in rows:
            add(case_id, year, metric)
    orders = (
        ProtectionOrder.objects.filter(witness__case_id__in=ids)
        .order_by()
        .values_list("witness__case_id", "ordered_on", "measures")
    )
    for case_id, on, measures in orders:
        for measure in set(measures):
            add(case_id, on.year, f"order:{measure}")
    result = {}
    for case in cases:
        if case.reclassified:
            add(case.pk, case.opened_on.year, "downgraded")
        agencies = sorted({a for a in (case.police_agency_id, case.prosecution_office_id) if a})
        result[case.pk] = {"agencies": agencies, "counts": counts[case.pk]}
    return result


def _sums(contribution: dict | None, sign: int, into: dict) -> None:
    """Add ``sign`` times a case's contribution to the country's and its agencies' sums."""
    if not contribution:
        return
    for agency in (None, *contribution["agencies"]):
        for key, n in contribution["counts"].items():
            year, metric = key.split(":", 1)
            into[(agency, int(year), metric)] = into.get((agency, int(year), metric), 0) + sign * n


def _move_figures(deltas: dict) -> None:
    """Move each figure by its difference: an update, or the row created when missing (a
    concurrent creator of the same row wins the insert and this one updates it)."""
    for (agency, year, metric), n in sorted(deltas.items(), key=lambda item: str(item[0])):
        if not n:
            continue
        figure = FunnelFigure.objects.filter(agency_id=agency, year=year, metric=metric)
        if figure.update(n=F("n") + n):
            continue
        try:
            with transaction.atomic():
                FunnelFigure.objects.create(agency_id=agency, year=year, metric=metric, n=n)
        except IntegrityError:
            figure.update(n=F("n") + n)


def count_figures(case: CriminalCase) -> None:
    """Count the case's new contribution to the funnel and move the sums by the difference
    from what it contributed before (read from the database, so a stale instance cannot count
    twice); the caller saves the case in the same transaction."""
    before = CriminalCase.objects.filter(pk=case.pk).values_list("figures", flat=True).first()
    after = _contributions([case])[case.pk]
    deltas: dict = {}
    _sums(before, -1, deltas)
    _sums(after, +1, deltas)
    _move_figures(deltas)
    case.figures = after


FIGURE_FIELDS = ("pk", "opened_on", "reclassified", "police_agency_id", "prosecution_office_id")


def count_uncounted(batch: int = 2000) -> int:
    """Count the cases not counted yet (written in bulk by the demo, or before the funnel had
    figures) into the sums; returns how many."""
    counted = 0
    while True:
        cases = list(
            CriminalCase.objects.filter(figures__isnull=True)
            .only(*FIGURE_FIELDS)
            .order_by("pk")[:batch]
        )
        if not cases:
            return counted
        with transaction.atomic():
            contributions = _contributions(cases)
            deltas: dict = {}
            for case in cases:
                _sums(contributions[case.pk], +1, deltas)
                CriminalCase.objects.filter(pk=case.pk, figures__isnull=True).update(
                    figures=contributions[case.pk]
                )
            _move_figures(deltas)
        counted += len(cases)


def _lock_for_rebuild() -> None:
    """On PostgreSQL, hold off writers of cases and figures while the figures are recounted
    (SQLite's single writer does this by itself)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "LOCK TABLE justice_criminalcase, justice_funnelfigure IN SHARE ROW EXCLUSIVE MODE"
            )


@transaction.atomic
def rebuild_figures(*, check: bool = False, batch: int = 2000) -> list[str]:
    """Recount every case's contribution and every figure from the events. Returns the
    differences found between the kept figures and the recount (empty when they agree);
    unless ``check``, replaces the kept figures by the recount."""
    _lock_for_rebuild()
    recount: dict = {}
    stale_cases = 0
    last = 0
    while True:
        cases = list(
            CriminalCase.objects.filter(pk__gt=last)
            .only(*FIGURE_FIELDS, "figures")
            .order_by("pk")[:batch]
        )
        if not cases:
            break
        last = cases[-1].pk
        contributions = _contributions(cases)
        for case in cases:
            if check and case.figures is None:
                continue  # not counted yet: the funnel counts it on the fly
            _sums(contributions[case.pk], +1, recount)
            if case.figures != contributions[case.pk]:
                stale_cases += 1
                if not check:
                    CriminalCase.objects.filter(pk=case.pk).update(figures=contributions[case.pk])
    kept = {
        (agency, year, metric): n
        for agency, year, metric, n in FunnelFigure.objects.values_list(
            "agency_id", "year", "metric", "n"
        )
    }
    differences = [
        f"{'country' if key[0] is None else f'agency {key[0]}'} {key[1]} {key[2]}: "
        f"kept {kept.get(key, 0)}, recounted {recount.get(key, 0)}"
        for key in sorted(set(kept) | set(recount), key=str)
        if kept.get(key, 0) != recount.get(key, 0)
    ]
    if stale_cases:
        differences.append(f"{stale_cases} cases with a stale contribution")
    if not check:
        FunnelFigure.objects.all().delete()
        FunnelFigure.objects.bulk_create(
            [
                FunnelFigure(agency_id=agency, year=year, metric=metric, n=n)
                for (agency, year, metric), n in sorted(
                    recount.items(), key=lambda item: str(item[0])
                )
                if n
            ],
            batch_size=2000,
        )
    return differences


def due_deadlines(events: list[ProceedingEvent]) -> dict[str, tuple[DeadlineRule, date | None]]:
    """For each deadline rule, its due date when its latest opening event stands and no
    closing event followed it, else None (the rule is done). Reads nothing: the demo derives
    its deadlines with it too."""
    due = {}
    for rule in {r.kind: r for r in DEADLINE_RULES.values()}.values():
        openers = [e for e in events if e.kind in DEADLINE_RULES and DEADLINE_RULES[e.kind] == rule]
        opener = max(openers, key=lambda e: (e.occurred_on, e.pk), default=None)
        closed = opener is None or any(
            e.kind in rule.closed_by and e.occurred_on >= opener.occurred_on for e in events
        )
        due[rule.kind] = (rule, None if closed else opener.occurred_on + timedelta(days=rule.days))
    return due


def _update_deadlines(case: CriminalCase, events: list[ProceedingEvent]) -> None:
    """Open the deadline of each rule whose event stands and is not followed by a closing
    event; close the others. Done by rule, so a correction moves or withdraws a deadline."""
    now = timezone.now()
    for rule, due in due_deadlines(events).values():
        existing = Deadline.objects.filter(case=case, kind=rule.kind, done_at__isnull=True)
        agency_id = getattr(case, f"{rule.agency_field}_id")
        if due is None or agency_id is None:
            existing.update(done_at=now)
            continue
        if not existing.filter(due_on=due, agency_id=agency_id).exists():
            existing.update(done_at=now)
            Deadline.objects.create(
                case=case, agency_id=agency_id, assignee=case.prosecutor, kind=rule.kind, due_on=due
            )


def _append_event(
    actor,
    case,
    *,
    kind,
    occurred_on,
    document="",
    note="",
    agency=None,
    defendant=None,
    corrects=None,
    withdrawn=False,
    reason="",
) -> ProceedingEvent:
    event = ProceedingEvent(
        case=case,
        kind=kind,
        occurred_on=occurred_on,
        document=document.strip(),
        note=note.strip(),
        agency=agency,
        defendant=defendant,
        corrects=corrects,
        withdrawn=withdrawn,
        reason=reason.strip(),
        recorded_by=actor,
    )
    event.save()
    refresh_derived(case)
    return event


def allowed_event_kinds(
    access: policy.CriminalCaseAccess, case: CriminalCase, events: list | None = None
) -> list[str]:
    """Events ``access`` may record now: the procedure's next events that are theirs."""
    stage, _on = derive_stage(effective_events(case, events))
    allowed = NEXT_EVENTS[stage] & access.event_kinds
    return [kind for kind in EventKind.values if kind in allowed]


@transaction.atomic
def record_event(
    actor: User,
    case: CriminalCase,
    *,
    kind: str,
    occurred_on: date,
    document: str = "",
    note: str = "",
    request=None,
) -> ProceedingEvent:
    """Append an event of the procedure, if it may follow the case's stage and is the actor's
    to record (the police report, the prosecution decides, the court judges)."""
    access = _access(actor, case)
    policy.require(bool(access.event_kinds))
    case = _locked(case)
    if kind not in allowed_event_kinds(access, case):
        raise ProceedingsRefusal(
            _("This event cannot be recorded at the case's stage."), field="kind"
        )
    _not_future(occurred_on, "occurred_on")
    if occurred_on < case.opened_on:
        raise ValidationError({"occurred_on": _("The date is before the case was opened.")})
    if kind in (K.CRIMINAL_REPORT, K.SPECIAL_REPORT) and case.prosecution_office_id is None:
        raise ProceedingsRefusal(
            _("Name the prosecution office first (the case numbers step)."), field="kind"
        )
    event = _append_event(
        actor,
        case,
        kind=kind,
        occurred_on=occurred_on,
        document=document,
        note=note,
        agency=actor.agency,
    )
    _audit(actor, audit.Action.UPDATE, case, f"event {kind}", request)
    return event


@transaction.atomic
def correct_event(
    actor: User,
    case: CriminalCase,
    *,
    event: ProceedingEvent,
    reason: str,
    withdraw: bool = False,
    occurred_on: date | None = None,
    document: str = "",
    request=None,
) -> ProceedingEvent:
    """Record a correction of an event: a new event replacing its date or document, or
    withdrawing it; the corrected event stays on the timeline."""
    access = _access(actor, case)
    case = _locked(case)
    if event.case_id != case.pk or event.corrects_id is not None:
        raise ValidationError(
            {"event": _("Choose an event of this case that is not a correction.")}
        )
    policy.require(event.kind in access.event_kinds)
    if len(reason.strip()) < 5:
        raise ValidationError(
            {"reason": _("Say why the event is corrected (5 characters or more).")}
        )
    if not withdraw and occurred_on is None:
        raise ValidationError({"occurred_on": _("Give the corrected date, or withdraw the event.")})
    _not_future(occurred_on, "occurred_on")
    correction = _append_event(
        actor,
        case,
        kind=event.kind,
        occurred_on=occurred_on or event.occurred_on,
        document=document or event.document,
        agency=event.agency,
        defendant=event.defendant,
        corrects=event,
        withdrawn=withdraw,
        reason=reason,
    )
    _audit(actor, audit.Action.UPDATE, case, "correct event", request)
    return correction


# --- Defendants, charges, judgments, sentences, confiscation -----------------------------------


def _person_by_reference(actor: User, reference: str, field: str) -> Person:
    """A person the actor may see, by reference; the same answer whether the person does not
    exist or is out of sight."""
    person = (
        policy.persons_visible_to(actor).filter(reference=reference.strip().upper()).first()
        if reference.strip()
        else None
    )
    if person is None:
        raise ValidationError({field: _("No person with this reference that you may see.")})
    return person


@transaction.atomic
def add_defendant(
    actor: User,
    case: CriminalCase,
    *,
    person_reference: str,
    roles: list[str],
    detention: str,
    public_official: bool = False,
    request=None,
) -> Defendant:
    access = _access(actor, case)
    policy.require(access.police or access.prosecution)
    person = _person_by_reference(actor, person_reference, "person_reference")
    case = _locked(case)
    if case.defendants.filter(person=person).exists():
        raise ProceedingsRefusal(_("This person is already a defendant."), field="person_reference")
    number = case.defendants.count() + 1
    defendant = Defendant.objects.create(
        case=case,
        person=person,
        label=f"{number}",
        roles=list(roles),
        detention=detention,
        public_official=public_official,
        status=(
            DefendantStatus.ACCUSED
            if case.stage not in (S.POLICE, S.REPORTED, S.INVESTIGATION, S.SUSPENDED)
            else DefendantStatus.SUSPECT
        ),
        added_by=actor,
    )
    _audit(actor, audit.Action.UPDATE, case, "add defendant", request)
    return defendant


def _case_victims(case: CriminalCase, victim_cases) -> list:
    linked = set(case.victim_cases.values_list("pk", flat=True))
    chosen = list(victim_cases or [])
    if any(v.pk not in linked for v in chosen):
        raise ValidationError({"victim_cases": _("Choose victim cases linked to this case.")})
    return chosen


@transaction.atomic
def add_charge(
    actor: User,
    case: CriminalCase,
    *,
    defendant: Defendant,
    offence: Offence,
    stage: str,
    recorded_on: date,
    counts: int = 1,
    victim_cases=None,
    replaces: Charge | None = None,
    request=None,
) -> Charge:
    """Charge a defendant; a reclassification names the charge it ``replaces``, which stays."""
    access = _access(actor, case)
    policy.require(access.police or access.prosecution or access.court)
    if stage == ChargeStage.REPORT and not (access.police or access.prosecution):
        raise NotTheirStep(
            _("Charges of the criminal report are recorded by the police or the prosecution."),
            field="stage",
        )
    if defendant.case_id != case.pk:
        raise ValidationError({"defendant": _("Choose a defendant of this case.")})
    if counts < 1:
        raise ValidationError({"counts": _("At least one count.")})
    _not_future(recorded_on, "recorded_on")
    if replaces is not None:
        if replaces.defendant_id != defendant.pk:
            raise ValidationError({"replaces": _("Choose a charge of the same defendant.")})
        if Charge.objects.filter(replaces=replaces).exists():
            raise ProceedingsRefusal(_("This charge was already reclassified."), field="replaces")
    chosen = _case_victims(case, victim_cases)
    case = _locked(case)
    charge = Charge.objects.create(
        defendant=defendant,
        offence=offence,
        counts=counts,
        stage=stage,
        replaces=replaces,
        recorded_on=recorded_on,
        recorded_by=actor,
    )
    charge.victim_cases.set(chosen)
    refresh_derived(case)
    _audit(actor, audit.Action.UPDATE, case, "charge", request)
    return charge


def current_charges(defendant: Defendant):
    """Charges not reclassified since."""
    return defendant.charges.filter(replaced_by__isnull=True).select_related(
        "offence__criminal_code"
    )


def statutory_minimum(defendant: Defendant) -> int | None:
    """The highest prescribed minimum (months) among the defendant's current charges."""
    minimums = [c.offence.min_months for c in current_charges(defendant) if c.offence.min_months]
    return max(minimums) if minimums else None


def below_minimum(kind: str, months: int | None, minimum: int | None) -> bool:
    """A sentence is below the statutory minimum when the offence prescribes imprisonment of
    at least ``minimum`` months and the sentence is shorter, or is not imprisonment at all."""
    if not minimum:
        return False
    if kind != SentenceKind.IMPRISONMENT:
        return True
    return (months or 0) < minimum


@transaction.atomic
def record_judgment(
    actor: User,
    case: CriminalCase,
    *,
    defendant: Defendant,
    instance: str,
    outcome: str,
    decided_on: date,
    final: bool = False,
    document: str = "",
    sentence: str = "",
    months: int | None = None,
    fine_eur: Decimal | None = None,
    request=None,
) -> Judgment:
    """A court's judgment on one defendant, with its sentence; records the judgment's event
    (and "final" when it is), and whether the sentence is below the statutory minimum."""
    access = _access(actor, case)
    policy.require(access.court)
    if defendant.case_id != case.pk:
        raise ValidationError({"defendant": _("Choose a defendant of this case.")})
    _not_future(decided_on, "decided_on")
    convicted = outcome in (Outcome.CONVICTED, Outcome.PARTLY)
    if convicted and not sentence:
        raise ValidationError({"sentence": _("A conviction needs a sentence.")})
    if not convicted and sentence:
        raise ValidationError({"sentence": _("Only a conviction carries a sentence.")})
    if sentence in (SentenceKind.IMPRISONMENT, SentenceKind.SUSPENDED) and not months:
        raise ValidationError({"months": _("Give the months of the sentence.")})
    if sentence == SentenceKind.FINE and not fine_eur:
        raise ValidationError({"fine_eur": _("Give the amount of the fine.")})
    case = _locked(case)
    kind = JUDGMENT_EVENT[instance]
    stage, _on = derive_stage(effective_events(case))
    if kind not in NEXT_EVENTS[stage]:
        raise ProceedingsRefusal(
            _("This judgment cannot be recorded at the case's stage."), field="instance"
        )
    judgment = Judgment.objects.create(
        case=case,
        defendant=defendant,
        instance=instance,
        outcome=outcome,
        decided_on=decided_on,
        final=final,
        document=document.strip(),
        recorded_by=actor,
    )
    if sentence:
        minimum = statutory_minimum(defendant)
        Sentence.objects.create(
            judgment=judgment,
            kind=sentence,
            months=months,
            fine_eur=fine_eur,
            minimum_months=minimum,
            below_minimum=below_minimum(sentence, months, minimum),
        )
    _append_event(
        actor,
        case,
        kind=kind,
        occurred_on=decided_on,
        document=document,
        agency=actor.agency,
        defendant=defendant,
    )
    if final:
        _append_event(
            actor,
            case,
            kind=K.FINAL,
            occurred_on=decided_on,
            document=document,
            agency=actor.agency,
            defendant=defendant,
        )
        defendant.status = DefendantStatus.CONVICTED if convicted else DefendantStatus.ACQUITTED
        defendant.save(update_fields=["status"])
    _audit(actor, audit.Action.UPDATE, case, "judgment", request)
    return judgment


def _confiscation_checks(case: CriminalCase, fields: dict) -> None:
    if fields.get("value_eur") is None or fields["value_eur"] <= 0:
        raise ValidationError({"value_eur": _("Give a value above zero.")})
    defendant = fields.get("defendant")
    if defendant is not None and defendant.case_id != case.pk:
        raise ValidationError({"defendant": _("Choose a defendant of this case.")})


CONFISCATION = DatedRecordKind(
    Confiscation,
    "confiscation",
    may=lambda access, party, actor: access.can_edit,
    dates=("decided_on",),
    checks=_confiscation_checks,
)


def record_confiscation(actor: User, case: CriminalCase, *, request=None, **fields) -> Confiscation:
    """Seized or confiscated assets: stage, asset, value in euros, date, perhaps a defendant."""
    return record(CONFISCATION, actor, case, request=request, **fields)


# --- Victims in the proceedings -----------------------------------------------------------------


@transaction.atomic
def add_injured_party(
    actor: User,
    case: CriminalCase,
    *,
    victim_case,
    advocate: str = "",
    request=None,
) -> InjuredParty:
    """A victim of a linked victim case becomes an injured party, perhaps represented by a
    victim advocate (a staff user of a victim advocacy office)."""
    access = _access(actor, case)
    policy.require(access.prosecution)
    _case_victims(case, [victim_case])
    if case.injured_parties.filter(victim_case=victim_case).exists():
        raise ProceedingsRefusal(_("This victim is already an injured party."), field="victim_case")
    represented_by = None
    if advocate.strip():
        represented_by = User.objects.filter(
            username__iexact=advocate.strip(),
            is_active=True,
            agency__kind=AgencyKind.VICTIM_ADVOCACY,
        ).first()
        if represented_by is None:
            raise ValidationError({"advocate": _("No victim advocate has that user name.")})
    party = InjuredParty.objects.create(
        case=case,
        victim_case=victim_case,
        label=str(case.injured_parties.count() + 1),
        represented_by=represented_by,
    )
    _audit(actor, audit.Action.UPDATE, case, "injured party", request)
    return party


def _party_of(actor, case, party) -> InjuredParty:
    access = _access(actor, case)
    if party.case_id != case.pk:
        raise ValidationError({"party": _("Choose an injured party of this case.")})
    policy.require(policy.can_edit_injured_party(access, party, actor))
    return party


@transaction.atomic
def record_claim(
    actor: User,
    case: CriminalCase,
    *,
    party: InjuredParty,
    claim_filed: bool,
    decision: str,
    amount_claimed: Decimal | None = None,
    amount_awarded: Decimal | None = None,
    amount_paid: Decimal | None = None,
    decided_on: date | None = None,
    request=None,
) -> InjuredParty:
    party = _party_of(actor, case, party)
    if decision != ClaimDecision.PENDING and not claim_filed:
        raise ValidationError({"decision": _("A decision needs a claim filed.")})
    if decision in (ClaimDecision.GRANTED, ClaimDecision.PARTLY) and not amount_awarded:
        raise ValidationError({"amount_awarded": _("Give the amount awarded.")})
    if amount_paid and (amount_awarded is None or amount_paid > amount_awarded):
        raise ValidationError({"amount_paid": _("More paid than awarded.")})
    if decision != ClaimDecision.PENDING and decided_on is None:
        raise ValidationError({"decided_on": _("Give the date of the decision.")})
    _not_future(decided_on, "decided_on")
    party.claim_filed = claim_filed
    party.amount_claimed = amount_claimed
    party.decision = decision
    party.amount_awarded = amount_awarded
    party.amount_paid = amount_paid
    party.decided_on = decided_on
    party.save()
    _audit(actor, audit.Action.UPDATE, case, "property claim", request)
    return party


def _compensation_checks(case: CriminalCase, fields: dict) -> None:
    decided_on, decision = fields.get("decided_on"), fields.get("decision")
    if decided_on and decided_on < fields["applied_on"]:
        raise ValidationError({"decided_on": _("The decision is dated before the application.")})
    if decision == "granted" and not fields.get("amount_eur"):
        raise ValidationError({"amount_eur": _("Give the amount granted.")})
    if fields.get("paid_on") and decision != "granted":
        raise ValidationError({"paid_on": _("Only granted compensation is paid.")})


def _permit_checks(case: CriminalCase, fields: dict) -> None:
    expires_on, decided_on = fields.get("expires_on"), fields["decided_on"]
    if fields["status"] != "refused" and (expires_on is None or expires_on <= decided_on):
        raise ValidationError({"expires_on": _("A permit expires after the decision.")})
    if fields["status"] == "refused" and expires_on is not None:
        raise ValidationError({"expires_on": _("A refused permit has no expiry.")})


STATE_COMPENSATION = DatedRecordKind(
    StateCompensation,
    "state compensation",
    may=lambda access, party, actor: policy.can_edit_injured_party(access, party, actor),
    dates=("applied_on", "decided_on", "paid_on", "appeal_filed_on"),
    checks=_compensation_checks,
    of_party=True,
)
RESIDENCE_PERMIT = DatedRecordKind(
    ResidencePermit,
    "residence permit",
    may=lambda access, party, actor: policy.can_edit_injured_party(access, party, actor),
    dates=("decided_on",),
    checks=_permit_checks,
    of_party=True,
)
VICTIM_INTERVIEW = DatedRecordKind(
    VictimInterview,
    "victim interview",
    may=lambda access, party, actor: access.can_edit,
    dates=("interviewed_on",),
    of_party=True,
)


def record_state_compensation(
    actor: User, case: CriminalCase, *, request=None, **fields
) -> StateCompensation:
    """An application to the compensation programme (Law No. 05/L-036) and its outcome."""
    return record(STATE_COMPENSATION, actor, case, request=request, **fields)


def record_residence_permit(
    actor: User, case: CriminalCase, *, request=None, **fields
) -> ResidencePermit:
    """A residence permit decision for a foreign victim (Law No. 04/L-218)."""
    return record(RESIDENCE_PERMIT, actor, case, request=request, **fields)


def record_interview(actor: User, case: CriminalCase, *, request=None, **fields) -> VictimInterview:
    """One interview of a victim (the Directive asks to keep them few: they are counted)."""
    return record(VICTIM_INTERVIEW, actor, case, request=request, **fields)


# --- Witnesses --------------------------------------------------------------------------------


def _next_pseudonym(case: CriminalCase) -> str:
    taken = set(case.witnesses.values_list("pseudonym", flat=True))
    letters = string.ascii_uppercase
    for size in (1, 2):
        for index in range(len(letters) ** size):
            name = ""
            number = index
            for _i in range(size):
                name = letters[number % 26] + name
                number //= 26
            if name not in taken:
                return name
    raise ProceedingsRefusal(_("Too many witnesses."))


@transaction.atomic
def add_witness(
    actor: User,
    case: CriminalCase,
    *,
    kind: str,
    person_reference: str = "",
    added_on: date | None = None,
    request=None,
) -> Witness:
    """A witness under the next free pseudonym. The person, when named, goes into the seal:
    encrypted, without a foreign key, and without a read of the person in the audit log (the
    witness's creation is the record), so nothing outside the seal ties the two together."""
    access = _access(actor, case)
    policy.require(access.prosecution)
    person = (
        _person_by_reference(actor, person_reference, "person_reference")
        if person_reference.strip()
        else None
    )
    case = _locked(case)
    witness = Witness.objects.create(
        case=case,
        pseudonym=_next_pseudonym(case),
        kind=kind,
        added_on=added_on or timezone.localdate(),
    )
    if person is not None:
        WitnessSeal.objects.create(witness=witness, person_ref=str(person.public_id))
    audit.record(actor, audit.Action.CREATE, obj=witness, purpose="add witness", request=request)
    return witness


@transaction.atomic
def order_protection(
    actor: User,
    case: CriminalCase,
    *,
    witness: Witness,
    measures: list[str],
    judge: str,
    legal_basis: str,
    ordered_on: date,
    status: str,
    until: date | None = None,
    request=None,
) -> ProtectionOrder:
    access = _access(actor, case)
    policy.require(access.prosecution or access.court)
    if witness.case_id != case.pk:
        raise ValidationError({"witness": _("Choose a witness of this case.")})
    if not measures:
        raise ValidationError({"measures": _("Choose at least one measure.")})
    _not_future(ordered_on, "ordered_on")
    if until is not None and until <= ordered_on:
        raise ValidationError({"until": _("The order ends after it was made.")})
    order = ProtectionOrder.objects.create(
        witness=witness,
        measures=list(measures),
        judge=judge.strip(),
        legal_basis=legal_basis.strip(),
        ordered_on=ordered_on,
        until=until,
        status=status,
    )
    case = _locked(case)
    count_figures(case)  # the funnel counts protective measures by the year ordered
    case.save(update_fields=["figures", "updated_at"])
    _audit(actor, audit.Action.UPDATE, case, "protection order", request)
    return order


@dataclass(frozen=True)
class Resolution:
    witness: Witness
    person: Person | None


@transaction.atomic
def resolve_witness(actor: User, witness_id, *, reason: str, request=None) -> Resolution:
    """Open the seal of a witness for one of its resolvers, with a reason kept encrypted and an
    audit event on the witness (never on the person). Anyone else, and any unknown witness,
    gets the same 404."""
    witness = (
        policy.witnesses_resolvable_by(actor).select_related("case").filter(public_id=witness_id)
    ).first()
    if witness is None:
        raise Http404
    if len(reason.strip()) < 10:
        raise ValidationError({"reason": _("Give the reason (10 characters or more).")})
    WitnessResolution.objects.create(witness=witness, resolved_by=actor, reason=reason.strip())
    # Audited before the seal is opened (decryption only inside an audited read).
    audit.record(
        actor,
        audit.Action.READ,
        obj=witness,
        field_groups=["identity"],
        purpose="resolve witness pseudonym",
        request=request,
    )
    seal = WitnessSeal.objects.filter(witness=witness).first()
    if seal is not None:
        read_context.name([seal])  # the event above, on its witness, covers opening it
    person = Person.objects.filter(public_id=seal.person_ref).first() if seal else None
    if person is not None:
        # The resolver is shown who the witness is: that read of the person is in the audited
        # scope of this request only, never in the person's trail (it would reveal the link).
        read_context.name([person])
    return Resolution(witness=witness, person=person)


# --- Sharing a victim case with the prosecution; deadlines ------------------------------------

SHAREABLE_GROUPS = (
    FieldGroup.IDENTITY,
    FieldGroup.CONTACT,
    FieldGroup.NARRATIVE,
    FieldGroup.INVESTIGATION,
    FieldGroup.PROTECTION,
)


@transaction.atomic
def share_victim_case(
    actor: User, victim_case, *, office: Agency, field_groups: list[str], request=None
) -> VictimCaseShare:
    """The victim case's owner shares field groups of the victim with a prosecution office:
    the office's prosecutors then see the person through exactly those groups."""
    if not policy.can_share_with_prosecution(actor, victim_case):
        raise PermissionDenied
    if office.kind != AgencyKind.PROSECUTION:
        raise ValidationError({"office": _("Choose a prosecution office.")})
    groups = [g for g in field_groups if g in SHAREABLE_GROUPS]
    if len(groups) != len(set(field_groups)):
        raise ValidationError({"field_groups": _("Choose among the groups offered.")})
    grant = AccessGrant.objects.create(
        person=victim_case.person,
        agency=office,
        field_groups=groups,
        reason="shared with the prosecution",
        granted_by=actor,
    )
    share = VictimCaseShare.objects.create(
        victim_case=victim_case, office=office, field_groups=groups, grant=grant, shared_by=actor
    )
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=victim_case,
        field_groups=groups,
        purpose="share with the prosecution",
        request=request,
    )
    return share


@transaction.atomic
def complete_deadline(actor: User, deadline: Deadline, *, request=None) -> None:
    policy.require(deadline.agency_id == actor.agency_id)
    if deadline.done_at is None:
        deadline.done_at = timezone.now()
        deadline.save(update_fields=["done_at"])
        _audit(actor, audit.Action.UPDATE, deadline.case, "deadline done", request)
