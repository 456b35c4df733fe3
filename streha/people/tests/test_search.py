"""Issue 16: search as case workers expect it, and issue 10 point 6: never an identity oracle.

By any one name, by full name in either order, by reference, personal or passport number, by
name with year or date of birth; tolerant of diacritics and of Albanian/Serbian spellings; only
among the persons the user may see with the identity group."""

import datetime
import re

import pytest
from django.core.management import call_command
from django.db.models import QuerySet
from django.test import override_settings

from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.cases import selectors as case_selectors
from streha.cases.tests.factories import CaseFactory
from streha.people import name_index, selectors, services
from streha.people.models import Person, PersonNameKey
from streha.people.tests.name_entries import due, entries
from streha.protection.name_keys import name_key, name_keys
from streha.protection.token_search import PAIR, SearchTooBroad
from streha.testing.search import NAMES

POLICE, SHELTER = AgencyKind.POLICE, AgencyKind.SHELTER


def _found(user, query) -> list[str]:
    return sorted(row.person.reference for row in selectors.list_persons(user, query=query))


@pytest.mark.parametrize(
    "spellings",
    [
        ("Gjergj", "Đerđ", "Djerdj", "Ђерђ", "GJERGJ"),
        ("Xhevdet", "Dževdet", "Dzevdet", "Џевдет"),
        ("Krasniqi", "Krasnići", "Krasnici", "Краснићи"),
        ("Haxhiu", "Hadžiu", "Hadziu"),
        ("Shala", "Šala", "Sala"),
        ("Zhaku", "Žaku", "Zaku"),
        ("Çeku", "Čeku", "Ćeku", "Ceku"),
        ("Dritë", "Drite", "DRITË"),
        ("Bytyqi", "Bitići"),
        ("Thaçi", "Tači"),
        ("Hoxha", "Hodža"),
        ("Marigonë", "Marigone"),
    ],
)
def test_spellings_of_one_name_share_one_key(spellings):
    assert len({name_key(spelling) for spelling in spellings}) == 1, spellings


def test_different_names_keep_different_keys():
    assert len({name_key(n) for n in ("Arta", "Ardita", "Drita", "Besa", "Besnik")}) == 5
    assert name_keys("N.N. Krasniqi") == {"krasnici"}  # the unknown-name placeholder is dropped
    assert name_keys("A. Krasniqi 1999") == {"krasnici"}  # initials and numbers are not names


@pytest.fixture
def police(world):
    return world.user(Role.CASE_WORKER, POLICE)


@pytest.fixture
def arta(world):
    return world.person(
        POLICE,
        given_name="Arta",
        family_name="Haxhiu",
        aliases="Ari",
        personal_number="1234567890",
        passport_number="XK7654321",
        birth_year=1999,
        date_of_birth=datetime.date(1999, 3, 12),
    )


@pytest.fixture
def others(world):
    """Persons sharing one of Arta's names, to show each search finds only whom it names."""
    return [
        world.person(POLICE, given_name="Besa", family_name="Haxhiu", birth_year=2001),
        world.person(POLICE, given_name="Arta", family_name="Krasniqi", birth_year=1999),
        world.person(POLICE, given_name="Arta", family_name="Haxhiu", birth_year=2004),
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Haxhiu", {"arta", "besa", "arta2004"}),
        ("haxhiu", {"arta", "besa", "arta2004"}),
        ("Arta", {"arta", "krasniqi", "arta2004"}),
        ("Ari", {"arta"}),  # an alias
        ("Arta Haxhiu", {"arta", "arta2004"}),
        ("Haxhiu Arta", {"arta", "arta2004"}),
        ("  HAXHIU,   arta ", {"arta", "arta2004"}),
        ("Arta Haxhiu 1999", {"arta"}),
        ("1999 Haxhiu", {"arta"}),
        ("Arta 1999", {"arta", "krasniqi"}),
        ("Haxhiu 12.03.1999", {"arta"}),
        ("Haxhiu 1999-03-12", {"arta"}),
        ("Haxhiu 13.03.1999", set()),
        ("1234567890", {"arta"}),
        ("123 456 7890", {"arta"}),
        ("XK7654321", {"arta"}),
        ("xk 7654321", {"arta"}),
        ("Arta Gashi", set()),
        ("Drita", set()),
        ("A.", set()),
    ],
)
def test_each_way_of_searching_finds_the_right_persons(police, arta, others, query, expected):
    names = {
        arta.reference: "arta",
        others[0].reference: "besa",
        others[1].reference: "krasniqi",
        others[2].reference: "arta2004",
    }
    assert {names[reference] for reference in _found(police, query)} == expected


