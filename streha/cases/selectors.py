"""Reads of victim cases, scoped by the access policy and audited where they show protected
data. Queries are bounded (paged) and use the indexes declared on the models."""

from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from types import SimpleNamespace

from django.core.paginator import Page, Paginator
from django.db.models import Case as Choose
from django.db.models import IntegerField, Min, OuterRef, Q, Subquery, TextField, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.audit import services as audit
from streha.cases.models import (
    Case,
    ExploitationType,
    Referral,
    ReferralStatus,
    Status,
    Task,
)
from streha.cases.selectors_batch import counted, read_together
from streha.people.selectors import confirm_in_order, search_candidates, searchable_persons
from streha.protection.token_search import SearchTooBroad
from streha.sql import AmongIds
from streha.web.paging import page_number

PAGE_SIZE = 25
_TYPES_TEXT = Cast("exploitation_types", TextField())
COUNT_CAP = 1000  # counted cases, and so pages (40 of 25), of one list or search
SEARCH_CANDIDATES = 5000  # cases of the persons one search names, across the country


@dataclass(frozen=True)
class CaseView:
    case: Case
    access: policy.CaseAccess

    def shows(self, group: str) -> bool:
        return group in self.access.field_groups


class MergedPage:
    """A page of cases merged from the user's scopes, shaped like Django's ``Page``.

    Each scope is read through an index ordered by ``-opened_at`` and cut at the end of the
    wanted page, so a page costs bounded index range scans plus bounded counts, whatever the
    number of cases (an OR of the scopes would sort every visible case). Counts stop at
    ``COUNT_CAP``: past it the page says "1000+" and asks for filters or a search, and paging
    stops there too, because nobody reads the 41st page of a list."""

    def __init__(
        self,
        object_list,
        number: int,
        count: int,
        per_page: int = PAGE_SIZE,
        too_broad=False,
        more_results=False,
    ):
        self.object_list = object_list
        self.number = number
        self.too_broad = too_broad
        # A search confirmed (opened) only up to the end of this page: more cases match, how
        # many is not counted, the next page confirms further.
        self.more_results = more_results
        self.count_capped = count > COUNT_CAP
        count = min(count, COUNT_CAP)
        pages = max(1, (count + per_page - 1) // per_page)
        if more_results:
            pages = max(pages, number + 1)
        self.paginator = SimpleNamespace(count=count, num_pages=pages, per_page=per_page)
        self.extras: dict[str, list] = {}  # read with the rows (``list_cases(with_rows=...)``)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def count_label(self) -> str:
        if self.count_capped:
            return f"{COUNT_CAP}+"
        return f"{self.paginator.count}+" if self.more_results else str(self.paginator.count)

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


# What the case list shows: reading only these skips decrypting and decoding the rest.
LIST_COLUMNS = (
    "public_id",
    "reference",
    "status",
    "source",
    "first_contact_on",
    "opened_at",
    "is_child",
    "age_disputed",
    "guardian_appointed_on",
    "owner_agency__name",
    "owner_agency__name_sq",
    "owner_agency__name_sr",
    "owner_agency__name_en",
    "person_id",
    "assigned_to_id",
    "needs_urgent_shelter",
    "needs_urgent_medical",
    "reflection_ends_on",
    "assigned_to__username",
    "assigned_to__first_name",
    "assigned_to__last_name",
)

# The case list's sort keys (whitelisted: a key outside this table is the default). Each
# names a column of the list; the order always ends with the primary key as the tie-breaker,
# so equal values keep one order from page to page.
SORT_KEYS = ("opened", "reference", "stage", "first_contact", "due")
DEFAULT_SORT = "-opened"
_FAR_FUTURE = date(9999, 12, 31)  # cases without an open task sort after every due date


def clean_sort(sort: str) -> str:
    """``sort`` if it names a whitelisted key (``-`` first for descending), else the default."""
    sort = (sort or "").strip()
    return sort if sort.lstrip("-") in SORT_KEYS else DEFAULT_SORT


_SORT_FIELDS = {
    "opened": "opened_at",
    "reference": "reference",
    "first_contact": "first_contact_on",
}


def _sorted_by(queryset, user: User, key: str):
    """``queryset`` and the name of the value ``key`` sorts it on (a column, so that its
    index serves the order, or an annotation ``sort_value``)."""
    if key in _SORT_FIELDS:
        return queryset, _SORT_FIELDS[key]
    if key == "stage":
        # The stages in the order a case moves through them, not alphabetically by code.
        value = Choose(
            *(When(status=code, then=Value(rank)) for rank, code in enumerate(Status.values)),
            default=Value(len(Status.values)),
            output_field=IntegerField(),
        )
    else:  # "due": the earliest open task of the user's agency on the case
        earliest = (
            policy.tasks_visible_to(user)
            .filter(case_id=OuterRef("pk"), done_at__isnull=True)
            .order_by("due_on")
            .values("due_on")[:1]
        )
        value = Coalesce(Subquery(earliest), Value(_FAR_FUTURE))
    return queryset.annotate(sort_value=value), "sort_value"


def _by_stage(part, descending: bool, end: int) -> list[tuple[int, int]]:
    """The first ``end`` (stage rank, pk) keys of ``part`` in stage order: one stage after the
    other, each read in primary-key order from the (agency, status, id) index and stopped at
    ``end``, so no query sorts the agency's cases by a computed rank."""
    stages = list(enumerate(Status.values))
    keys: list[tuple[int, int]] = []
    for rank, code in reversed(stages) if descending else stages:
        if len(keys) >= end:
            break
        ids = part.filter(status=code).order_by("-pk" if descending else "pk")
        keys += [(rank, pk) for pk in ids.values_list("pk", flat=True)[: end - len(keys)]]
    return keys


def list_cases(
    user: User,
    *,
    status: str = "",
    source: str = "",
    exploitation_type: str = "",
    child: bool | None = None,
    query: str = "",
    page: int | str = 1,
    columns: tuple[str, ...] | None = None,
    clamp: bool = True,
    sort: str = DEFAULT_SORT,
    request=None,
    with_rows=None,
) -> MergedPage:
    """A page of the cases ``user`` may see, filtered; ``query`` searches persons by blind
    index (exact name or number) or a case reference. ``columns`` limits the fields read
    (``LIST_COLUMNS`` for the list page); by default whole cases are read. ``sort`` is one of
    ``SORT_KEYS`` (``-`` first: descending), the primary key breaking ties. A page past the
    last is the last page for people (``clamp``), and empty for API clients.

    ``with_rows(ids)`` names querysets ({name: queryset}) to read in the same query as the
    page's cases (``ids``: their primary keys); their results are ``page.extras[name]``."""
    sort = clean_sort(sort)
    key = sort.lstrip("-")
    descending = sort.startswith("-")
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
    candidates = None
    confirm = None
    if query:
        if query.upper().startswith("C-") or query.upper().startswith("DC"):
            filters &= Q(reference=query.upper())
        else:
            # The blind index names a handful of persons and the person index their cases;
            # the scopes then keep those by primary key.
            # Only among the persons the user may see with the indexed field group: a wider
            # search would answer whether a name or number exists anywhere in the country.
            # The persons come from the indexes unopened; their cases are then confirmed in
            # the list's order only up to the end of the page (``confirm_in_order``).
            try:
                found = search_candidates(searchable_persons(user, query), query)
            except SearchTooBroad:  # too many persons (among those the user may see) to open
                return MergedPage([], 1, 0, too_broad=True)
            confirm = found.confirm
            candidates = Case.objects.filter(person_id__in=found.persons.values("pk")).order_by()
            [candidates] = read_together(
                candidates.values_list("pk", flat=True)[: SEARCH_CANDIDATES + 1],
                shape="case search candidates",
            )
            if len(candidates) > SEARCH_CANDIDATES:
                # Say so rather than show an arbitrary part: the user adds a number.
                return MergedPage([], 1, 0, too_broad=True)
            filters &= Q(AmongIds("pk", candidates))
    annotate = exploitation_type in ExploitationType.values
    number = page_number(page)
    more = False
    if candidates is not None:
        # A search's cases are few: read all their keys in one query over the policy's whole
        # scope and sort them here. Split by scope (or ordered), the query would make SQLite
        # walk the agency's whole date index to find a handful of cases.
        visible = policy.cases_visible_to(user)
        if annotate:
            visible = visible.annotate(exploitation_types_text=_TYPES_TEXT)
        visible, value = _sorted_by(visible.filter(filters), user, key)
        [keys] = read_together(
            visible.order_by().values_list(value, "pk", "person_id"), shape="case search keys"
        )
        keys = sorted(keys, reverse=descending)
        # Confirmed up to the end of the wanted page (and one more, to know whether more
        # follow): a search opens about a page of persons, however many share the name.
        keys, more = confirm_in_order(keys, itemgetter(2), confirm, number * PAGE_SIZE)
        keys = [(value, pk) for value, pk, _person in keys]
        count = len(keys)
    else:

        def filtered(part):
            if annotate:
                part = part.annotate(exploitation_types_text=_TYPES_TEXT)
            return part.filter(filters)

        # Counted as the policy says a count reads them (the referred cases by key from the
        # agency's referrals): the same cases as ``parts``, never a scan of every case. Both
        # forms come from one call; the parts they share (own, assigned) are filtered once.
        paged, counted_parts = policy.case_scope_parts_paged_and_counted(user)
        filtered_once: dict = {}

        def filtered_part(part):
            if id(part) not in filtered_once:
                filtered_once[id(part)] = filtered(part)
            return filtered_once[id(part)]

        parts = [filtered_part(part) for part in paged]
        counting = [filtered_part(part) for part in counted_parts]

        def part_keys(part, end: int):
            part, value = _sorted_by(part, user, key)
            order = (f"-{value}", "-pk") if descending else (value, "pk")
            return part.order_by(*order).values_list(value, "pk")[:end]

        # Each scope's count (capped) and the first scope's keys up to the end of the asked
        # page (but for the stage order, read stage by stage), in ONE query
        # (``read_together``). The first scope is the agency's own cases, a case worker's
        # whole list; the others (referred, assigned) are usually empty, and their keys are
        # read only when counted (compiling their queries costs more than a query).
        asked_end = number * PAGE_SIZE
        speculative = key != "stage" and number <= COUNT_CAP // PAGE_SIZE and bool(parts)
        read = read_together(
            *(counted(part.order_by()[: COUNT_CAP + 1]) for part in counting),
            *([part_keys(parts[0], asked_end)] if speculative else []),
            shape="case list keys",
        )
        counts = [found[0] for found in read[: len(parts)]]
        read_keys = read[len(parts) :]
        count = sum(counts)
    last_page = max(1, (min(count, COUNT_CAP) + PAGE_SIZE - 1) // PAGE_SIZE)
    if more:
        last_page = number + 1
    if number > last_page:
        if not clamp:  # API clients page until a page comes back empty
            return MergedPage([], number, count)
        number = last_page
    end = number * PAGE_SIZE
    if candidates is None:
        # Each scope in the wanted order (by its date index for the default), cut at the end
        # of the wanted page, then merged.
        if end != asked_end:  # a page past the last: its keys were not the ones read
            read_keys = []
        keys = []
        for i, (part, part_count) in enumerate(zip(parts, counts, strict=True)):
            if part_count and key == "stage":
                keys += _by_stage(part, descending, end)
            elif part_count:
                keys += read_keys[i] if i < len(read_keys) else part_keys(part, end)
        keys.sort(reverse=descending)
    keys = keys[end - PAGE_SIZE : end]
    ids = [pk for _value, pk in keys]
    rows = Case.objects.select_related("owner_agency", "assigned_to")
    if columns:
        rows = rows.only(*columns)
    extras = dict(with_rows(ids)) if with_rows and ids else {}
    # The rows and what the caller reads beside them (``with_rows``), in ONE query.
    found_rows, *extra_results = read_together(
        rows.filter(pk__in=ids).order_by(), *extras.values(), shape="case list rows"
    )
    by_id = {case.pk: case for case in found_rows}
    result = MergedPage([by_id[pk] for pk in ids], number, count, more_results=more)
    result.extras = dict(zip(extras, extra_results, strict=True))
    if result.object_list:
        audit.record_many(
            user,
            audit.Action.SEARCH if query else audit.Action.LIST,
            result.object_list,
            purpose="case list",
            request=request,
        )
    return result


REFLECTION_WARNING_DAYS = 7  # a reflection period ending within this many days is flagged


# What ``person_names`` reads of a person: the policy's (owner agency), the audit event's
# (public id), the record's data key and the two names. Another column read would be loaded one
# person at a time (``test_work_lists``: the list's queries do not grow with its rows).
NAME_COLUMNS = (
    "public_id",
    "owner_agency_id",
    "anonymised_at",
    "data_key",
    "given_name",
    "family_name",
)


def named_persons(person_ids):
    """The query of ``person_names``: only what the policy, the audit event and the names
    need (a person's other columns, some fifty, would be compiled, read and converted for
    every row of every list). ``person_ids``: a list or a subquery of primary keys."""
    from streha.people.models import Person

    return Person.objects.only(*NAME_COLUMNS).filter(pk__in=person_ids).order_by()


def person_names(
    user: User, person_ids, *, request=None, purpose: str, persons=None
) -> dict[int, str]:
    """The names of those of ``person_ids`` whose identity group ``user`` may see, row by row
    through the access policy (``policy.person_field_groups``); the others are left out.
    ``persons``: the rows of ``named_persons(person_ids)`` when already read.

    One audit event names exactly the persons whose names are returned, with the identity
    group, before any is decrypted (a list shows names only this way)."""
    if persons is None:
        persons = named_persons(list(set(person_ids))) if person_ids else []
    persons = {person.pk: person for person in persons}
    if not persons:
        return {}
    groups = policy.person_field_groups(user, persons.values())
    named = sorted(
        (
            person
            for person in persons.values()
            if "identity" in groups.get(person.pk, ()) and person.anonymised_at is None
        ),
        key=lambda person: person.pk,
    )
    if not named:
        return {}
    audit.record_many(
        user,
        audit.Action.LIST,
        named,
        field_groups=["identity"],
        purpose=purpose,
        request=request,
    )
    return {
        person.pk: " ".join(part for part in (person.given_name, person.family_name) if part)
        for person in named
    }


@dataclass(frozen=True)
class CaseListDetails:
    """What a case list row shows beyond the case itself: its person's name (only when the
    user may see that person's identity group), the earliest open task of the user's agency
    and whether the user reaches the person through break-glass."""

    person_name: str
    next_due: date | None
    break_glass: bool


def _next_due(user: User, case_ids):
    """The earliest open task of ``user``'s agency on each of ``case_ids``: (case, due on)."""
    return (
        policy.tasks_visible_to(user)
        .filter(case_id__in=case_ids, done_at__isnull=True)
        .values("case_id")
        .annotate(first=Min("due_on"))
        .values_list("case_id", "first")
    )


def case_list_detail_queries(user: User):
    """For ``list_cases(with_rows=...)``: the queries of ``case_list_details`` (the persons'
    names and the next due dates of a page of cases), read in the same query as its rows."""

    def queries(ids: list[int]) -> dict:
        persons = Case.objects.filter(pk__in=ids).values("person_id")
        return {"persons": named_persons(persons), "due": _next_due(user, ids)}

    return queries


def case_list_details(
    user: User, cases, *, request=None, read: dict | None = None
) -> dict[int, CaseListDetails]:
    """``CaseListDetails`` by case primary key for a page of cases, in a few queries (none
    but break-glass when ``read`` holds the results of ``case_list_detail_queries``).

    Names are decrypted only for the persons whose identity group ``user`` may see, row by
    row through the access policy (``policy.person_field_groups``), and only after one audit
    event naming exactly those persons with that group."""
    from streha.access.models import BreakGlassGrant

    cases = list(cases)
    if not cases:
        return {}
    read = read or {}
    person_ids = {case.person_id for case in cases}
    names = person_names(
        user, person_ids, request=request, purpose="case list", persons=read.get("persons")
    )
    due_rows = read.get("due")
    if due_rows is None:
        due_rows = _next_due(user, [case.pk for case in cases])
    due = dict(due_rows)
    # Break-glass is flagged only on another agency's cases: a page of the agency's own cases
    # (a case worker's usual list) asks nothing.
    others = {case.person_id for case in cases if case.owner_agency_id != user.agency_id}
    broken = (
        set(
            BreakGlassGrant.objects.active()
            .filter(user_id=user.pk, person_id__in=others)
            .values_list("person_id", flat=True)
        )
        if others
        else set()
    )
    return {
        case.pk: CaseListDetails(
            person_name=names.get(case.person_id, ""),
            next_due=due.get(case.pk),
            break_glass=case.person_id in broken and case.owner_agency_id != user.agency_id,
        )
        for case in cases
    }


# The person's columns the case page shows or needs (its link, reference and name, and the data
# key its sealed name opens with): the other 19 of a person's 26 columns (sealed identity
# numbers, address, narrative, health notes, search indexes) are neither read nor converted.
CASE_PAGE_PERSON_FIELDS = (
    "id",
    "data_key",
    "public_id",
    "reference",
    "owner_agency_id",
    "given_name",
    "family_name",
    "anonymised_at",
)
_PERSON_FIELDS_UNREAD = tuple(
    f"person__{field.name}"
    for field in Case._meta.get_field("person").related_model._meta.concrete_fields
    if field.attname not in CASE_PAGE_PERSON_FIELDS
)


def read_case(
    user: User, public_id, *, request=None, purpose: str = "", page_person: bool = False
) -> CaseView:
    """The case if ``user`` may see it (else 404), audited as read (``policy.visible_or_404``).
    ``page_person``: of the person, only what the case page shows is read
    (``CASE_PAGE_PERSON_FIELDS``); any other field of ``case.person`` would be one more query."""
    scope = policy.cases_visible_to(user).select_related(
        "owner_agency", "person", "first_contact_municipality"
    )
    if page_person:
        scope = scope.defer(*_PERSON_FIELDS_UNREAD)
    case, access = policy.visible_or_404(
        user,
        scope,
        policy.case_access,
        request=request,
        purpose=purpose,
        fetch=_first_case,
        public_id=public_id,
    )
    return CaseView(case=case, access=access)


def _first_case(queryset):
    """``queryset.first()``, its compiled SQL reused between requests (``read_together``'s
    ``shape``): the case read is the same query on every case page and step, only the user's
    scope values and the case's id differ, and compiling its ~80 columns costs more than
    running it."""
    if not queryset.ordered:
        queryset = queryset.order_by("pk")
    [found] = read_together(queryset[:1], shape="case read")
    return found[0] if found else None


def timeline(case: Case):
    return case.events.select_related("actor").order_by("at", "pk")


RECENT = 10  # events, notes and consents on the case page; the rest on their own pages


def notes(case: Case):
    """Newest first. The author is not joined: no page shows it (a join of every user column
    the case page compiled and read for nothing)."""
    return case.notes.order_by("-created_at", "-pk")


def consents(case: Case):
    """Newest first: the latest answer for a purpose is the one that holds."""
    return case.consents.order_by("-recorded_on", "-pk")


def latest_events(case: Case):
    """The query of the latest events, newest first (``recent_events`` turns them round)."""
    return case.events.select_related("actor").order_by("-at", "-pk")[:RECENT]


def recent_events(case: Case, latest=None) -> list:
    """The latest events, oldest first, for the case page (the timeline page has them all).
    ``latest``: ``latest_events(case)`` when already read."""
    return list(reversed(list(latest_events(case) if latest is None else latest)))


# What the referral lists (inbox, outbox, their API and export) and the task list read of each
# row's case: its ids, reference and person. The case's other 52 columns (a dozen JSON lists
# decoded per row, sealed texts) were read and converted for every row (up to 100 on the task
# list) and shown nowhere; any of them read later would be one more query per row.
LIST_CASE_FIELDS = ("id", "public_id", "reference", "person_id", "owner_agency_id")
_CASE_FIELDS_UNREAD_BY_LISTS = tuple(
    f"case__{field.name}"
    for field in Case._meta.concrete_fields
    if field.attname not in LIST_CASE_FIELDS
)


def inbox(user: User, *, status: str = "", page: int | str = 1) -> Page:
    """Referrals sent to the user's agency (no person data until accepted)."""
    referrals = policy.referrals_visible_to(user).filter(to_agency_id=user.agency_id)
    if status in ReferralStatus.values:
        referrals = referrals.filter(status=status)
    referrals = (
        referrals.select_related("from_agency", "case")
        .defer(*_CASE_FIELDS_UNREAD_BY_LISTS)
        .order_by("-sent_at", "-pk")
    )
    return Paginator(referrals, PAGE_SIZE).get_page(page)


def outbox(user: User) -> list[Referral]:
    return list(
        policy.referrals_visible_to(user)
        .filter(from_agency_id=user.agency_id)
        .select_related("to_agency", "case")
        .defer(*_CASE_FIELDS_UNREAD_BY_LISTS)
        .order_by("-sent_at", "-pk")[:PAGE_SIZE]
    )


def read_referral(user: User, public_id, *, request=None) -> Referral:
    """A referral sent by or to the user's agency (else 404), audited as read: its page shows
    the purpose and the answer's reasons, narrative text."""
    scope = policy.referrals_visible_to(user).select_related("case", "from_agency", "to_agency")
    referral, _access = policy.visible_or_404(
        user,
        scope,
        lambda reader, found: policy.ReadAccess(field_groups=frozenset({"narrative"})),
        request=request,
        purpose="referral",
        public_id=public_id,
    )
    return referral


def tasks_for(user: User):
    """Open tasks of the user (assigned to them or to nobody in their agency); supervisors see
    the whole agency's."""
    tasks = policy.tasks_visible_to(user).filter(done_at__isnull=True)
    if policy.own_tasks_only(user):
        tasks = tasks.filter(Q(assignee__isnull=True) | Q(assignee=user))
    return tasks.select_related("case").order_by("due_on", "pk")


def agency_task(user: User, task_id) -> Task | None:
    """A task (open or done) of the user's agency, or None."""
    return policy.tasks_visible_to(user).filter(pk=task_id).select_related("case").first()


@dataclass(frozen=True)
class WorkSummary:
    overdue: list
    due_soon: list
    overdue_count: int | str  # "1000+" past the cap
    due_soon_count: int | str
    notifications: list


def my_work(user: User, *, limit: int = 50) -> WorkSummary:
    """The user's overdue and soon-due tasks (``limit`` of each, with their counts up to
    ``COUNT_CAP``) and unread notifications, read in ONE query (``read_together``)."""
    from streha.web.selectors import COUNT_CAP, bounded

    today = timezone.localdate()
    tasks = tasks_for(user)
    overdue = tasks.filter(due_on__lt=today)
    soon = tasks.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7))
    notices = policy.notifications_visible_to(user).filter(read_at__isnull=True)
    overdue_rows, soon_rows, notice_rows, [overdue_count], [soon_count] = read_together(
        overdue.defer(*_CASE_FIELDS_UNREAD_BY_LISTS)[:limit],
        soon.defer(*_CASE_FIELDS_UNREAD_BY_LISTS)[:limit],
        notices[:limit],
        counted(overdue[: COUNT_CAP + 1]),
        counted(soon[: COUNT_CAP + 1]),
        shape="task list",
    )
    return WorkSummary(
        overdue=overdue_rows,
        due_soon=soon_rows,
        overdue_count=bounded(overdue_count),
        due_soon_count=bounded(soon_count),
        notifications=notice_rows,
    )


