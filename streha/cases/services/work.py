"""The work on cases: assignment to a professional, tasks, reminders and notifications."""

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.cases.models import (
    Case,
    Notification,
    Task,
)
from streha.cases.services.base import (
    _audit,
    _bump,
    _event,
    _require_edit,
    _require_open,
    notify_agency,
)

__all__ = [
    "assign_case",
    "complete_task",
    "find_assignee",
    "mark_notifications_read",
    "send_due_reminders",
]


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


def mark_notifications_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s unread notifications read: those numbered ``ids``, or all of them.

    Returns how many changed. Only the user's own are touched: ids of anyone else's are
    ignored (callers answer 404 for them). No audit event: notices hold no personal data."""
    notices = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if ids is not None:
        notices = notices.filter(pk__in=list(ids))
    return notices.update(read_at=timezone.now())
