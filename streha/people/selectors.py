"""Reads of persons. Reading identifying data is itself an audited act, so the functions that
return identities also record who read what; plain scoping lives in the access policy."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from streha.access import policy
from streha.access.models import BreakGlassGrant
from streha.accounts.models import User
from streha.audit import reasons
from streha.audit import services as audit
from streha.cases.selectors_batch import counted, read_together
from streha.people.models import Person, PersonDocument
from streha.people.name_index import holders_of_all, not_current_ids
from streha.protection.name_keys import name_keys
from streha.protection.search import exact
from streha.protection.token_search import SearchTooBroad, equal_after_opening
from streha.sql import AmongIds
from streha.web.paging import page_number

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
# Candidates one name search may open (decrypt and compare) for one request: a search naming
# more, among the persons the user may see, is "too broad" and the user adds a name or a year.
SEARCH_CANDIDATES = 1000
_YEAR = re.compile(r"^(19|20)\d\d$")
_DATES = (
    re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})\.?$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
)


@dataclass(frozen=True)
class ParsedQuery:
    """What a search box's text asks for: names, and a year or date of birth."""

    names: str
    birth_year: int | None = None
    date_of_birth: datetime.date | None = None


def parse_query(query: str) -> ParsedQuery:
    """Split a name search into its names and a year ("1999") or date of birth ("12.03.1999",
    "1999-03-12"), in any order."""
    names, year, born = [], None, None
    for word in query.split():
        if _YEAR.match(word):
            year = int(word)
            continue
        for pattern in _DATES:
            match = pattern.match(word)
            if match:
                try:
                    born = datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
                except ValueError:
                    born = None
                else:
                    year = born.year
                break
        else:
            names.append(word)
    return ParsedQuery(" ".join(names), year, born)


def is_reference(query: str) -> bool:
    return bool(_REFERENCE.match(query.strip().upper()))


@dataclass(frozen=True)
class Candidates:
    """The persons a search may find, from the indexes alone, and how to confirm them.

    ``persons`` come from blind indexes, so some are false positives of their truncated
    entries; ``confirm(ids)`` opens only the persons it is given and returns those that truly
    match. A caller that shows one page confirms candidates in its own order until the page is
    full (``confirm_in_order``), so a search never opens every namesake in the country."""

    persons: QuerySet[Person]
    confirm: Callable[[list[int]], set[int]]


def _all_confirmed(ids) -> set[int]:
    return set(ids)


def search_candidates(
    persons: QuerySet[Person], query: str, *, limit: int | None = None
) -> Candidates:
    """The ``Candidates`` of a search among ``persons``: by reference, personal or passport
    number (whole, through their blind indexes), or by names: any one name, several in any
    order, in Albanian, Serbian (Latin or Cyrillic) or unaccented spelling, optionally with the
    year or date of birth (through the per-name index, ``streha.protection.token_search``).

    ``persons`` must already be the persons the user may see with the indexed group
    (``searchable_persons``): filtering a wider set first would let the result's size answer
    whether a name or number exists elsewhere. Raises ``SearchTooBroad`` when a name search
    names more than ``limit`` (``SEARCH_CANDIDATES``) candidates among ``persons``."""
    query = query.strip()
    if not query:
        return Candidates(persons, _all_confirmed)
    if is_reference(query):
        return Candidates(persons.filter(reference=query.upper()), _all_confirmed)
    if _IDENTIFIER.match(query):
        found = exact(persons, "personal_number_index", query) | exact(
            persons, "passport_number_index", query
        )
        return Candidates(found, _all_confirmed)
    wanted = parse_query(query)
    if wanted.birth_year is not None:
        persons = persons.filter(birth_year=wanted.birth_year)
    equal = {"date_of_birth": wanted.date_of_birth} if wanted.date_of_birth else {}
    limit = SEARCH_CANDIDATES if limit is None else limit
    if not name_keys(wanted.names):
        if wanted.names or wanted.birth_year is None:
            return Candidates(persons.none(), _all_confirmed)  # only initials or punctuation
        found = equal_after_opening(persons, equal, limit=limit) if equal else persons
        return Candidates(found, _all_confirmed)
    # The holders of every name first, from the index (by pair entries: a few hundred rows at
    # national scale, not the thousands holding each name), then the user's scope on those
    # few, in one query (a long list of holders is put into SQL once, not once per name and
    # per later query).
    holders = holders_of_all(Person.NAME_TOKENS.search_digests(wanted.names))
    among = AmongIds("pk", holders) if isinstance(holders, list) else Q(pk__in=holders)
    ids = list(persons.filter(among).order_by().values_list("pk", flat=True)[: limit + 1])
    if len(ids) > limit:
        raise SearchTooBroad
    unindexed: set[int] = set()
    if not equal:
        # The whole-name index finds a person whose per-name entries are not known to be
        # current (``name_index.not_current``: written by a path that did not index them,
        # before the index existed, or under other bits or key, until ``streha reindex_names``
        # has run). Only such holders of the whole-name value are read, from the (value,
        # marker) index alone, no scope: none at all when every holder is current. Those not
        # already candidates are kept within the user's scope and opened (nobody twice).
        lookups = Person._meta.get_field("name_index").lookups_of(wanted.names)
        bucket = Person.objects.filter(name_index__in=lookups)
        if isinstance(holders, list):
            lacking = sorted(set(not_current_ids(bucket)) - set(holders))
        else:
            lacking = sorted(not_current_ids(bucket.exclude(pk__in=holders)))
        if lacking:
            unindexed = set(
                exact(persons.filter(pk__in=lacking), "name_index", wanted.names).values_list(
                    "pk", flat=True
                )
            )

    def confirm(candidate_ids) -> set[int]:
        candidate_ids = list(candidate_ids)
        opened = [pk for pk in candidate_ids if pk not in unindexed]
        return {pk for pk in candidate_ids if pk in unindexed} | Person.NAME_TOKENS.confirmed(
            Person, opened, wanted.names, equal=equal
        )

    # The candidates were read from ``persons`` just now: by primary key alone from here on.
    return Candidates(Person.objects.filter(AmongIds("pk", [*ids, *sorted(unindexed)])), confirm)


