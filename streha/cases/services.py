"""Writes on victim cases: the NRM state machine and everything that hangs off it.

This module is the only place a case's ``status`` changes. Each transition
- asks the access policy whether the actor may make it (``PermissionDenied`` otherwise),
- checks the case is in a stage the transition starts from (``ValidationError`` otherwise),
- checks the caller's ``expected_version`` (optimistic locking: ``CaseConflict`` otherwise, so
  two people editing the same case never silently overwrite each other),
- writes the change, a ``CaseEvent`` (who, when, why) and an audit event in one transaction,
- creates the dated tasks the next stage needs and closes those it made obsolete.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import AccessGrant, FieldGroup
from streha.accounts.models import Agency, Role, User
from streha.audit import services as audit
from streha.cases.models import (
    AssistanceService,
    Case,
    CaseEvent,
    CaseNote,
    Consent,
    ConsentPurpose,
    ControlMethod,
    Disability,
    ExploitationPlace,
    ExploitationType,
    Notification,
    Questionnaire,
    RecruitmentMethod,
    Referral,
    ReferralStatus,
    Screening,
    ServiceKind,
    ServiceStatus,
    Source,
    Status,
    Task,
    TaskKind,
)
from streha.errors import Conflict
from streha.people.models import Person
from streha.places.catalogues import countries, languages
from streha.places.models import Municipality

MIN_REFLECTION_DAYS = 30
REFERRAL_ANSWER_DAYS = 3
IDENTIFICATION_DUE_DAYS = 30
PLAN_REVIEW_DAYS = 30
MIN_REASON = 5
SHARABLE_GROUPS = frozenset({*FieldGroup.values, policy.ETHNICITY_GROUP})

# The state machine: transition name -> (stages it may start from, stage it leads to).
# "reopen" leads back to the stage the case was closed in.
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "screen": (frozenset({Status.FIRST_CONTACT, Status.SCREENED}), Status.SCREENED),
    "presume": (frozenset({Status.SCREENED}), Status.PRESUMED_VICTIM),
    "identify": (frozenset({Status.PRESUMED_VICTIM}), Status.IDENTIFIED),
    "not_identify": (frozenset({Status.PRESUMED_VICTIM}), Status.NOT_IDENTIFIED),
    "assist": (frozenset({Status.PRESUMED_VICTIM, Status.IDENTIFIED}), Status.ASSISTANCE),
    "return_reintegrate": (
        frozenset({Status.IDENTIFIED, Status.ASSISTANCE}),
        Status.RETURN_REINTEGRATION,
    ),
    "close": (frozenset(set(Status.values) - {Status.CLOSED}), Status.CLOSED),
    "reopen": (frozenset({Status.CLOSED}), None),
}
# Stages that take new facts (everything but closed), services, and follow-ups.
OPEN_STAGES = frozenset(set(Status.values) - {Status.CLOSED})
SERVICE_STAGES = frozenset({Status.ASSISTANCE, Status.RETURN_REINTEGRATION})
FOLLOW_UP_STAGES = frozenset({Status.RETURN_REINTEGRATION})


class CaseConflict(Conflict):
    """The case changed since the caller read it; reload and try again (409)."""

    def __init__(self, case: Case, expected: int):
        self.case = case
        self.expected = expected
        self.current = Case.objects.filter(pk=case.pk).values_list("version", flat=True).first()
        super().__init__(
            _(
                "Someone else changed this case while you were editing it (your version "
                "%(expected)s, now %(current)s). Reload the case and make your change again."
            )
            % {"expected": expected, "current": self.current}
        )


def reflection_period_days() -> int:
    """The country's recovery and reflection period; never under 30 days (CETS 197 Art. 13)."""
    configured = getattr(settings, "STREHA_REFLECTION_PERIOD_DAYS", MIN_REFLECTION_DAYS)
    return max(MIN_REFLECTION_DAYS, int(configured or 0))


def new_reference() -> str:
    return "C-" + secrets.token_hex(5).upper()


# --- Plumbing --------------------------------------------------------------------------------


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({field: _("Give the reason (at least a few words).")})
    return reason


def _check_choices(values: Iterable[str], choices, field: str) -> list[str]:
    values = list(values or [])
    unknown = [value for value in values if value not in choices.values]
    if unknown:
        # Never repeat the submitted values: error messages reach logs and API clients.
        raise ValidationError({field: _("Choose values from the list.")})
    return values


