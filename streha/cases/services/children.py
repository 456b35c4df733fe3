"""Children: the guardian and the best-interests determination."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.accounts.models import User
from streha.cases.models import (
    Case,
    TaskKind,
)
from streha.cases.services.base import (
    _audit,
    _bump,
    _event,
    _finish_tasks,
    _require_child_protection,
    _require_edit,
    _require_open,
)

__all__ = ["appoint_guardian", "record_best_interests"]


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