# --- Contributions to the UI shell ---------------------------------------------------------------


def navigation_entries(user) -> list:
    """(label, url) entries this app adds to the main navigation for ``user``."""
    from streha.web.navigation import url

    if not policy.role_field_groups(user):
        return []
    return [
        (_("Cases"), url("cases:list")),
        (_("Referrals"), url("cases:inbox")),
        (_("Tasks"), url("cases:my_work")),
    ]


def my_work_panels(user) -> list:
    """Panels this app adds to a user's "my work" page (streha.web.selectors.Panel). Its four
    bounded counts are read in one query (``bounded_counts``)."""
    from streha.web.navigation import url
    from streha.web.selectors import Panel, bounded_counts

    if not policy.role_field_groups(user):
        return []
    today = timezone.localdate()
    tasks = tasks_for(user)
    pending = policy.referrals_visible_to(user).filter(
        to_agency_id=user.agency_id, status=ReferralStatus.SENT
    )
    overdue, soon, waiting, unread = bounded_counts(
        tasks.filter(due_on__lt=today),
        tasks.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7)),
        pending,
        policy.notifications_visible_to(user).filter(read_at__isnull=True),
        shape="victim cases panel",
    )
    return [
        Panel(
            title=_("Victim cases"),
            figures=[
                (_("Overdue tasks"), overdue),
                (_("Tasks due in the next 7 days"), soon),
                (_("Referrals waiting for an answer"), waiting),
                (_("Unread notifications"), unread),
            ],
            links=[
                (_("Tasks"), url("cases:my_work")),
                (_("Referral inbox"), url("cases:inbox")),
                (_("Cases"), url("cases:list")),
            ],
        )
    ]
