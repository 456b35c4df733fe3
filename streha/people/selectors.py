"""Reads of persons. Reading identifying data is itself an audited act, so the functions that
return identities also record who read what; plain scoping lives in the access policy."""

import re
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import BreakGlassGrant
from streha.accounts.models import User
from streha.audit import reasons
from streha.audit import services as audit
from streha.people.models import Person, PersonDocument
from streha.protection.search import exact

PAGE_SIZE = 25
_IDENTIFIER = re.compile(r"^[A-Za-z]{0,3}[\d\s-]{5,}$")
_REFERENCE = re.compile(r"^(P-[0-9A-F]{10}|D\d+-\d{8})$")


@dataclass(frozen=True)
class PersonView:
    person: Person
    access: policy.PersonAccess

    def shows(self, group: str) -> bool:
        return group in self.access.field_groups


# The field group each blind index belongs to: a search by it looks only among the persons the
# user may see with that group (``policy.persons_visible_with``).
INDEXED_GROUP = "identity"


def search_filter(persons: QuerySet[Person], query: str) -> QuerySet[Person]:
    """Exact search through blind indexes: personal or passport number, or full name.

    ``persons`` must already be the persons the user may see with the indexed group
    (``searchable_persons``): filtering a wider set first would let the result's size answer
    whether a name or number exists elsewhere."""
    query = query.strip()
    if not query:
        return persons
    if _REFERENCE.match(query.upper()):
        return persons.filter(reference=query.upper())
    if _IDENTIFIER.match(query):
        return exact(persons, "personal_number_index", query) | exact(
            persons, "passport_number_index", query
        )
    return exact(persons, "name_index", query)


def searchable_persons(user: User, query: str) -> QuerySet[Person]:
    """The persons ``user`` may search with ``query``: a reference (not protected) among all
    they may see, a name or number among those they may see with its field group."""
    if _REFERENCE.match(query.strip().upper()):
        return policy.persons_visible_to(user)
    return policy.persons_visible_with(user, INDEXED_GROUP)


@dataclass(frozen=True)
class PersonRow:
    """One row of the person list: the person, and whether the row may show their name."""

    person: Person
    shows_identity: bool


def list_persons(
    user: User, *, query: str = "", page: int | str = 1, request=None, purpose: str = ""
) -> Page:
    """A page of ``PersonRow``s: the persons ``user`` may see, or those a search finds.
    Names appear only on rows whose person the user may see with the identity group (an
    agency holding a referral that shares only the narrative sees the reference alone)."""
    persons = policy.persons_visible_to(user) if not query.strip() else None
    if persons is None:
        persons = search_filter(searchable_persons(user, query), query)
    persons = persons.select_related("owner_agency")
    paginator = Paginator(persons.order_by("-created_at", "-pk"), PAGE_SIZE)
    result = paginator.get_page(page)
    listed = list(result.object_list)
    groups = policy.person_field_groups(user, listed)
    result.object_list = [
        PersonRow(person=person, shows_identity="identity" in groups[person.pk])
        for person in listed
    ]
    if listed:
        audit.record_many(
            user,
            audit.Action.SEARCH if query else audit.Action.LIST,
            listed,
            field_groups=["identity"] if any(r.shows_identity for r in result.object_list) else [],
            purpose=purpose,
            request=request,
            details={
                "identity_shown": [str(r.person.public_id) for r in result if r.shows_identity]
            },
        )
    return result


def read_person(
    user: User, public_id, *, request=None, purpose: str = "", reason: str = ""
) -> PersonView:
    """The person with ``public_id`` if ``user`` may see it (else 404), audited as read
    (``policy.visible_or_404``) under break-glass if that is how the user sees it, with the
    reason it serves (``streha.audit.reasons``: ValidationError for a reason that is not one
    for this person)."""
    scope = policy.persons_visible_to(user).select_related("owner_agency")

    def purpose_of(person, access) -> str:
        why = reasons.reason_for(
            user, person, reason, break_glass=access.break_glass, request=request
        )
        return f"{purpose} ({why})" if purpose else why

    person, access = policy.visible_or_404(
        user,
        scope,
        policy.person_access,
        purpose_of=purpose_of,
        request=request,
        purpose=purpose,
        audited_groups=lambda access: access.field_groups & set(Person.FIELD_GROUPS),
        public_id=public_id,
    )
    return PersonView(person=person, access=access)


def read_document(
    user: User, person_public_id, document_public_id, *, request=None
) -> PersonDocument:
    """A document of a person ``user`` may see with its identity group (else 404), audited."""
    view = read_person(user, person_public_id, request=request, purpose="document")
    if PersonDocument.FIELD_GROUP not in view.access.field_groups:
        raise Http404
    document = view.person.documents.filter(public_id=document_public_id).first()
    if document is None:
        raise Http404
    audit.record(
        user,
        audit.Action.READ,
        obj=document,
        field_groups=[PersonDocument.FIELD_GROUP],
        request=request,
        break_glass=view.access.break_glass,
        details={"person": str(view.person.public_id)},
    )
    return document


# --- Contributions to the UI shell ---------------------------------------------------------------


def navigation_entries(user) -> list[tuple[str, str]]:
    if not policy.role_field_groups(user):
        return []
    return [(_("Persons"), reverse("people:list"))]


def my_work_panels(user) -> list:
    from streha.web.selectors import Panel, bounded_count

    panels = []
    if policy.role_field_groups(user):
        links = [(_("Persons"), reverse("people:list"))]
        if policy.can_register_persons(user):
            links.append((_("Register a person"), reverse("people:create")))
        active = BreakGlassGrant.objects.active().filter(user=user).count()
        figures = [
            (
                _("Persons held by your agency"),
                bounded_count(Person.objects.filter(owner_agency_id=user.agency_id)),
            )
        ]
        if policy.can_break_glass(user):
            figures.append((_("Your open break-glass accesses"), active))
        panels.append(Panel(title=_("Persons"), figures=figures, links=links))
    if policy.can_audit(user):
        pending = policy.break_glass_grants_visible_to(user).filter(reviewed_at__isnull=True)
        panels.append(
            Panel(
                title=_("Audit"),
                figures=[(_("Break-glass accesses to review"), bounded_count(pending))],
                links=[
                    (_("Audit log"), reverse("audit:index")),
                    (_("Break-glass review"), reverse("audit:break_glass")),
                ],
            )
        )
    return panels


def cases_of(user: User, person: Person):
    """The person's cases that ``user`` may open (through the policy), newest first: the person
    page lists them so that nobody has to search the case list for a person already open."""
    return policy.cases_visible_to(user).filter(person=person).order_by("-pk")
