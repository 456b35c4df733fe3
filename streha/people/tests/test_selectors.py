"""Issue 10 point 6: field groups hold in lists and searches, row by row.

An agency holding a referral that shares only the narrative must not read the person's name in
the person list (HTML or API), and must not be able to test a name or a number against persons
it may not see with the identity group, through the person search or the case search, nor learn
national counts from "too broad"."""

import pytest
from django.utils import timezone

from streha.access import policy
from streha.access.models import AccessGrant, BreakGlassGrant
from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.cases import selectors as case_selectors
from streha.cases.models import Referral, ReferralStatus
from streha.cases.tests.factories import CaseFactory
from streha.people import selectors

POLICE, SHELTER = AgencyKind.POLICE, AgencyKind.SHELTER
NAME = ("Lirije", "Krasniqi")
NUMBER = "9988776655"


@pytest.fixture
def person(world):
    """A person the police own, whose case the police referred to the shelter."""
    return world.person(POLICE, given_name=NAME[0], family_name=NAME[1], personal_number=NUMBER)


def _share(world, person, groups):
    """The shelter accepted a referral of the person's case sharing ``groups``."""
    police, shelter = world.agency(POLICE), world.agency(SHELTER)
    case = CaseFactory(owner_agency=police, person=person)
    Referral.objects.create(
        case=case,
        from_agency=police,
        to_agency=shelter,
        field_groups=list(groups),
        answer_due_on=timezone.localdate(),
        status=ReferralStatus.ACCEPTED,
    )
    AccessGrant.objects.create(
        person=person, agency=shelter, field_groups=list(groups), reason="referral"
    )
    return case


def _names(page) -> list:
    return [(row.person.pk, row.shows_identity) for row in page]


def test_list_shows_names_only_where_identity_is_held(world, person, client):
    _share(world, person, ["narrative"])
    own = world.person(SHELTER, given_name="Besa")
    worker = world.user(Role.CASE_WORKER, SHELTER)
    page = selectors.list_persons(worker)
    assert sorted(_names(page)) == sorted([(person.pk, False), (own.pk, True)])

    client.force_login(worker)
    html = client.get("/persons/").content.decode()
    assert person.reference in html and "Besa" in html
    assert NAME[0] not in html and NAME[1] not in html
    api = client.get("/api/v1/persons/").json()
    by_reference = {row["reference"]: row for row in api["results"]}
    assert "given_name" not in by_reference[person.reference]
    assert by_reference[own.reference]["given_name"] == "Besa"
    # The list's audit event says identity was shown, and for whom.
    event = AuditEvent.objects.filter(action="list").first()
    assert event.details["identity_shown"] == [str(own.public_id)]


def test_list_shows_the_name_once_identity_is_shared(world, person, client):
    _share(world, person, ["identity", "narrative"])
    worker = world.user(Role.CASE_WORKER, SHELTER)
    assert _names(selectors.list_persons(worker)) == [(person.pk, True)]
    client.force_login(worker)
    assert NAME[0] in client.get("/persons/").content.decode()
    (row,) = client.get("/api/v1/persons/").json()["results"]
    assert row["given_name"] == NAME[0]


@pytest.mark.parametrize("query", [" ".join(NAME), NUMBER])
def test_search_finds_nobody_the_user_may_not_see_with_identity(world, person, client, query):
    """The identity oracle: a name or a number tested against persons shared without
    identity, or not shared at all, finds nothing, in the person and the case search."""
    case = _share(world, person, ["narrative"])
    worker = world.user(Role.CASE_WORKER, SHELTER)
    assert case in policy.cases_visible_to(worker)  # the case itself is visible
    assert not selectors.list_persons(worker, query=query).object_list
    assert not case_selectors.list_cases(worker, query=query).object_list
    client.force_login(worker)
    assert client.post("/api/v1/persons/search/", {"query": query}).json()["count"] == 0
    assert client.post("/api/v1/cases/search/", {"query": query}).json()["count"] == 0
    # Owners and agencies it is shared with identity find the person.
    owner = world.user(Role.CASE_WORKER, POLICE)
    assert [r.person for r in selectors.list_persons(owner, query=query)] == [person]
    assert [c.pk for c in case_selectors.list_cases(owner, query=query)] == [case.pk]


def test_search_with_identity_shared_finds_the_case(world, person):
    case = _share(world, person, ["identity"])
    worker = world.user(Role.CASE_WORKER, SHELTER)
    assert [c.pk for c in case_selectors.list_cases(worker, query=" ".join(NAME))] == [case.pk]
    assert [r.person for r in selectors.list_persons(worker, query=NUMBER)] == [person]


