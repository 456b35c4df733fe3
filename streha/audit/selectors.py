"""Reads of the audit log for the auditor pages. Scope always starts from the access policy."""

import uuid
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from streha.access import policy
from streha.access.models import BreakGlassGrant
from streha.accounts.models import User
from streha.audit.models import AuditEvent

PAGE_SIZE = 50
PERSON_TYPE = "people.person"


def visible_events(user: User) -> QuerySet[AuditEvent]:
    """Events ``user`` may audit, newest first (none for non-auditors)."""
    return policy.audit_events_visible_to(user).order_by("-seq")


def person_public_id(value: str) -> str | None:
    """The public id a person filter means: the value itself if it is a UUID, else the public id
    of the person with that reference; None if there is no such person.

    Reference and public id are opaque identifiers, not protected data, so resolving one to the
    other does not go through the person policy (auditors may not open persons at all); the
    events shown stay limited by the audit policy.
    """
    value = value.strip()
    try:
        return str(uuid.UUID(value))
    except ValueError:
        pass
    from streha.people.models import Person

    found = Person.objects.filter(reference=value.upper()).values_list("public_id", flat=True)
    public_id = found.first()
    return None if public_id is None else str(public_id)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_events(
    events: QuerySet[AuditEvent],
    *,
    person: str = "",
    username: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """Narrow ``events``; dates are whole days in the site's time zone, both ends included."""
    if person:
        public_id = person_public_id(person)
        if public_id is None:
            return events.none()
        events = events.filter(object_type=PERSON_TYPE, object_id=public_id)
    if username:
        events = events.filter(actor_username__iexact=username.strip())
    if action:
        events = events.filter(action=action)
    if date_from:
        events = events.filter(occurred_at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_start_of(date_to + timedelta(days=1)))
    return events


def events_about_person(user: User, public_id: uuid.UUID) -> QuerySet[AuditEvent]:
    """Who did what with one person's record (reads, changes, exports, break-glass)."""
    return visible_events(user).filter(object_type=PERSON_TYPE, object_id=str(public_id))


def events_by_user(user: User, actor_id: int) -> QuerySet[AuditEvent]:
    """Everything one staff member did that ``user`` may audit."""
    return visible_events(user).filter(actor_id=actor_id)


def page_of(events: QuerySet[AuditEvent], number) -> Page:
    """One page of events, each with ``person_public_id`` and ``person_reference`` for links."""
    page = Paginator(events, PAGE_SIZE).get_page(number)
    _label_persons(page.object_list)
    return page


def _label_persons(events) -> None:
    """Attach person links to events about persons: one query for the whole page."""
    ids: dict[AuditEvent, str | None] = {}
    for event in events:
        public_id = None
        if event.object_type == PERSON_TYPE:
            try:
                public_id = str(uuid.UUID(event.object_id))
            except ValueError:
                public_id = None
        ids[event] = public_id
    references = _references({public_id for public_id in ids.values() if public_id})
    for event, public_id in ids.items():
        event.person_public_id = public_id
        event.person_reference = references.get(public_id, "") if public_id else ""


def _references(public_ids: set[str]) -> dict[str, str]:
    if not public_ids:
        return {}
    from streha.people.models import Person

    rows = Person.objects.filter(public_id__in=public_ids).values_list("public_id", "reference")
    return {str(public_id): reference for public_id, reference in rows}


def person_reference(public_id: uuid.UUID) -> str:
    return _references({str(public_id)}).get(str(public_id), "")


def pending_break_glass(user: User) -> QuerySet[BreakGlassGrant]:
    """Break-glass accesses awaiting review, oldest first (first opened, first reviewed)."""
    return (
        policy.break_glass_grants_visible_to(user)
        .filter(reviewed_at__isnull=True)
        .order_by("starts_at", "pk")
    )


def reviewed_break_glass(user: User) -> QuerySet[BreakGlassGrant]:
    return (
        policy.break_glass_grants_visible_to(user)
        .filter(reviewed_at__isnull=False)
        .order_by("-reviewed_at", "-pk")
    )
