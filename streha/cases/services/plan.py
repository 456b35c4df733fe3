"""The services of the individual assistance plan."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import Agency, User
from streha.cases.models import (
    AssistanceService,
    Case,
    ServiceKind,
    ServiceStatus,
)
from streha.cases.services.base import (
    SERVICE_STAGES,
    _audit,
    _bump,
    _event,
    _require_contribute,
)

__all__ = ["add_service", "set_service_status"]


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