def test_too_broad_counts_only_what_the_user_may_see(world, monkeypatch):
    """Many persons of one name elsewhere in the country no longer make the search "too
    broad" for an agency that sees none of them: the answer is simply nothing found."""
    monkeypatch.setattr(case_selectors, "SEARCH_CANDIDATES", 2)
    for _ in range(3):
        CaseFactory(
            owner_agency=world.agency(POLICE),
            person=world.person(POLICE, given_name=NAME[0], family_name=NAME[1]),
        )
    outsider = world.user(Role.CASE_WORKER, SHELTER)
    page = case_selectors.list_cases(outsider, query=" ".join(NAME))
    assert not page.too_broad and page.paginator.count == 0
    owner = world.user(Role.CASE_WORKER, POLICE)
    assert case_selectors.list_cases(owner, query=" ".join(NAME)).too_broad


def test_persons_visible_with_agrees_with_person_access(world, person):
    """The search scope is ``person_access`` as a queryset: checked row by row over owned,
    shared with and without identity, assigned, break-glass and invisible persons."""
    shelter, police = world.agency(SHELTER), world.agency(POLICE)
    worker = world.user(Role.SUPERVISOR, SHELTER)
    _share(world, person, ["narrative"])  # shared without identity
    with_identity = world.person(POLICE)
    AccessGrant.objects.create(
        person=with_identity, agency=shelter, field_groups=["identity"], reason="r"
    )
    assigned = world.person(POLICE)
    CaseFactory(owner_agency=police, person=assigned, assigned_to=worker)
    assigned_but_shared_without = world.person(POLICE)
    CaseFactory(owner_agency=police, person=assigned_but_shared_without, assigned_to=worker)
    AccessGrant.objects.create(
        person=assigned_but_shared_without, agency=shelter, field_groups=["health"], reason="r"
    )
    broken = world.person(POLICE)
    BreakGlassGrant.objects.create(
        user=worker,
        person=broken,
        justification="Urgent review of the file " * 2,
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    own, invisible = world.person(SHELTER), world.person(POLICE)
    everyone = [person, with_identity, assigned, assigned_but_shared_without, broken, own]
    everyone.append(invisible)
    scope = set(policy.persons_visible_with(worker, "identity"))
    groups = policy.person_field_groups(worker, everyone)
    for each in everyone:
        expected = "identity" in policy.person_access(worker, each).field_groups
        assert (each in scope) == expected == ("identity" in groups[each.pk]), each.reference
    assert scope == {with_identity, assigned, broken, own}


def test_person_scope_parts_are_disjoint_and_make_up_the_policy(world, person):
    """The person list reads the scope part by part: together exactly ``persons_visible_to``,
    no person in two parts (owned, shared, break-glass, assigned, and their overlaps)."""
    shelter, police = world.agency(SHELTER), world.agency(POLICE)
    worker = world.user(Role.SUPERVISOR, SHELTER)
    _share(world, person, ["narrative"])
    assigned = world.person(POLICE)
    CaseFactory(owner_agency=police, person=assigned, assigned_to=worker)
    assigned_and_shared = world.person(POLICE)
    CaseFactory(owner_agency=police, person=assigned_and_shared, assigned_to=worker)
    AccessGrant.objects.create(
        person=assigned_and_shared, agency=shelter, field_groups=["health"], reason="r"
    )
    for broken in (world.person(POLICE), assigned):
        BreakGlassGrant.objects.create(
            user=worker,
            person=broken,
            justification="Urgent review of the file " * 2,
            expires_at=timezone.now() + timezone.timedelta(hours=1),
        )
    world.person(SHELTER), world.person(POLICE)  # one owned, one out of sight
    parts = [set(part.values_list("pk", flat=True)) for part in policy.person_scope_parts(worker)]
    union = set().union(*parts)
    assert sum(len(part) for part in parts) == len(union)
    assert union == set(policy.persons_visible_to(worker).values_list("pk", flat=True))
    listed = [row.person.pk for row in selectors.list_persons(worker)]
    expected = policy.persons_visible_to(worker).order_by("-created_at", "-pk")
    assert listed == list(expected.values_list("pk", flat=True))


def test_the_person_list_pages_without_counting_the_scope(world):
    """A large agency's list reads a page through the index and says a next page follows,
    instead of counting every person it holds; pages neither repeat nor skip anyone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    worker = world.user(Role.CASE_WORKER, SHELTER)
    persons = [world.person(SHELTER) for _ in range(selectors.PAGE_SIZE * 2 + 3)]
    with CaptureQueriesContext(connection) as queries:
        first = selectors.list_persons(worker)
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert first.more_results and first.has_next() and len(first) == selectors.PAGE_SIZE
    seen = []
    for number in (1, 2, 3):
        seen += [row.person.pk for row in selectors.list_persons(worker, page=number)]
    last = selectors.list_persons(worker, page=3)
    assert not last.more_results and not last.has_next() and len(last) == 3
    expected = sorted(persons, key=lambda p: (p.created_at, p.pk), reverse=True)
    assert seen == [p.pk for p in expected]