def search_filter(
    persons: QuerySet[Person], query: str, *, limit: int | None = None
) -> QuerySet[Person]:
    """Every person of ``persons`` a search finds (``search_candidates``, all confirmed). For
    a page of results, ``confirm_in_order`` opens only as many candidates as the page needs."""
    candidates = search_candidates(persons, query, limit=limit)
    if candidates.confirm is _all_confirmed:
        return candidates.persons
    ids = list(candidates.persons.order_by("pk").values_list("pk", flat=True))
    return persons.filter(AmongIds("pk", sorted(candidates.confirm(ids))))


# Candidates confirmed at least at once (one query): a page whose candidates are mostly true
# namesakes is then confirmed in one or two rounds.
CONFIRM_BATCH = 10


def confirm_in_order(items, person_of, confirm, wanted: int) -> tuple[list, bool]:
    """The first ``wanted`` of ``items`` (in the caller's stable order) whose person
    ``confirm`` accepts, and whether more follow, opening persons in that order only until
    ``wanted + 1`` are found: a page of search results costs about a page of decryption,
    however many namesakes the country holds.

    Only items the caller passes (within the user's scope) are opened or counted, so "more
    follow" says nothing about persons outside it."""
    found: list = []
    verdict: dict[int, bool] = {}
    position = 0
    while position < len(items) and len(found) <= wanted:
        missing = wanted + 1 - len(found)
        batch, persons = [], []
        while position < len(items) and len(persons) < max(missing, CONFIRM_BATCH):
            item = items[position]
            batch.append(item)
            position += 1
            person = person_of(item)
            if person not in verdict and person not in persons:
                persons.append(person)
        accepted = confirm(persons) if persons else set()
        verdict.update((person, person in accepted) for person in persons)
        found += [item for item in batch if verdict[person_of(item)]]
    return found[:wanted], len(found) > wanted


def searchable_persons(user: User, query: str) -> QuerySet[Person]:
    """The persons ``user`` may search with ``query``: a reference (not protected) among all
    they may see, a name or number among those they may see with its field group."""
    if is_reference(query):
        return policy.persons_visible_to(user)
    return policy.persons_visible_with(user, INDEXED_GROUP)


class _ConfirmedPaginator(Paginator):
    """Pages of the search results confirmed so far; with ``more``, one page follows the last
    (confirmed when it is asked for), uncounted."""

    def __init__(self, found: list, per_page: int, *, more: bool):
        super().__init__(found, per_page)
        self.more = more

    @property
    def num_pages(self) -> int:
        return super().num_pages + 1 if self.more else super().num_pages


@dataclass(frozen=True)
class PersonRow:
    """One row of the person list: the person, and whether the row may show their name."""

    person: Person
    shows_identity: bool


# What the person list page shows of a person (its link, reference, name, year of birth and
# agency) and needs (the data key its sealed name opens with, the owner for the access check):
# the other columns (sealed numbers, address, narrative, health notes, search indexes) are
# neither read nor converted. Any of them read later would be one more query per row.
LIST_PAGE_FIELDS = (
    "id",
    "data_key",
    "public_id",
    "reference",
    "owner_agency_id",
    "created_at",
    "given_name",
    "family_name",
    "anonymised_at",
    "birth_year",
)
_FIELDS_UNREAD_BY_LIST_PAGE = tuple(
    field.name for field in Person._meta.concrete_fields if field.attname not in LIST_PAGE_FIELDS
)


