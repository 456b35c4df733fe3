"""Reads of the audit log for the auditor pages. Scope always starts from the access policy."""

import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from streha.access import policy
from streha.access.models import BreakGlassGrant, FieldGroup
from streha.accounts.models import User
from streha.audit import services as audit
from streha.audit.models import AuditEvent, AuditSubject

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
        events = events.filter(_about_person(public_id))
    if username:
        events = events.filter(actor_username__iexact=username.strip())
    if action:
        events = events.filter(action=action)
    if date_from:
        events = events.filter(occurred_at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_start_of(date_to + timedelta(days=1)))
    return events


def _about_person(public_id) -> Q:
    """Events about a person: naming the record itself, or any object about the person (a case,
    referral, document, list or export showing them), through the subject index."""
    from streha.people.models import Person

    about = Q(object_type=PERSON_TYPE, object_id=str(public_id))
    pk = Person.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
    if pk is not None:
        about |= Q(seq__in=AuditSubject.objects.filter(person_id=pk).values("event_seq"))
    return about


def events_about_person(user: User, public_id: uuid.UUID) -> QuerySet[AuditEvent]:
    """Who saw or did what with one person's data, through any object (reads, changes, lists,
    exports, break-glass; of the person, their cases, referrals and documents)."""
    return visible_events(user).filter(_about_person(public_id))


def events_by_user(user: User, actor_id: int) -> QuerySet[AuditEvent]:
    """Everything one staff member did that ``user`` may audit."""
    return visible_events(user).filter(actor_id=actor_id)


def recorded_username(events: QuerySet[AuditEvent]) -> str:
    """The username as of the newest of ``events``. Taken from the log, not the account: the
    account may be renamed or deleted, and looking it up would show auditors staff outside
    their scope."""
    return events.values_list("actor_username", flat=True).first() or ""


def page_of(events: QuerySet[AuditEvent], number) -> Page:
    """One page of events, each described for display (see ``_describe``)."""
    page = Paginator(events, PAGE_SIZE).get_page(number)
    _describe(page.object_list)
    return page


def _describe(events) -> None:
    """Attach display attributes: ``person_public_id`` and ``person_reference`` (for links to
    "who viewed this person"), ``object_label`` and ``group_labels`` (translated names).
    One query for the whole page."""
    events = list(events)
    for event in events:
        event.person_public_id = None
        # An object id that is not a public id is shown as stored, without a link.
        if event.object_type == PERSON_TYPE:
            with suppress(ValueError):
                event.person_public_id = str(uuid.UUID(event.object_id))
        event.object_label = _model_label(event.object_type)
        event.group_labels = [_group_label(group) for group in event.field_groups]
    references = _references({e.person_public_id for e in events if e.person_public_id})
    others = _object_references(events)
    for event in events:
        event.person_reference = references.get(event.person_public_id, "")
        # Auditors read a case by its reference (C-2026-…), not by its public UUID.
        event.object_reference = others.get((event.object_type, event.object_id), "")


def _object_references(events) -> dict[tuple[str, str], str]:
    """(object type, public id) → reference, for objects other than persons whose model has a
    reference: one query per type on the page."""
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.object_type and event.object_type != PERSON_TYPE and event.object_id:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
    found = {}
    for object_type, ids in wanted.items():
        try:
            model = apps.get_model(object_type)
        except (LookupError, ValueError):
            continue
        names = {f.name for f in model._meta.get_fields()}
        if not {"public_id", "reference"} <= names:
            continue
        valid = set()
        for object_id in ids:
            with suppress(ValueError):
                valid.add(uuid.UUID(object_id))
        rows = model.objects.filter(public_id__in=valid).values_list("public_id", "reference")
        found.update({(object_type, str(public_id)): ref for public_id, ref in rows})
    return found


def _model_label(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type  # a model since removed: the stored name is all there is


def _group_label(group: str) -> str:
    return str(FieldGroup(group).label) if group in FieldGroup.values else group


def _references(public_ids: set[str]) -> dict[str, str]:
    if not public_ids:
        return {}
    from streha.people.models import Person

    rows = Person.objects.filter(public_id__in=public_ids).values_list("public_id", "reference")
    return {str(public_id): reference for public_id, reference in rows}


def person_reference(public_id: uuid.UUID) -> str:
    """The person's reference for a page heading ("" if no such person, e.g. never created)."""
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


@dataclass(frozen=True)
class BreakGlassReview:
    pending: list[BreakGlassGrant]
    reviewed: Page


def break_glass_review(user: User, page_number, *, request=None) -> BreakGlassReview:
    """The auditors' break-glass page: what awaits review (the oldest ``PAGE_SIZE``) and a page
    of what was reviewed. The justifications and review notes may name the person, so showing
    them is an audited read (one event naming every access shown)."""
    pending = list(pending_break_glass(user)[:PAGE_SIZE])
    reviewed = Paginator(reviewed_break_glass(user), PAGE_SIZE).get_page(page_number)
    shown = pending + list(reviewed.object_list)
    if shown:
        audit.record_many(
            user, audit.Action.READ, shown, purpose="break-glass review", request=request
        )
    return BreakGlassReview(pending=pending, reviewed=reviewed)
