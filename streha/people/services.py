"""Writes on persons: registration, correction, subject-access export, break-glass, anonymisation.

Every function asks the access policy first, validates completely before writing, runs in one
transaction and records an audit event in that same transaction: either the change and its
audit event are both stored, or neither is. Demo data goes through ``register_persons_bulk``,
which seals and audits exactly like single registration.
"""

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import BreakGlassGrant
from streha.accounts.models import Role, User
from streha.audit import read_context
from streha.audit import services as audit
from streha.people import name_index
from streha.people.models import Person, PersonDocument, PersonNameKey
from streha.protection.models import assign_ids
from streha.protection.retention import apply_in_batches
from streha.protection.services import shred_data_key

BULK_BATCH = 2000
PROTECTED_FIELDS = tuple(name for names in Person.FIELD_GROUPS.values() for name in names)
EDITABLE_FIELDS = (*PROTECTED_FIELDS, "gender", "birth_year", "citizenship")
MIN_JUSTIFICATION = 20


def new_reference() -> str:
    return "P-" + secrets.token_hex(5).upper()


def groups_of(field_names: Iterable[str]) -> list[str]:
    names = set(field_names)
    return sorted(group for group, fields in Person.FIELD_GROUPS.items() if names & set(fields))


def _refuse_fields_outside(groups: frozenset[str], field_names: Iterable[str]) -> None:
    outside = [
        name
        for name in field_names
        if name in PROTECTED_FIELDS and not set(groups_of([name])) <= groups
    ]
    if outside:
        raise ValidationError({name: _("You may not write this field.") for name in outside})


def _unknown_fields(fields: dict) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})


@transaction.atomic
def register_person(actor: User, *, purpose: str = "", request=None, **fields) -> Person:
    """Register a person in the actor's own agency."""
    policy.require(policy.can_register_persons(actor))
    _unknown_fields(fields)
    _refuse_fields_outside(policy.role_field_groups(actor), fields)
    person = Person(
        owner_agency=actor.agency, created_by=actor, reference=new_reference(), **fields
    )
    person.full_clean()
    person.save()
    audit.record(
        actor,
        audit.Action.CREATE,
        obj=person,
        field_groups=groups_of(name for name, value in fields.items() if value not in ("", None)),
        purpose=purpose,
        request=request,
    )
    return person


@transaction.atomic
def update_person(
    actor: User, person: Person, *, purpose: str = "", request=None, **changes
) -> Person:
    access = policy.person_access(actor, person)
    if not access.can_edit:
        policy.require(False)
    if person.anonymised_at is not None:
        raise ValidationError(_("This record was anonymised and can no longer be changed."))
    _unknown_fields(changes)
    _refuse_fields_outside(access.field_groups, changes)
    changed = [name for name, value in changes.items() if getattr(person, name) != value]
    for name in changed:
        setattr(person, name, changes[name])
    person.full_clean()
    person.save()
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=person,
        field_groups=groups_of(changed),
        purpose=purpose,
        request=request,
        break_glass=access.break_glass,
        details={"fields": sorted(changed)},
    )
    return person


def register_persons_bulk(
    persons: list[Person], *, actor: User | None = None, purpose: str = "demo data"
) -> int:
    """Insert many already-built persons (the demo generator) with one audit event per person."""
    with transaction.atomic():
        assign_ids(persons)
        # bulk_create sends no post_save: the entries and markers are written with the rows.
        name_index.insert_new(
            persons, lambda rows: Person.objects.bulk_create(rows, batch_size=BULK_BATCH)
        )
        audit.record_each(
            audit.Action.CREATE,
            persons,
            actor_of=lambda person: actor or person.created_by,
            field_groups=groups_of(PROTECTED_FIELDS),
            purpose=purpose,
        )
    return len(persons)


def export_person(actor: User, person: Person, *, purpose: str = "", request=None) -> dict:
    """Everything held on a person, for a subject-access request (data protection law)."""
    access = policy.person_access(actor, person)
    policy.require(access.can_export, _("Only a supervisor of the owning agency may export."))
    data = {
        "reference": person.reference,
        "public_id": str(person.public_id),
        "owner_agency": person.owner_agency.name,
        "created_at": person.created_at.isoformat(),
        "updated_at": person.updated_at.isoformat(),
        "gender": person.gender,
        "birth_year": person.birth_year,
        "citizenship": person.citizenship,
    }
    for names in Person.FIELD_GROUPS.values():
        for name in names:
            value = getattr(person, name)
            data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    with transaction.atomic():
        audit.record(
            actor,
            audit.Action.EXPORT,
            obj=person,
            field_groups=sorted(Person.FIELD_GROUPS),
            purpose=purpose or "subject access request",
            request=request,
        )
    return data


@transaction.atomic
def open_break_glass(
    actor: User,
    person: Person,
    *,
    justification: str,
    field_groups: Iterable[str] = (),
    request=None,
) -> BreakGlassGrant:
    """A supervisor opens a record outside their scope for a limited time, with a reason.

    Only the field groups asked for are opened (and only those the actor's roles carry); the
    agency holding the record is notified at once, and its auditors see the access beside
    the actor's own auditors.
    """
    policy.require(policy.can_break_glass(actor))
    justification = justification.strip()
    errors = {}
    if len(justification) < MIN_JUSTIFICATION:
        errors["justification"] = _(
            "Explain why you need this record (at least %(count)d characters)."
        ) % {"count": MIN_JUSTIFICATION}
    groups = sorted(set(field_groups))
    allowed = policy.role_field_groups(actor) & set(Person.FIELD_GROUPS)
    if not groups:
        errors["field_groups"] = _("Choose the parts of the record you need.")
    elif not set(groups) <= allowed:
        errors["field_groups"] = _("Your role does not give access to some of these parts.")
    if errors:
        raise ValidationError(errors)
    hours = settings.STREHA_BREAK_GLASS_HOURS
    grant = BreakGlassGrant(
        user=actor,
        person=person,
        field_groups=groups,
        justification=justification,
        expires_at=timezone.now() + timedelta(hours=hours),
    )
    grant.save()
    notified = _notify_owner_of_break_glass(person)
    audit.record(
        actor,
        audit.Action.BREAK_GLASS,
        obj=person,
        field_groups=groups,
        purpose="break-glass access",
        request=request,
        break_glass=True,
        details={
            "grant": grant.pk,
            "hours": hours,
            "owner_agency": person.owner_agency_id,
            "notified": notified,
        },
    )
    return grant