def test_reference_finds_the_person_in_person_and_case_search(police, arta, world):
    arta.reference = "P-00AB12CD34"
    arta.save(update_fields=["reference"])
    case = CaseFactory(owner_agency=world.agency(POLICE), person=arta)
    CaseFactory(owner_agency=world.agency(POLICE), person=world.person(POLICE))
    assert _found(police, "p-00ab12cd34") == [arta.reference]
    for query in ("P-00AB12CD34", " p-00ab12cd34 ", "Haxhiu", "Hadžiu 1999"):
        assert [c.pk for c in case_selectors.list_cases(police, query=query)] == [case.pk]


@pytest.mark.parametrize(
    "query", ["Đerđ Krasnići", "Ђерђ Краснићи", "djerdj krasnici", "KRASNIQI GJERGJ"]
)
def test_albanian_serbian_and_unaccented_spellings_find_each_other(police, world, query):
    gjergj = world.person(POLICE, given_name="Gjergj", family_name="Krasniqi")
    world.person(POLICE, given_name="Gjergj", family_name="Berisha")
    assert _found(police, query) == [gjergj.reference]


def test_serbian_spelling_stored_is_found_by_the_albanian_one(police, world):
    dzevdet = world.person(POLICE, given_name="Dževdet", family_name="Hadžiu")
    assert _found(police, "Xhevdet Haxhiu") == [dzevdet.reference]
    assert _found(police, "Dzevdet") == [dzevdet.reference]


def test_search_in_the_api_and_the_page(police, arta, client):
    client.force_login(police)
    answer = client.post("/api/v1/persons/search/", {"query": "haxhiu 1999"}).json()
    assert [row["reference"] for row in answer["results"]] == [arta.reference]
    html = client.post("/persons/", {"q": "Haxhiu"}).content.decode()
    assert arta.reference in html
    event = AuditEvent.objects.filter(action="search").first()
    assert event is not None and event.actor == police


def test_the_page_says_how_search_works_in_each_language(police, client):
    client.force_login(police)
    expected = {
        "en": "any one name",
        "sq": "çdo emër",
        "sr-latn": "bilo kojem imenu",
    }
    for language, phrase in expected.items():
        client.cookies["django_language"] = language
        html = client.get("/persons/").content.decode()
        assert phrase in html, language


# --- Never an identity oracle (issue 10 point 6) ---------------------------------------------


def test_user_outside_scope_or_without_identity_finds_nothing(world, arta):
    shelter = world.user(Role.CASE_WORKER, SHELTER)
    analyst = world.user(Role.ANALYST, POLICE)
    for user in (shelter, analyst):
        for query in ("Haxhiu", "Arta Haxhiu 1999", "1234567890", arta.reference):
            assert _found(user, query) == [], (user.username, query)
            assert not case_selectors.list_cases(user, query=query).object_list