def _bump(case: Case, expected_version: int | None) -> None:
    """Claim the next version of ``case`` or raise ``CaseConflict`` (inside a transaction)."""
    if expected_version is None:
        expected_version = case.version
    updated = Case.objects.filter(pk=case.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not updated:
        raise CaseConflict(case, expected_version)
    case.version = expected_version + 1


def _event(
    case: Case,
    actor: User | None,
    kind: str,
    *,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    details: dict | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details or {},
    )
    event.save()
    return event


def _audit(actor, case, *, what: str, groups=(), request=None, details=None, action=None):
    audit.record(
        actor,
        action or audit.Action.UPDATE,
        obj=case,
        field_groups=sorted(groups),
        purpose=what,
        request=request,
        details={"case_action": what, **(details or {})},
    )


def _transition(
    actor: User,
    case: Case,
    name: str,
    *,
    expected_version: int | None,
    reason: str = "",
    request=None,
    details: dict | None = None,
    to_status: str | None = None,
) -> str:
    """Move ``case`` along transition ``name``; the caller has checked permission."""
    sources, target = TRANSITIONS[name]
    # Version first: a stale form is a conflict, whatever stage the case has moved to since.
    # (Callers run in a transaction, so a refused stage below undoes the version claim.)
    _bump(case, expected_version)
    if case.status not in sources:
        raise ValidationError(
            _("This step is not possible while the case is at the stage “%(stage)s”.")
            % {"stage": Status(case.status).label}
        )
    target = to_status or target
    previous = case.status
    case.status = target
    _event(
        case,
        actor,
        name,
        from_status=previous,
        to_status=target,
        reason=reason,
        details=details,
    )
    _audit(
        actor,
        case,
        what=name,
        groups={"narrative"} if reason else set(),
        request=request,
        details={"from": previous, "to": target},
    )
    return previous


def _access(actor: User, case: Case) -> policy.CaseAccess:
    access = policy.case_access(actor, case)
    if not access.can_view:
        raise PermissionDenied(_("You are not allowed to do this."))
    return access


def _require_edit(actor: User, case: Case) -> policy.CaseAccess:
    access = _access(actor, case)
    policy.require(access.can_edit)
    return access


def _require_contribute(actor: User, case: Case) -> policy.CaseAccess:
    access = _access(actor, case)
    policy.require(access.can_contribute)
    return access


def _require_open(case: Case) -> None:
    """A closed case takes no new facts until it is reopened (with a reason)."""
    if case.status == Status.CLOSED:
        raise ValidationError(_("The case is closed: reopen it first."))


def _require_child_protection(access: policy.CaseAccess, case: Case) -> None:
    """Guardians and best interests concern children, and the protection field group."""
    policy.require(FieldGroup.PROTECTION in access.field_groups)
    if not case.is_child:
        raise ValidationError(_("This concerns children only."))


def _task(case: Case, agency_id: int, kind: str, due_on: date, assignee=None) -> Task:
    return Task.objects.create(
        case=case, agency_id=agency_id, kind=kind, due_on=due_on, assignee=assignee
    )


def _finish_tasks(case: Case, *kinds: str, agency_id: int | None = None) -> None:
    tasks = Task.objects.filter(case=case, kind__in=kinds, done_at__isnull=True)
    if agency_id is not None:
        tasks = tasks.filter(agency_id=agency_id)
    tasks.update(done_at=timezone.now())


def notify_agency(agency_id: int, message: str, url: str = "") -> int:
    """In-app and e-mail notice to the agency's case staff. ``message`` must name a kind of
    work, never a person: e-mail leaves the system."""
    staff = list(
        User.objects.filter(
            agency_id=agency_id,
            is_active=True,
            role_grants__role__in=[*policy.EDITING_ROLES, Role.HOTLINE_OPERATOR],
        ).distinct()
    )
    Notification.objects.bulk_create(Notification(user=u, message=message, url=url) for u in staff)
    recipients = [u.email for u in staff if u.email]
    if recipients:
        base = getattr(settings, "STREHA_BASE_URL", "") or ""
        body = _("%(message)s\n\nSign in to Streha to see it: %(link)s") % {
            "message": message,
            "link": base + (url or "/"),
        }

        def _send() -> None:
            send_mail(_("Streha: new work for you"), body, None, recipients, fail_silently=True)

        transaction.on_commit(_send)
    return len(staff)


# --- 1. First contact ------------------------------------------------------------------------

# The exploitation profile: what ``update_profile`` is mostly for (the API's profile operation).
PROFILE_FIELDS = (
    "exploitation_types",
    "exploitation_places",
    "transnational",
    "recruitment_countries",
    "transit_countries",
    "exploitation_countries",
    "recruitment_municipalities",
    "exploitation_municipalities",
    "recruitment_methods",
    "control_methods",
)
OPEN_FIELDS = {
    "first_contact_municipality",
    "first_contact_place",
    "needs_urgent_shelter",
    "needs_urgent_medical",
    "is_child",
    "age_disputed",
    "ethnicity",
    "languages",
    "disability",
    *PROFILE_FIELDS,
}


def _validate_profile(fields: dict) -> None:
    unknown = set(fields) - OPEN_FIELDS
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    for name, choices in (
        ("exploitation_types", ExploitationType),
        ("exploitation_places", ExploitationPlace),
        ("recruitment_methods", RecruitmentMethod),
        ("control_methods", ControlMethod),
    ):
        if name in fields:
            _check_choices(fields[name], choices, name)
    for name in ("recruitment_countries", "transit_countries", "exploitation_countries"):
        codes = fields.get(name, [])
        if not isinstance(codes, list | tuple) or not all(code in countries for code in codes):
            raise ValidationError({name: _("Choose countries from the list.")})
    if not isinstance(fields.get("languages", []), list | tuple) or not all(
        code in languages for code in fields.get("languages", [])
    ):
        raise ValidationError({"languages": _("Choose languages from the list.")})
    if "disability" in fields:
        _check_choices([fields["disability"]], Disability, "disability")
    for name in ("recruitment_municipalities", "exploitation_municipalities"):
        codes = fields.get(name, [])
        if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
            raise ValidationError({name: _("Choose municipalities from the list.")})
        if codes and Municipality.objects.filter(code__in=set(codes)).count() != len(set(codes)):
            raise ValidationError({name: _("Choose municipalities from the list.")})


@transaction.atomic
def open_case(
    actor: User,
    person: Person,
    *,
    source: str,
    first_contact_on: date,
    request=None,
    **fields,
) -> Case:
    """Register the first contact (or referral in) for a person the actor's agency can see."""
    policy.require(policy.can_open_cases(actor))
    if not policy.persons_visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied(_("You are not allowed to do this."))
    _validate_profile(fields)
    if source not in Source.values:
        raise ValidationError({"source": _("Choose where the contact came from.")})
    if first_contact_on > timezone.localdate():
        raise ValidationError({"first_contact_on": _("The date cannot be in the future.")})
    if (
        fields.get("ethnicity")
        and policy.ETHNICITY_GROUP
        not in policy.case_access(actor, Case(owner_agency_id=actor.agency_id)).field_groups
    ):
        raise ValidationError({"ethnicity": _("You may not write this field.")})
    age = None
    if person.birth_year:
        age = max(0, first_contact_on.year - person.birth_year)
    case = Case(
        reference=new_reference(),
        person=person,
        owner_agency_id=actor.agency_id,
        created_by=actor,
        source=source,
        first_contact_on=first_contact_on,
        sex=person.gender,
        citizenship=person.citizenship,
        age_at_identification=age,
        **fields,
    )
    if age is not None and age < 18:
        case.is_child = True
    case.full_clean(exclude=["person", "owner_agency"])
    case.save()
    _event(case, actor, "open", to_status=case.status, details={"source": source})
    if case.needs_guardian:
        _task(case, actor.agency_id, TaskKind.GUARDIAN, timezone.localdate() + timedelta(days=1))
    _audit(
        actor,
        case,
        what="open",
        action=audit.Action.CREATE,
        groups={"narrative"} if case.first_contact_place else set(),
        request=request,
    )
    return case


@transaction.atomic
def update_profile(
    actor: User, case: Case, *, expected_version: int, request=None, **fields
) -> Case:
    """Correct the non-stage data of a case (exploitation, attributes, first needs)."""
    access = _require_edit(actor, case)
    _require_open(case)
    _validate_profile(fields)
    if "ethnicity" in fields and policy.ETHNICITY_GROUP not in access.field_groups:
        raise ValidationError({"ethnicity": _("You may not write this field.")})
    _bump(case, expected_version)
    changed = sorted(name for name, value in fields.items() if getattr(case, name) != value)
    for name in changed:
        setattr(case, name, fields[name])
    case.full_clean(exclude=["person", "owner_agency"])
    case.save()
    _event(case, actor, "update", details={"fields": changed})
    _audit(actor, case, what="update", request=request, details={"fields": changed})
    return case


# --- 2. Screening ----------------------------------------------------------------------------


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
        _task(case, case.owner_agency_id, TaskKind.REFLECTION_END, case.reflection_ends_on)
        _task(
            case,
            case.owner_agency_id,
            TaskKind.IDENTIFICATION,
            today + timedelta(days=IDENTIFICATION_DUE_DAYS),
        )
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


# --- 4. Identification decision -----------------------------------------------------------


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


# --- 5. Assistance plan ------------------------------------------------------------------


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
def add_service(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    kind: str,
    provider: Agency,
    starts_on: date,
    ends_on: date | None = None,
    status: str = ServiceStatus.PLANNED,
    request=None,
) -> AssistanceService:
    """Add a service to the assistance plan. An agency that accepted a referral of the case
    adds the services it provides itself (``policy.can_provide_service``)."""
    access = _require_contribute(actor, case)
    if case.status not in SERVICE_STAGES:
        raise ValidationError(_("Start the assistance plan first."))
    errors = {}
    if not policy.can_provide_service(actor, access, provider.pk):
        errors["provider"] = _("Your agency records only the services it provides itself.")
    if kind not in ServiceKind.values:
        errors["kind"] = _("Choose a service.")
    if status not in ServiceStatus.values:
        errors["status"] = _("Choose a status.")
    if ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The end cannot be before the start.")
    if errors:
        raise ValidationError(errors)
    _bump(case, expected_version)
    service = AssistanceService.objects.create(
        case=case, kind=kind, provider=provider, starts_on=starts_on, ends_on=ends_on, status=status
    )
    _event(case, actor, "service_added", details={"service": kind, "provider": provider.code})
    _audit(actor, case, what="service_added", request=request)
    return service


@transaction.atomic
def set_service_status(
    actor: User, service: AssistanceService, *, expected_version: int, status: str, request=None
) -> AssistanceService:
    case = service.case
    access = _require_contribute(actor, case)
    policy.require(policy.can_provide_service(actor, access, service.provider_id))
    if status not in ServiceStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    _bump(case, expected_version)
    previous, service.status = service.status, status
    service.save(update_fields=["status"])
    _event(
        case,
        actor,
        "service_status",
        details={"service": service.kind, "from": previous, "to": status},
    )
    _audit(actor, case, what="service_status", request=request)
    return service


# --- 7. Return or reintegration ----------------------------------------------------------


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


# --- 8. Closure and reopening ------------------------------------------------------------


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


# --- Children -------------------------------------------------------------------------------


@transaction.atomic
def appoint_guardian(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    guardian: str,
    appointed_on: date,
    request=None,
) -> Case:
    _require_child_protection(_require_edit(actor, case), case)
    _require_open(case)
    if not guardian.strip():
        raise ValidationError({"guardian": _("Name the guardian.")})
    _bump(case, expected_version)
    case.guardian = guardian.strip()
    case.guardian_appointed_on = appointed_on
    case.save()
    _finish_tasks(case, TaskKind.GUARDIAN)
    _event(case, actor, "guardian_appointed", details={"on": appointed_on.isoformat()})
    _audit(actor, case, what="guardian_appointed", groups={"protection"}, request=request)
    return case


def find_assignee(*, username: str = "", user_id: int | None = None) -> User:
    """The active user named by user name (case ignored) or id, whatever their agency: a case
    may be assigned to a professional of another agency (``policy.can_assign_case``)."""
    users = User.objects.filter(is_active=True)
    found = (
        users.filter(username__iexact=username.strip()).first()
        if username
        else users.filter(pk=user_id).first()
        if user_id
        else None
    )
    if found is None:
        raise ValidationError({"assignee": _("This person cannot be assigned to the case.")})
    return found


@transaction.atomic
def assign_case(
    actor: User, case: Case, assignee: User, *, expected_version: int, request=None
) -> Case:
    """Assign the case to a professional, who then sees it (and its person) wherever they work."""
    policy.require(_require_edit(actor, case).can_assign)
    _require_open(case)
    if not policy.can_assign_case(actor, case, assignee):
        raise ValidationError({"assignee": _("This person cannot be assigned to the case.")})
    _bump(case, expected_version)
    case.assigned_to = assignee
    case.save()
    _event(case, actor, "assigned", details={"user": assignee.pk})
    _audit(actor, case, what="assigned", request=request, details={"user": assignee.pk})
    return case


@transaction.atomic
def record_best_interests(
    actor: User, case: Case, *, expected_version: int, determined_on: date, request=None
) -> Case:
    _require_child_protection(_require_edit(actor, case), case)
    _require_open(case)
    if determined_on > timezone.localdate():
        raise ValidationError({"determined_on": _("The date cannot be in the future.")})
    _bump(case, expected_version)
    case.best_interests_determined_on = determined_on
    case.save()
    _event(case, actor, "best_interests", details={"on": determined_on.isoformat()})
    _audit(actor, case, what="best_interests", request=request)
    return case


# --- Notes and consent ------------------------------------------------------------------


@transaction.atomic
def add_note(actor: User, case: Case, *, body: str, request=None) -> CaseNote:
    """A note on the case, by its editors or by an agency that accepted a referral of it
    sharing the narrative."""
    access = _require_contribute(actor, case)
    if CaseNote.FIELD_GROUP not in access.field_groups:
        policy.require(False)
    if not body.strip():
        raise ValidationError({"body": _("Write the note.")})
    note = CaseNote(case=case, body=body.strip(), author=actor)
    note.save()
    _event(case, actor, "note")
    _audit(actor, case, what="note", groups={CaseNote.FIELD_GROUP}, request=request)
    return note


@transaction.atomic
def record_consent(actor: User, case: Case, *, purpose: str, given: bool, request=None) -> Consent:
    _require_edit(actor, case)
    _require_open(case)
    if purpose not in ConsentPurpose.values:
        raise ValidationError({"purpose": _("Say what the consent is for.")})
    consent = Consent.objects.create(
        case=case,
        purpose=purpose,
        given=given,
        recorded_on=timezone.localdate(),
        recorded_by=actor,
    )
    _event(case, actor, "consent", details={"given": given})
    _audit(actor, case, what="consent", request=request)
    return consent


# --- 6. Referrals --------------------------------------------------------------------------


@transaction.atomic
def send_referral(
    actor: User,
    case: Case,
    *,
    to_agency: Agency,
    field_groups: Iterable[str],
    purpose: str = "",
    answer_due_on: date | None = None,
    request=None,
) -> Referral:
    """Refer the case to another agency, sharing only the field groups named (and only those
    the sender may see). Nothing is visible to the receiver until it accepts."""
    access = _require_edit(actor, case)
    groups = sorted(set(field_groups))
    errors = {}
    if to_agency.pk == case.owner_agency_id or not to_agency.is_active:
        errors["to_agency"] = _("Choose another, active agency.")
    if set(groups) - SHARABLE_GROUPS:
        errors["field_groups"] = _("Unknown field group.")
    elif set(groups) - access.field_groups:
        errors["field_groups"] = _("You cannot share information you may not see yourself.")
    if case.status == Status.CLOSED:
        errors["to_agency"] = _("A closed case cannot be referred.")
    due = answer_due_on or timezone.localdate() + timedelta(days=REFERRAL_ANSWER_DAYS)
    if due < timezone.localdate():
        errors["answer_due_on"] = _("The date cannot be in the past.")
    if errors:
        raise ValidationError(errors)
    referral = Referral(
        case=case,
        from_agency_id=case.owner_agency_id,
        to_agency=to_agency,
        field_groups=groups,
        purpose=purpose.strip(),
        answer_due_on=due,
        sent_by=actor,
    )
    referral.save()
    _task(case, to_agency.pk, TaskKind.REFERRAL_ANSWER, due)
    _event(
        case,
        actor,
        "referral_sent",
        details={"to": to_agency.code, "field_groups": groups, "referral": str(referral.public_id)},
    )
    _audit(
        actor,
        case,
        what="referral_sent",
        request=request,
        details={"to": to_agency.code, "shared": groups},
    )
    notify_agency(
        to_agency.pk, _("Your agency has received a new referral."), reverse("cases:inbox")
    )
    return referral


REFERRAL_FLOW = {
    ReferralStatus.ACCEPTED: {ReferralStatus.SENT},
    ReferralStatus.DECLINED: {ReferralStatus.SENT},
    ReferralStatus.IN_PROGRESS: {ReferralStatus.ACCEPTED},
    ReferralStatus.COMPLETED: {ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS},
}


@transaction.atomic
def answer_referral(
    actor: User, referral: Referral, *, status: str, reason: str = "", request=None
) -> Referral:
    """The receiving agency accepts (which grants it the shared field groups of the person),
    declines with a reason, starts or completes the referral."""
    policy.require(policy.can_answer_referral(actor, referral))
    if status not in REFERRAL_FLOW:
        raise ValidationError({"status": _("Choose an answer.")})
    if status == ReferralStatus.DECLINED:
        reason = _require_reason(reason)
    claimed = Referral.objects.filter(pk=referral.pk, status__in=REFERRAL_FLOW[status]).update(
        status=status
    )
    if not claimed:
        raise ValidationError(
            _("This referral is already “%(status)s”.")
            % {"status": ReferralStatus(Referral.objects.get(pk=referral.pk).status).label}
        )
    previous, referral.status = referral.status, status
    case = referral.case
    if status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED):
        referral.answered_by = actor
        referral.answered_at = timezone.now()
        referral.answer_reason = reason.strip()
        _finish_tasks(case, TaskKind.REFERRAL_ANSWER, agency_id=referral.to_agency_id)
    if status == ReferralStatus.ACCEPTED:
        person_groups = [g for g in referral.field_groups if g in FieldGroup.values]
        referral.grant = AccessGrant.objects.create(
            person_id=case.person_id,
            agency_id=referral.to_agency_id,
            field_groups=person_groups,
            reason=f"referral {referral.public_id}",
            granted_by=actor,
        )
    referral.save()
    _event(
        case,
        actor,
        f"referral_{status}",
        reason=reason.strip(),
        details={
            "referral": str(referral.public_id),
            "from": previous,
            "agency": referral.to_agency.code,
        },
    )
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=referral,
        field_groups=["narrative"] if reason else [],
        purpose=f"referral {status}",
        request=request,
        details={"case": str(case.public_id), "grant": referral.grant_id},
    )
    if status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED):
        notify_agency(
            referral.from_agency_id,
            _("A referral your agency sent has been answered."),
            reverse("cases:detail", args=[case.public_id]),
        )
    return referral