# Who hears at once that another agency broke the glass on a record their agency holds.
BREAK_GLASS_NOTIFIED_ROLES = (Role.SUPERVISOR, Role.AUDITOR, Role.AGENCY_ADMIN)


def _notify_owner_of_break_glass(person: Person) -> int:
    """In-app notice (and e-mail, after commit) to the holding agency's supervisors, auditors
    and administrators. The text names no person: e-mail leaves the system."""
    from django.core.mail import send_mail
    from django.urls import reverse

    from streha.cases.models import Notification

    staff = list(policy.staff_holding(person.owner_agency_id, BREAK_GLASS_NOTIFIED_ROLES))
    message = _("Break-glass access was opened on a record your agency holds.")
    url = reverse("audit:break_glass")
    Notification.objects.bulk_create(Notification(user=u, message=message, url=url) for u in staff)
    recipients = [u.email for u in staff if u.email]
    if recipients:
        base = getattr(settings, "STREHA_BASE_URL", "") or ""
        body = _("%(message)s\n\nSign in to Streha to see it: %(link)s") % {
            "message": message,
            "link": base + url,
        }
        transaction.on_commit(
            lambda: send_mail(
                _("Streha: break-glass access"), body, None, recipients, fail_silently=True
            )
        )
    return len(staff)


@transaction.atomic
def anonymise_person(person: Person, *, actor: User | None = None, reason: str) -> Person:
    """Erase identifying data for good; statistics fields stay. Audited.

    The person's row is locked first, as document uploads lock it: no upload can slip in
    between erasing the documents and committing. Erasing reads the sealed fields of the
    person's cases, so it runs in an audited system context (``streha.audit.read_context``)."""
    with read_context.system("anonymisation", actor=actor, obj=person):
        return _anonymise(person, actor=actor, reason=reason)


def _anonymise(person: Person, *, actor: User | None, reason: str) -> Person:
    Person.objects.select_for_update().filter(pk=person.pk).values_list("pk").first()
    for name in PROTECTED_FIELDS:
        field = Person._meta.get_field(name)
        setattr(person, name, None if field.null else "")
    person.anonymised_at = timezone.now()
    person.save()
    shred_data_key(person, actor=actor)
    # The per-name search entries go with the names (the save above already emptied them;
    # this holds however the names were erased).
    PersonNameKey.objects.filter(person_id=person.pk).delete()
    documents, _deleted = person.documents.all().delete()
    # Imported here: cases build on people, not the other way round.
    from streha.cases.documents.services import erase_documents_of_person
    from streha.cases.services import erase_cases_of_person

    case_documents = erase_documents_of_person(person)
    cases = erase_cases_of_person(person)
    audit.record(
        actor,
        audit.Action.ANONYMISE,
        obj=person,
        field_groups=sorted(Person.FIELD_GROUPS),
        purpose=reason,
        details={
            "documents_deleted": documents,
            "case_documents_deleted": case_documents,
            "cases_erased": cases,
        },
    )
    return person


def retention_due(now=None):
    """Persons past their retention period and not yet anonymised."""
    now = now or timezone.now()
    days = settings.STREHA_RETENTION_DAYS["people.person"]
    return Person.objects.filter(
        anonymised_at__isnull=True, updated_at__lt=now - timedelta(days=days)
    )


def apply_retention(*, batch: int = 500, now=None) -> int:
    """Anonymise every person past retention, one transaction per person (resumable)."""
    return apply_in_batches(
        lambda: retention_due(now),
        lambda person: anonymise_person(person, reason="retention period ended"),
        batch=batch,
    )


ALLOWED_DOCUMENT_TYPES = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "text/plain",
}


@transaction.atomic
def attach_document(
    actor: User, person: Person, *, title: str, upload, request=None
) -> PersonDocument:
    """Store an uploaded file encrypted, after checking the uploader may write identity data."""
    access = policy.person_access(actor, person)
    if not (access.can_edit and PersonDocument.FIELD_GROUP in access.field_groups):
        policy.require(False)
    errors = {}
    if not title.strip():
        errors["title"] = _("Give the document a title.")
    if upload.size > settings.STREHA_MAX_DOCUMENT_BYTES:
        errors["upload"] = _("The file is larger than %(limit)d MB.") % {
            "limit": settings.STREHA_MAX_DOCUMENT_BYTES // (1024 * 1024)
        }
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_DOCUMENT_TYPES:
        errors["upload"] = _("Only PDF, JPEG, PNG or plain-text files can be uploaded.")
    if errors:
        raise ValidationError(errors)
    document = PersonDocument(
        person=person,
        title=title.strip(),
        file_name=(upload.name or "document")[:255],
        content=upload.read(),
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )
    document.full_clean(exclude=["content"])
    document.save()
    audit.record(
        actor,
        audit.Action.CREATE,
        obj=document,
        field_groups=[PersonDocument.FIELD_GROUP],
        request=request,
        break_glass=access.break_glass,
        details={"person": str(person.public_id)},
    )
    return document
