"""Reads of victim cases, scoped by the access policy and audited where they show protected
data. Queries are bounded (paged) and use the indexes declared on the models."""

from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from django.core.paginator import Page, Paginator
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.audit import services as audit
from streha.cases.models import (
    Case,
    ExploitationType,
    Notification,
    Referral,
    ReferralStatus,
    Status,
    Task,
)
from streha.people.models import Person
from streha.people.selectors import search_filter

PAGE_SIZE = 25
SEARCH_LIMIT = 1000  # persons (and their cases) one exact search may match


@dataclass(frozen=True)
class CaseView:
    case: Case
    access: policy.CaseAccess

    def shows(self, group: str) -> bool:
        return group in self.access.field_groups


class MergedPage:
    """A page of cases merged from the user's two scopes, shaped like Django's ``Page``.

    Each scope is read through an index ordered by ``-opened_at`` and cut at the end of the
    wanted page, so a page costs two bounded index range scans plus two indexed counts,
    whatever the number of cases (an OR of both scopes would sort every visible case)."""

    def __init__(self, object_list, number: int, count: int, per_page: int = PAGE_SIZE):
        self.object_list = object_list
        self.number = number
        self.paginator = SimpleNamespace(
            count=count, num_pages=max(1, (count + per_page - 1) // per_page), per_page=per_page
        )

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def case_scopes(user: User) -> list:
    """``policy.cases_visible_to(user)`` as disjoint parts (own, referred, assigned), from the
    access policy itself. Their union is exactly the policy's queryset (tested)."""
    return policy.case_scope_parts(user)


def _page_number(page) -> int:
    try:
        return max(1, int(page))
    except (TypeError, ValueError):
        return 1


def list_cases(
    user: User,
    *,
    status: str = "",
    source: str = "",
    exploitation_type: str = "",
    child: bool | None = None,
    query: str = "",
    page: int | str = 1,
    request=None,
) -> MergedPage:
    """A page of the cases ``user`` may see, filtered; ``query`` searches persons by blind
    index (exact name or number) or a case reference."""
    filters = Q()
    if status in Status.values:
        filters &= Q(status=status)
    if source:
        filters &= Q(source=source)
    if exploitation_type in ExploitationType.values:
        # JSON containment differs between SQLite and PostgreSQL; the list's text form is
        # the same on both (values are enumeration names, so no wildcard can sneak in).
        filters &= Q(exploitation_types_text__contains=f'"{exploitation_type}"')
    if child is not None:
        filters &= Q(is_child=child)
    query = query.strip()
    if query:
        if query.upper().startswith("C-") or query.upper().startswith("DC"):
            filters &= Q(reference=query.upper())
        else:
            # The blind-index lookup first (a bounded handful of persons), then their cases
            # through the person index; the scopes then filter these by primary key.
            persons = search_filter(Person.objects.all(), query).values_list("pk", flat=True)
            candidates = Case.objects.filter(person_id__in=list(persons[:SEARCH_LIMIT]))
            filters &= Q(pk__in=list(candidates.values_list("pk", flat=True)[:SEARCH_LIMIT]))
    parts = [
        part.annotate(exploitation_types_text=Cast("exploitation_types", TextField())).filter(
            filters
        )
        for part in case_scopes(user)
    ]
    count = sum(part.count() for part in parts)
    number = min(_page_number(page), max(1, (count + PAGE_SIZE - 1) // PAGE_SIZE))
    end = number * PAGE_SIZE
    keys = sorted(
        (
            key
            for part in parts
            for key in part.order_by("-opened_at", "-pk").values_list("opened_at", "pk")[:end]
        ),
        reverse=True,
    )[end - PAGE_SIZE : end]
    ids = [pk for _opened, pk in keys]
    by_id = Case.objects.select_related("owner_agency").in_bulk(ids)
    result = MergedPage([by_id[pk] for pk in ids], number, count)
    if result.object_list:
        audit.record_many(
            user,
            audit.Action.SEARCH if query else audit.Action.LIST,
            result.object_list,
            purpose="case list",
            request=request,
        )
    return result


def read_case(user: User, public_id, *, request=None, purpose: str = "") -> CaseView:
    """The case if ``user`` may see it (else 404), audited as read."""
    case = (
        policy.cases_visible_to(user)
        .select_related("owner_agency", "person", "first_contact_municipality")
        .filter(public_id=public_id)
        .first()
    )
    if case is None:
        raise Http404
    access = policy.case_access(user, case)
    if not access.can_view:
        raise Http404
    audit.record(
        user,
        audit.Action.READ,
        obj=case,
        field_groups=sorted(access.field_groups),
        purpose=purpose,
        request=request,
    )
    return CaseView(case=case, access=access)


def timeline(case: Case):
    return case.events.select_related("actor").order_by("at", "pk")


def inbox(user: User, *, status: str = "", page: int | str = 1) -> Page:
    """Referrals sent to the user's agency (no person data until accepted)."""
    referrals = policy.referrals_visible_to(user).filter(to_agency_id=user.agency_id)
    if status in ReferralStatus.values:
        referrals = referrals.filter(status=status)
    referrals = referrals.select_related("from_agency", "case").order_by("-sent_at", "-pk")
    return Paginator(referrals, PAGE_SIZE).get_page(page)


def outbox(user: User) -> list[Referral]:
    return list(
        policy.referrals_visible_to(user)
        .filter(from_agency_id=user.agency_id)
        .select_related("to_agency", "case")
        .order_by("-sent_at", "-pk")[:PAGE_SIZE]
    )


def read_referral(user: User, public_id) -> Referral:
    referral = (
        policy.referrals_visible_to(user)
        .select_related("case", "from_agency", "to_agency")
        .filter(public_id=public_id)
        .first()
    )
    if referral is None:
        raise Http404
    return referral


def tasks_for(user: User):
    """Open tasks of the user (assigned to them or to nobody in their agency); supervisors see
    the whole agency's."""
    if not policy.role_field_groups(user):
        return Task.objects.none()
    tasks = Task.objects.filter(agency_id=user.agency_id, done_at__isnull=True)
    if not policy.sees_agency_work(user):
        tasks = tasks.filter(Q(assignee__isnull=True) | Q(assignee=user))
    return tasks.select_related("case").order_by("due_on", "pk")


def agency_task(user: User, task_id) -> Task | None:
    """A task (open or done) of the user's agency, or None."""
    if not policy.role_field_groups(user):
        return None
    return Task.objects.filter(agency_id=user.agency_id, pk=task_id).select_related("case").first()


@dataclass(frozen=True)
class WorkSummary:
    overdue: list
    due_soon: list
    overdue_count: int | str  # "1000+" past the cap
    due_soon_count: int | str
    notifications: list


def my_work(user: User, *, limit: int = 50) -> WorkSummary:
    from streha.web.selectors import bounded_count

    today = timezone.localdate()
    tasks = tasks_for(user)
    overdue = tasks.filter(due_on__lt=today)
    soon = tasks.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7))
    notices = list(Notification.objects.filter(user=user, read_at__isnull=True)[:limit])
    return WorkSummary(
        overdue=list(overdue[:limit]),
        due_soon=list(soon[:limit]),
        overdue_count=bounded_count(overdue),
        due_soon_count=bounded_count(soon),
        notifications=notices,
    )


# --- Contributions to the UI shell ---------------------------------------------------------------


def navigation_entries(user) -> list:
    """(label, url) entries this app adds to the main navigation for ``user``."""
    if not policy.role_field_groups(user):
        return []
    return [
        (_("Cases"), reverse("cases:list")),
        (_("Referrals"), reverse("cases:inbox")),
        (_("Tasks"), reverse("cases:my_work")),
    ]


def my_work_panels(user) -> list:
    """Panels this app adds to a user's "my work" page (streha.web.selectors.Panel)."""
    from streha.web.selectors import Panel, bounded_count

    if not policy.role_field_groups(user):
        return []
    today = timezone.localdate()
    tasks = tasks_for(user)
    pending = Referral.objects.filter(to_agency_id=user.agency_id, status=ReferralStatus.SENT)
    return [
        Panel(
            title=_("Victim cases"),
            figures=[
                (_("Overdue tasks"), bounded_count(tasks.filter(due_on__lt=today))),
                (
                    _("Tasks due in the next 7 days"),
                    bounded_count(
                        tasks.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7))
                    ),
                ),
                (_("Referrals waiting for an answer"), bounded_count(pending)),
                (
                    _("Unread notifications"),
                    bounded_count(Notification.objects.filter(user=user, read_at__isnull=True)),
                ),
            ],
            links=[
                (_("Tasks"), reverse("cases:my_work")),
                (_("Referral inbox"), reverse("cases:inbox")),
                (_("Cases"), reverse("cases:list")),
            ],
        )
    ]