# --- Tasks -------------------------------------------------------------------------------


@transaction.atomic
def complete_task(actor: User, task: Task, *, request=None) -> Task:
    """Mark a task done (once: done again changes nothing)."""
    policy.require(policy.can_complete_task(actor, task))
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
        _event(task.case, actor, "task_done", details={"task": task.kind})
    return task


def send_due_reminders(today: date | None = None) -> int:
    """Notify agencies of tasks due today (run daily). No personal data in the message."""
    today = today or timezone.localdate()
    agencies = (
        Task.objects.filter(done_at__isnull=True, due_on=today)
        .values_list("agency_id", flat=True)
        .distinct()
    )
    sent = 0
    for agency_id in agencies:
        sent += notify_agency(
            agency_id, _("Tasks on victim cases are due today."), reverse("cases:my_work")
        )
    return sent


# --- Notifications -------------------------------------------------------------------------


def mark_notifications_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s unread notifications read: those numbered ``ids``, or all of them.

    Returns how many changed. Only the user's own are touched: ids of anyone else's are
    ignored (callers answer 404 for them). No audit event: notices hold no personal data."""
    notices = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if ids is not None:
        notices = notices.filter(pk__in=list(ids))
    return notices.update(read_at=timezone.now())


# --- Anonymisation -----------------------------------------------------------------------------


def erase_cases_of_person(person: Person) -> int:
    """Erase the protected words on the cases of an anonymised person: first-contact place,
    decision reasons, guardian, ethnicity, the reasons of their events and referrals, their
    notes (their documents: ``document_services.erase_documents_of_person``). Stages, dates and
    categories stay for the statistics. Call inside the anonymising transaction
    (``people.services.anonymise_person``); returns the cases erased."""
    cases = list(Case.objects.filter(person=person))
    for case in cases:
        for name in ("first_contact_place", "decision_reasons", "guardian", "ethnicity"):
            setattr(case, name, "")
        case.save()
        for event in case.events.all():
            if event.reason:
                event.reason = ""
                event.save()
        for referral in case.referrals.all():
            referral.purpose = referral.answer_reason = ""
            referral.save()
        case.notes.all().delete()
    return len(cases)
