"""The NRM stage steps: screening and its confirmation, the identification decision, the
assistance plan, return or reintegration and its follow-ups, closure and reopening."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.cases.models import (
    Case,
    Questionnaire,
    Screening,
    Status,
    Task,
    TaskKind,
)
from streha.cases.services import reminders
from streha.cases.services.base import (
    FOLLOW_UP_STAGES,
    PLAN_REVIEW_DAYS,
    _access,
    _audit,
    _bump,
    _event,
    _finish_tasks,
    _require_edit,
    _require_reason,
    _task,
    _transition,
    reflection_period_days,
)

__all__ = [
    "ScreeningResult",
    "close_case",
    "confirm_screening",
    "decide_identification",
    "record_follow_up",
    "record_screening",
    "reopen_case",
    "score",
    "start_assistance",
    "start_return_or_reintegration",
]


@dataclass(frozen=True)
class ScreeningResult:
    strong_met: int
    total_met: int
    recommends_presumed: bool


def score(questionnaire: Questionnaire, indicators_met: Iterable[str]) -> ScreeningResult:
    """Count the indicators met and recommend (never decide): a person confirms."""
    strengths = {item["code"]: item["strength"] for item in questionnaire.indicators}
    met = set(indicators_met)
    unknown = met - set(strengths)
    if unknown:
        raise ValidationError(
            {"indicators_met": _("Unknown indicator: %(codes)s") % {"codes": sorted(unknown)}}
        )
    strong = sum(1 for code in met if strengths[code] == "strong")
    return ScreeningResult(
        strong_met=strong,
        total_met=len(met),
        recommends_presumed=strong >= questionnaire.strong_needed
        or len(met) >= questionnaire.total_needed,
    )


@transaction.atomic
def record_screening(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    questionnaire: Questionnaire,
    indicators_met: Iterable[str],
    request=None,
) -> Screening:
    _require_edit(actor, case)
    indicators_met = sorted(set(indicators_met))
    result = score(questionnaire, indicators_met)
    _transition(
        actor,
        case,
        "screen",
        expected_version=expected_version,
        request=request,
        details={
            "questionnaire": f"{questionnaire.code} v{questionnaire.version}",
            "strong": result.strong_met,
            "total": result.total_met,
            "recommends_presumed": result.recommends_presumed,
        },
    )
    case.save()
    return Screening.objects.create(
        case=case,
        questionnaire=questionnaire,
        indicators_met=indicators_met,
        strong_met=result.strong_met,
        total_met=result.total_met,
        recommends_presumed=result.recommends_presumed,
        screened_by=actor,
    )


@transaction.atomic
def confirm_screening(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    presumed: bool,
    reason: str = "",
    request=None,
) -> Case:
    """A person confirms (or overrides) the screening recommendation. Presumed victims get
    their recovery and reflection period at once, whether or not they cooperate with police."""
    _require_edit(actor, case)
    screening = case.screenings.first()
    if screening is None:
        raise ValidationError(_("Screen the person first."))
    if presumed != screening.recommends_presumed or not presumed:
        reason = _require_reason(reason)
    if presumed:
        _transition(
            actor,
            case,
            "presume",
            expected_version=expected_version,
            reason=reason,
            request=request,
        )
        today = timezone.localdate()
        case.presumed_on = today
        case.reflection_ends_on = today + timedelta(days=reflection_period_days())
        case.save()
        _event(
            case,
            None,
            "reflection_started",
            details={"ends_on": case.reflection_ends_on.isoformat()},
        )
        for task in reminders.presumption_reminders(case, today):
            task.save()
    else:
        case.status_before_closure = case.status
        _transition(
            actor, case, "close", expected_version=expected_version, reason=reason, request=request
        )
        case.closed_on = timezone.localdate()
        case.save()
    screening.confirmed = presumed
    screening.confirmed_by = actor
    screening.save(update_fields=["confirmed", "confirmed_by"])
    return case


@transaction.atomic
def decide_identification(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    identified: bool,
    reasons: str,
    person_informed_on: date | None = None,
    request=None,
) -> Case:
    """The competent authority's formal decision, always with reasons. A person not
    identified has the right to be informed of the decision and its reasons."""
    access = _access(actor, case)
    policy.require(access.can_decide, _("Only the competent authority may decide this."))
    reasons = _require_reason(reasons, "reasons")
    _transition(
        actor,
        case,
        "identify" if identified else "not_identify",
        expected_version=expected_version,
        reason=reasons,
        request=request,
    )
    case.decided_on = timezone.localdate()
    case.decided_by = actor
    case.decision_reasons = reasons
    case.person_informed_on = person_informed_on
    case.save()
    _finish_tasks(case, TaskKind.IDENTIFICATION)
    return case


@transaction.atomic
def start_assistance(actor: User, case: Case, *, expected_version: int, request=None) -> Case:
    _require_edit(actor, case)
    _transition(actor, case, "assist", expected_version=expected_version, request=request)
    case.save()
    _task(
        case,
        case.owner_agency_id,
        TaskKind.PLAN_REVIEW,
        timezone.localdate() + timedelta(days=PLAN_REVIEW_DAYS),
    )
    return case


@transaction.atomic
def start_return_or_reintegration(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    assisted_voluntary_return: bool,
    next_review_on: date,
    residence_permit_requested_on: date | None = None,
    request=None,
) -> Case:
    _require_edit(actor, case)
    if next_review_on < timezone.localdate():
        raise ValidationError({"next_review_on": _("The review date cannot be in the past.")})
    _transition(
        actor,
        case,
        "return_reintegrate",
        expected_version=expected_version,
        request=request,
        details={"assisted_voluntary_return": assisted_voluntary_return},
    )
    case.assisted_voluntary_return = assisted_voluntary_return
    case.residence_permit_requested_on = residence_permit_requested_on
    case.next_review_on = next_review_on
    case.save()
    _finish_tasks(case, TaskKind.PLAN_REVIEW)
    _task(case, case.owner_agency_id, TaskKind.FOLLOW_UP, next_review_on)
    return case


@transaction.atomic
def record_follow_up(
    actor: User, case: Case, *, expected_version: int, next_review_on: date | None, request=None
) -> Case:
    """A reintegration follow-up took place; the next one is scheduled (or none)."""
    _require_edit(actor, case)
    if case.status not in FOLLOW_UP_STAGES:
        raise ValidationError(_("Follow-ups belong to the return or reintegration stage."))
    if next_review_on and next_review_on < timezone.localdate():
        raise ValidationError({"next_review_on": _("The next review cannot be in the past.")})
    _bump(case, expected_version)
    _finish_tasks(case, TaskKind.FOLLOW_UP)
    case.next_review_on = next_review_on
    case.save()
    if next_review_on:
        _task(case, case.owner_agency_id, TaskKind.FOLLOW_UP, next_review_on)
    _event(case, actor, "follow_up", details={"next": str(next_review_on or "")})
    _audit(actor, case, what="follow_up", request=request)
    return case


@transaction.atomic
def close_case(
    actor: User, case: Case, *, expected_version: int, reason: str, request=None
) -> Case:
    _require_edit(actor, case)
    reason = _require_reason(reason)
    case.status_before_closure = case.status
    _transition(
        actor, case, "close", expected_version=expected_version, reason=reason, request=request
    )
    case.closed_on = timezone.localdate()
    case.save()
    Task.objects.filter(case=case, done_at__isnull=True).update(done_at=timezone.now())
    return case


@transaction.atomic
def reopen_case(
    actor: User, case: Case, *, expected_version: int, reason: str, request=None
) -> Case:
    access = _access(actor, case)
    policy.require(access.can_reopen, _("Only a supervisor of the owning agency may reopen."))
    reason = _require_reason(reason)
    back_to = case.status_before_closure or Status.FIRST_CONTACT
    _transition(
        actor,
        case,
        "reopen",
        expected_version=expected_version,
        reason=reason,
        request=request,
        to_status=back_to,
    )
    case.closed_on = None
    case.status_before_closure = ""
    case.save()
    return case