# Full-width name digests: "too broad" counts the index's candidates before any is opened, so
# a 10-bit collision between two of these names (about one fresh key in 1,000) would add
# namesakes to the count this test fixes.
@override_settings(STREHA_NAME_TOKEN_INDEX_BITS=64)
def test_too_broad_counts_only_what_the_user_may_see(world, police, monkeypatch, client):
    """Many persons of one surname at the police make the search too broad for the police (who
    may see them all), never for the shelter, which sees none and learns no count."""
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 2)
    for given in ("Arta", "Besa", "Drita"):
        CaseFactory(
            owner_agency=world.agency(POLICE),
            person=world.person(POLICE, given_name=given, family_name="Krasniqi"),
        )
    shelter = world.user(Role.CASE_WORKER, SHELTER)
    own = world.person(SHELTER, given_name="Besa", family_name="Krasniqi")
    outsider_page = selectors.list_persons(shelter, query="Krasniqi")
    assert not outsider_page.too_broad
    assert [row.person for row in outsider_page] == [own]
    case_page = case_selectors.list_cases(shelter, query="Krasniqi")
    assert not case_page.too_broad and case_page.paginator.count == 0

    page = selectors.list_persons(police, query="Krasniqi")
    assert page.too_broad and not page.object_list
    assert case_selectors.list_cases(police, query="Krasniqi").too_broad
    assert len(_found(police, "Krasniqi Besa")) == 1  # one more name narrows it
    with pytest.raises(SearchTooBroad):
        selectors.search_filter(Person.objects.all(), "Krasniqi")

    client.force_login(police)
    answer = client.post("/api/v1/persons/search/", {"query": "Krasniqi"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "search_too_broad"
    html = client.post("/persons/", {"q": "Krasniqi"}).content.decode()
    assert 'id="too-broad"' in html
    client.force_login(shelter)
    answer = client.post("/api/v1/persons/search/", {"query": "Krasniqi"})
    assert answer.status_code == 200 and answer.json()["count"] == 1


# --- The index itself ------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(STREHA_NAME_TOKEN_INDEX_BITS=2)
def test_false_positives_of_the_truncated_index_are_filtered(world, police, named_persons):
    """With 2 bits, a quarter of all names share each entry: the index alone names many
    persons for a name, and the search still returns exactly those who bear it."""
    made = named_persons(owner_agency=world.agency(POLICE))
    persons = {family: person for (_given, family), person in zip(NAMES, made, strict=True)}
    digests = set(PersonNameKey.objects.values_list("digest", flat=True))
    singles = {digest for digest in digests if PAIR not in digest}
    assert singles <= {"t2:0", "t2:1", "t2:2", "t2:3"}
    assert {part for digest in digests for part in digest.split(PAIR)} == singles
    shared = 0
    for given, family in NAMES:
        digest = Person.NAME_TOKENS.digest(name_key(family))
        candidates = PersonNameKey.objects.filter(digest=digest).values("person").distinct()
        shared += candidates.count() - 1
        assert _found(police, family) == [persons[family].reference]
        assert _found(police, f"{family} {given}") == [persons[family].reference]
    assert shared >= len(NAMES)  # every name had company: the entry alone is ambiguous


def test_entries_follow_the_names_and_vanish_when_anonymised(world, police):
    person = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    assert entries([person]) == due([person])
    person = Person.objects.get(pk=person.pk)
    person.family_name = "Krasniqi"
    person.save()
    assert _found(police, "Haxhiu") == []
    assert _found(police, "Krasnići") == [person.reference]
    person = Person.objects.get(pk=person.pk)
    person.gender = "masculine"
    person.save(update_fields=["gender"])  # nothing named changes: the entries stay
    assert entries([person]) == due([person])
    services.anonymise_person(person, reason="retention")
    assert not PersonNameKey.objects.filter(person=person).exists()
    assert _found(police, "Arta") == []


def test_bulk_registration_writes_the_entries(world, police):
    persons = [
        Person(
            reference=f"D7-{index:08d}",
            owner_agency=world.agency(POLICE),
            given_name=given,
            family_name=family,
        )
        for index, (given, family) in enumerate(NAMES)
    ]
    services.register_persons_bulk(persons)
    assert set(PersonNameKey.objects.values_list("person_id", "digest")) == due(persons)
    assert _found(police, "Rexhepi") == ["D7-00000008"]


@pytest.mark.strict_reads
def test_reindex_is_idempotent_and_audited(world):
    from streha.audit import read_context

    with read_context.testing_scope():
        persons = [world.person(POLICE, given_name=g, family_name=f) for g, f in NAMES[:5]]
        wanted = due(persons)
    expected = set(PersonNameKey.objects.values_list("person_id", "digest"))
    assert expected == wanted
    # As before the index existed: no entries, no marker (as the marker's migration leaves
    # them), except one person still marked current whose entry went stale.
    PersonNameKey.objects.all().delete()
    Person.objects.exclude(pk=persons[0].pk).update(name_keys_marker=None)
    PersonNameKey.objects.create(person=persons[0], digest="t10:000")

    assert name_index.reindex_names(batch_size=2, only_missing=True) == (4, 4)
    assert name_index.reindex_names(batch_size=2) == (5, 1)  # the stale one is rewritten
    assert set(PersonNameKey.objects.values_list("person_id", "digest")) == expected
    assert name_index.reindex_names(batch_size=2) == (5, 0)
    assert name_index.reindex_names(only_missing=True) == (0, 0)
    call_command("reindex_names", "--batch-size", "3")
    assert set(PersonNameKey.objects.values_list("person_id", "digest")) == expected
    system_reads = AuditEvent.objects.filter(
        action="system_read", purpose="re-indexing person names for search"
    )
    assert system_reads.count() == 4  # one per run that read names; none for nothing missing


@override_settings(STREHA_NAME_TOKEN_INDEX_BITS=6)
def test_reindex_follows_a_change_of_bits(world, police):
    person = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    with override_settings(STREHA_NAME_TOKEN_INDEX_BITS=8):
        assert name_index.reindex_names() == (1, 1)
        assert all(d.startswith("t8:") for d in person.name_keys.values_list("digest", flat=True))
        assert _found(police, "Haxhiu") == [person.reference]


def test_demo_data_is_searchable_by_single_names(db, settings):
    """The demo generator writes the entries in bulk, and a second run reads nothing more."""
    from io import StringIO

    settings.DEMO_MODE = True
    call_command("demo", persons=30, seed=5, verbosity=0, stdout=StringIO(), stderr=StringIO())
    persons = list(Person.objects.filter(reference__startswith="D5-").order_by("pk"))
    assert len(persons) == 30
    held = set(PersonNameKey.objects.values_list("person_id", flat=True))
    assert held == {person.pk for person in persons}
    assert name_index.reindex_names(only_missing=True) == (0, 0)
    # Every demo person is marked current as inserted: no whole-name fallback to read.
    assert not name_index.not_current(Person.objects.all()).exists()
    for person in persons[:5]:
        assert person in selectors.search_filter(Person.objects.all(), person.family_name)
        assert person in selectors.search_filter(Person.objects.all(), person.given_name)


def test_a_demo_database_searches_without_the_whole_name_fallback(db, settings, fallback_opened):
    from io import StringIO

    settings.DEMO_MODE = True
    call_command("demo", persons=30, seed=5, verbosity=0, stdout=StringIO(), stderr=StringIO())
    fallback_opened.clear()  # what generating the demo opened is not the search's
    persons = list(Person.objects.filter(reference__startswith="D5-").order_by("pk")[:5])
    for person in persons:
        full_name = f"{person.given_name} {person.family_name}"
        assert person in selectors.search_filter(Person.objects.all(), full_name)
    assert fallback_opened == []  # found through the per-name entries alone


def test_looking_for_persons_not_current_reads_their_marker_not_the_entries(world, police):
    """``only_missing`` runs inside every ``streha demo``: it looks for persons by their marker
    (``name_keys_marker``), never through the entries table (a NOT IN over it took more than
    20 minutes on PostgreSQL at 200,000 persons)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    arta = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    PersonNameKey.objects.all().delete()
    Person.objects.update(name_keys_marker=None)  # as the marker's migration leaves a person
    with CaptureQueriesContext(connection) as queries:
        assert name_index.reindex_names(only_missing=True) == (1, 1)
    lookups = [q["sql"] for q in queries if 'FROM "people_person" WHERE' in q["sql"]]
    assert lookups and all("name_keys_marker" in sql for sql in lookups)
    assert not any("people_personnamekey" in sql for sql in lookups)
    assert Person.objects.get(pk=arta.pk).name_keys_marker == name_index.current_marker()
    assert name_index.reindex_names(only_missing=True) == (0, 0)


# --- Flat with scale (issue 17): the index first, the scopes on the few holders of every name --


def _search_queries(user, query) -> tuple[list[str], list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        persons = selectors.search_filter(selectors.searchable_persons(user, query), query)
        found = sorted(person.reference for person in persons)
    return found, [q["sql"] for q in queries]


def test_name_search_intersects_the_index_before_applying_the_scopes(world, police):
    """One entry is shared by thousands of persons at 1,000,000: the scopes (an OR over the
    persons table) applied to every holder of one name read each holder's row (search p95
    12x the audited shell in bench/pages.py). The holders of every name come from the index
    alone, and each scoped candidate query is limited to their list."""
    arta = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    world.person(POLICE, given_name="Besa", family_name="Haxhiu")
    world.person(SHELTER, given_name="Arta", family_name="Haxhiu")  # not the police's
    found, sql = _search_queries(police, "Arta Haxhiu")
    assert found == [arta.reference]
    index_reads = [s for s in sql if "people_personnamekey" in s]
    assert index_reads[0].startswith('SELECT "people_personnamekey"."person_id"')
    assert '"people_person"' not in index_reads[0]  # the intersection, from the index alone
    # The whole-name fallback reads its own index's holders, without any scope (and finds
    # none not already a candidate here, so no scope is read for it).
    unindexed = [s for s in sql if '"name_index" IN' in s]
    assert unindexed and all("owner_agency_id" not in s for s in unindexed)
    scoped = [s for s in sql if '"people_person"."owner_agency_id" = ' in s]
    assert scoped
    # Limited to the holders' list, sent as one parameter (``streha.sql.AmongIds``).
    held = r'"people_person"\."id" (IN \(SELECT value FROM json_each\(.\[\d|= ANY\(.*\d)'
    assert all(re.search(held, s) for s in scoped)


def test_name_search_queries_do_not_grow_with_the_persons_sharing_a_name(world, police):
    world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    world.person(SHELTER, given_name="Besa", family_name="Haxhiu")
    _search_queries(police, "Arta Haxhiu")  # the user's roles, read once per request
    found, few = _search_queries(police, "Arta Haxhiu")
    assert len(found) == 1
    for i in range(6):
        world.person(POLICE if i % 2 else SHELTER, given_name="Arta", family_name="Haxhiu")
        world.person(POLICE, given_name="Besa", family_name="Haxhiu")
    found, many = _search_queries(police, "Arta Haxhiu")
    assert len(found) == 4
    assert len(many) == len(few)


@override_settings(STREHA_NAME_TOKEN_INDEX_BITS=64)  # as above: candidates counted unopened
def test_many_holders_stay_a_subquery_and_find_the_same(world, police, monkeypatch):
    """Past ``HOLDERS_AS_LIST`` holders the intersection stays a subquery: same persons found,
    the same "too broad" among what the user may see."""
    for given in ("Arta", "Besa", "Drita"):
        world.person(POLICE, given_name=given, family_name="Krasniqi")
        world.person(SHELTER, given_name=given, family_name="Krasniqi")
    queries = ("Krasniqi", "Arta Krasniqi", "Krasniqi Besa", "Arta Besa")
    as_list = {query: _found(police, query) for query in queries}
    assert [len(as_list[query]) for query in queries] == [3, 1, 1, 0]
    monkeypatch.setattr(name_index, "HOLDERS_AS_LIST", 1)
    assert isinstance(name_index.holders_of_all([Person.NAME_TOKENS.digest("krasnici")]), QuerySet)
    assert {query: _found(police, query) for query in queries} == as_list
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 2)
    assert selectors.list_persons(police, query="Krasniqi").too_broad
    shelter = world.user(Role.CASE_WORKER, SHELTER)
    assert not selectors.list_persons(shelter, query="Krasniqi Arta").too_broad


def test_the_whole_name_check_does_not_reopen_persons_already_found(world, police, fallback_opened):
    """A common full name is held by hundreds at 1,000,000 persons: the whole-name fallback
    opens only the persons the per-name index did not already find (same result, half the
    decryption)."""

    same = [world.person(POLICE, given_name="Arta", family_name="Haxhiu") for _ in range(3)]
    unindexed = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    # Written before the index existed: no entries, no marker (as the migration leaves it).
    PersonNameKey.objects.filter(person=unindexed).delete()
    Person.objects.filter(pk=unindexed.pk).update(name_keys_marker=None)
    fallback_opened.clear()
    found, _sql = _search_queries(police, "Arta Haxhiu")
    assert found == sorted(person.reference for person in [*same, unindexed])
    assert fallback_opened == [unindexed.pk]


# --- Bounded decryption (issue 17): a page of results opens about a page of persons ----------


def _namesakes(world, kind, count, *, start=0, given="Arta", family="Haxhiu") -> list[Person]:
    """``count`` persons of ``kind``'s agency bearing one full name (references in order)."""
    persons = [
        Person(
            reference=f"D9-{start + index:08d}",
            owner_agency=world.agency(kind),
            given_name=given,
            family_name=family,
        )
        for index in range(count)
    ]
    services.register_persons_bulk(persons)
    return persons


@pytest.fixture
def opened(monkeypatch):
    """The primary keys of the persons whose names a search opens (decrypts), in order."""
    from streha.protection.fields import BlindIndexField
    from streha.protection.token_search import NameTokenIndex

    seen = []
    keys_of, matches = NameTokenIndex.keys_of, BlindIndexField.matches

    def counting_keys(self, record):
        seen.append(record.pk)
        return keys_of(self, record)

    def counting_matches(self, instance, text):
        seen.append(instance.pk)
        return matches(self, instance, text)

    monkeypatch.setattr(NameTokenIndex, "keys_of", counting_keys)
    monkeypatch.setattr(BlindIndexField, "matches", counting_matches)
    return seen


def _newest_first(persons) -> list[str]:
    return [p.reference for p in sorted(persons, key=lambda p: (p.created_at, p.pk), reverse=True)]


def test_a_page_of_person_search_opens_a_page_of_the_300_namesakes(world, police, opened):
    """300 persons in the user's scope share a full name: page 1 opens the first page in the
    list's order plus one (to know more follow), page 2 one page more, never all 300."""
    namesakes = _namesakes(world, POLICE, 300)
    namesakes = list(Person.objects.filter(pk__in=[p.pk for p in namesakes]))
    expected = _newest_first(namesakes)
    size = selectors.PAGE_SIZE
    opened.clear()
    first = selectors.list_persons(police, query="Arta Haxhiu")
    assert [row.person.reference for row in first] == expected[:size]
    assert first.more_results and first.has_next() and not first.too_broad
    assert len(opened) == len(set(opened)) <= size + 1
    opened.clear()
    second = selectors.list_persons(police, query="Haxhiu Arta", page=2)
    assert [row.person.reference for row in second] == expected[size : 2 * size]
    assert second.more_results
    assert len(opened) <= 2 * size + 1
    # The whole set, confirmed in full, is still what ``search_filter`` returns (the API's
    # count and every caller that wants them all).
    assert len(selectors.search_filter(Person.objects.all(), "Arta Haxhiu")) == 300


def test_a_page_of_case_search_opens_a_page_of_the_namesakes(world, police, opened):
    namesakes = _namesakes(world, POLICE, 300)
    cases = [CaseFactory(owner_agency=world.agency(POLICE), person=p) for p in namesakes[:60]]
    size = case_selectors.PAGE_SIZE
    opened.clear()
    page = case_selectors.list_cases(police, query="Arta Haxhiu", sort="reference")
    ordered = sorted(cases, key=lambda case: (case.reference, case.pk))
    assert [case.pk for case in page] == [case.pk for case in ordered[:size]]
    assert page.more_results and page.has_next() and page.count_label == f"{size}+"
    assert len(set(opened)) <= size + 1
    opened.clear()
    third = case_selectors.list_cases(police, query="Arta Haxhiu", sort="reference", page=3)
    assert [case.pk for case in third] == [case.pk for case in ordered[2 * size :]]
    assert not third.more_results and third.paginator.count == 60
    assert len(set(opened)) <= 60


def test_small_searches_show_the_same_first_page_as_a_full_search(police, arta, others, world):
    """Below a page of results nothing changes: every match, in the list's order, counted."""
    for query in ("Haxhiu", "Arta", "Arta Haxhiu", "Arta 1999", "Haxhiu 12.03.1999", "Drita"):
        page = selectors.list_persons(police, query=query)
        full = selectors.search_filter(selectors.searchable_persons(police, query), query)
        assert [row.person.reference for row in page] == _newest_first(full), query
        assert not page.more_results and page.paginator.count == len(full), query


def test_the_order_of_results_is_stable_and_pages_neither_repeat_nor_skip(world, police):
    """Namesakes made in two batches (same clock) and decoys of another name in between: the
    pages, asked twice and in any order, always list the same persons once each."""
    _namesakes(world, POLICE, 20)
    _namesakes(world, POLICE, 20, start=100, given="Besa")
    _namesakes(world, POLICE, 20, start=200)
    pages = [selectors.list_persons(police, query="Arta Haxhiu", page=n) for n in (2, 1, 2)]
    assert [r.person.pk for r in pages[0]] == [r.person.pk for r in pages[2]]
    listed = [r.person.pk for r in pages[1]] + [r.person.pk for r in pages[0]]
    assert len(listed) == len(set(listed)) == 40
    assert not pages[0].more_results and pages[1].more_results


def test_namesakes_outside_the_scope_are_never_opened_nor_counted(world, police, opened):
    """300 namesakes at the shelter, 3 at the police: the police's search opens and shows its
    3, says nothing of more, and the shelter's own search shows "more" only from its own."""
    _namesakes(world, SHELTER, 300)
    own = _namesakes(world, POLICE, 3, start=500)
    opened.clear()
    page = selectors.list_persons(police, query="Arta Haxhiu")
    assert sorted(r.person.pk for r in page) == sorted(p.pk for p in own)
    assert not page.more_results and set(opened) <= {p.pk for p in own}


def test_the_pages_and_the_api_say_more_results_follow(world, police, client, monkeypatch):
    """Past a page of namesakes the person and case pages say so (and page on), the API says
    ``more_results``; a search that fits one page says nothing of the kind."""
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    monkeypatch.setattr(case_selectors, "PAGE_SIZE", 2)
    for person in _namesakes(world, POLICE, 3):
        CaseFactory(owner_agency=world.agency(POLICE), person=person)
    client.force_login(police)
    for path in ("/persons/", "/cases/"):
        html = client.post(path, {"q": "Arta Haxhiu"}).content.decode()
        assert 'id="more-results"' in html and 'value="2"' in html, path
        html = client.post(path, {"q": "Arta Haxhiu", "page": "2"}).content.decode()
        assert 'id="more-results"' not in html, path
    answer = client.post("/api/v1/persons/search/", {"query": "Arta Haxhiu"}).json()
    assert answer["more_results"] and len(answer["results"]) == 2
    answer = client.post("/api/v1/persons/search/", {"query": "Arta Haxhiu", "page": 2}).json()
    assert not answer["more_results"] and len(answer["results"]) == 1
