"""Referrals between agencies: sending, and the receiving agency's answers."""

from collections.abc import Iterable
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import AccessGrant, FieldGroup
from streha.accounts.models import Agency, User
from streha.audit import services as audit
from streha.cases.models import (
    Case,
    Referral,
    ReferralStatus,
    Status,
    TaskKind,
)
from streha.cases.services.base import (
    REFERRAL_ANSWER_DAYS,
    SHARABLE_GROUPS,
    _audit,
    _event,
    _finish_tasks,
    _require_edit,
    _require_reason,
    _task,
    notify_agency,
)

__all__ = ["REFERRAL_FLOW", "answer_referral", "send_referral"]


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