def list_persons(
    user: User,
    *,
    query: str = "",
    page: int | str = 1,
    request=None,
    purpose: str = "",
    page_fields: bool = False,
) -> Page:
    """A page of ``PersonRow``s: the persons ``user`` may see, or those a search finds
    (``search_filter``; ``page.too_broad`` says a search named too many to open). Names appear
    only on rows whose person the user may see with the identity group (an agency holding a
    referral that shares only the narrative sees the reference alone). ``page_fields``: only
    what the list page shows is read of each person (``LIST_PAGE_FIELDS``)."""
    too_broad = more = False
    rows = Person.objects.select_related("owner_agency")
    if page_fields:
        rows = rows.defer(*_FIELDS_UNREAD_BY_LIST_PAGE)
    if not query.strip():
        # Each part of the scope read through its own index up to the end of the page, plus
        # one to know whether more follow: never counting every person of a large agency.
        number = page_number(page)
        end = number * PAGE_SIZE
        # All parts in ONE query (``read_together``): a round trip and a compilation per part
        # cost the page more than the reading.
        keys: set = set()
        for found in read_together(
            *(
                part.order_by("-created_at", "-pk").values_list("created_at", "pk")[: end + 1]
                for part in policy.person_scope_parts(user, walk_shared=True)
            ),
            shape="person list keys",
        ):
            keys.update(found)
        listed_ids = [pk for _created, pk in sorted(keys, reverse=True)][: end + 1]
        more = len(listed_ids) > end
        result = _ConfirmedPaginator(listed_ids[:end], PAGE_SIZE, more=more).get_page(number)
    else:
        try:
            candidates = search_candidates(searchable_persons(user, query), query)
        except SearchTooBroad:
            # Say so rather than show an arbitrary part (counted among the user's own scope).
            candidates, too_broad = Candidates(Person.objects.none(), _all_confirmed), True
        # Candidates in the list's order, confirmed (opened) only up to the end of the page
        # asked for, plus one to know whether more follow.
        ordered = list(
            candidates.persons.order_by("-created_at", "-pk").values_list("pk", flat=True)
        )
        number = page_number(page)
        found, more = confirm_in_order(ordered, int, candidates.confirm, number * PAGE_SIZE)
        result = _ConfirmedPaginator(found, PAGE_SIZE, more=more).get_page(number)
    # The page's persons, their compiled query reused between requests (``shape``).
    # An empty page reads nothing: an empty ``pk__in`` matches nothing and is never sent.
    ids = list(result.object_list)
    [found_rows] = read_together(rows.filter(pk__in=ids).order_by(), shape="person list rows")
    by_id = {person.pk: person for person in found_rows}
    result.object_list = [by_id[pk] for pk in ids]
    result.too_broad = too_broad
    # More persons match than were opened: the page says so rather than count them.
    result.more_results = more
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
    user: User,
    public_id,
    *,
    request=None,
    purpose: str = "",
    reason: str = "",
    require=None,
) -> PersonView:
    """The person with ``public_id`` if ``user`` may see it (else 404), audited as read
    (``policy.visible_or_404``) under break-glass if that is how the user sees it, with the
    reason it serves (``streha.audit.reasons``: ValidationError for a reason that is not one
    for this person). ``require(access)`` refuses what the user may not do with the person
    (edit, export) before a reason is asked for (``policy.visible_or_404``): a 403 says more
    than "say why"."""
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
        require=require,
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
    from streha.web.navigation import url

    if not policy.role_field_groups(user):
        return []
    return [(_("Persons"), url("people:list"))]


def my_work_panels(user) -> list:
    from streha.web.selectors import COUNT_CAP, Panel, bounded, bounded_count

    panels = []
    if policy.role_field_groups(user):
        links = [(_("Persons"), reverse("people:list"))]
        if policy.can_register_persons(user):
            links.append((_("Register a person"), reverse("people:create")))
        # The figures in one query: the persons held up to the cap, the open break-glass
        # accesses (only for those who may break glass) in full.
        members = [counted(Person.objects.filter(owner_agency_id=user.agency_id)[: COUNT_CAP + 1])]
        if policy.can_break_glass(user):
            members.append(counted(BreakGlassGrant.objects.active().filter(user=user)))
        found = read_together(*members)
        figures = [(_("Persons held by your agency"), bounded(found[0][0]))]
        if len(found) > 1:
            figures.append((_("Your open break-glass accesses"), found[1][0]))
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
