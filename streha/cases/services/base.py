"""The plumbing every case write shares: the state machine's table, optimistic locking,
the case's events and audit, the access checks, tasks and notices to agencies."""

import secrets
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import FieldGroup
from streha.accounts.models import Role, User
from streha.audit import services as audit
from streha.cases.models import (
    Case,
    CaseEvent,
    Notification,
    Status,
    Task,
)
from streha.errors import Conflict

__all__ = [
    "CaseConflict",
    "FOLLOW_UP_STAGES",
    "IDENTIFICATION_DUE_DAYS",
    "MIN_REASON",
    "MIN_REFLECTION_DAYS",
    "OPEN_STAGES",
    "PLAN_REVIEW_DAYS",
    "REFERRAL_ANSWER_DAYS",
    "SERVICE_STAGES",
    "SHARABLE_GROUPS",
    "TRANSITIONS",
    "new_reference",
    "notify_agency",
    "reflection_period_days",
]


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
    staff = list(policy.staff_holding(agency_id, [*policy.EDITING_ROLES, Role.HOTLINE_OPERATOR]))
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
