"""Pair entries of the per-name index: a search by several names reads the holders of pairs of
entries (a few at national scale) instead of intersecting the holders of each name (thousands),
and finds exactly the persons the single entries would."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from streha.accounts.models import AgencyKind, Role
from streha.people import selectors
from streha.people.models import Person, PersonNameKey
from streha.people.name_index import holders_of_all
from streha.people.tests.name_entries import due, entries
from streha.protection.name_keys import name_key
from streha.protection.token_search import PAIR, pair, with_pairs

POLICE = AgencyKind.POLICE


def test_with_pairs_adds_one_entry_per_pair_in_one_order():
    singles = {"t10:3fa", "t10:0b1", "t10:200"}
    assert with_pairs(singles) == singles | {
        "t10:0b1&t10:200",
        "t10:0b1&t10:3fa",
        "t10:200&t10:3fa",
    }
    assert pair("t10:3fa", "t10:0b1") == pair("t10:0b1", "t10:3fa") == "t10:0b1&t10:3fa"
    assert with_pairs({"t10:3fa"}) == {"t10:3fa"}
    assert with_pairs(set()) == set()


def test_search_digests_are_the_pairs_of_the_first_name_with_each_other():
    index = Person.NAME_TOKENS
    given, family, alias = (index.digest(name_key(n)) for n in ("Arta", "Krasniqi", "Besa"))
    first, *others = sorted({given, family, alias})
    assert index.search_digests("Krasniqi") == {family}
    assert index.search_digests("Arta Krasniqi") == {pair(given, family)}
    assert index.search_digests("Besa Arta Krasniqi") == {pair(first, o) for o in others}
    # Spellings of one name give one key, so one entry and no pair.
    assert index.search_digests("Krasniqi Krasnići") == {family}


@pytest.mark.django_db
def test_a_persons_entries_hold_every_pair_of_their_names(world):
    person = world.person(POLICE, given_name="Arta", family_name="Krasniqi", aliases="Besa")
    held = {digest for _person, digest in entries([person])}
    assert held == {digest for _person, digest in due([person])}
    singles = {digest for digest in held if PAIR not in digest}
    assert len(singles) >= 2  # three names, at most two sharing a truncated entry
    assert held == with_pairs(singles)


@pytest.mark.django_db
@override_settings(STREHA_NAME_TOKEN_INDEX_BITS=3)
def test_pair_holders_are_the_holders_of_every_single_entry(world):
    """With 3 bits entries collide all the time: the holders of the pairs are still exactly
    the persons holding each name's entry, for every two and three names asked."""
    names = ["Arta", "Besa", "Drita", "Gashi", "Hoxha", "Krasniqi", "Morina", "Shala"]
    for i, given in enumerate(names):
        for family in names[i + 1 :: 3]:
            world.person(POLICE, given_name=given, family_name=family, aliases=names[i - 1])
    index = Person.NAME_TOKENS

    def by_singles(query: str) -> set[int]:
        found = None
        for key in {name_key(word) for word in query.split()}:
            holders = set(
                PersonNameKey.objects.filter(digest=index.digest(key)).values_list(
                    "person_id", flat=True
                )
            )
            found = holders if found is None else found & holders
        return found or set()

    queries = [f"{a} {b}" for a in names for b in names if a < b]
    queries += [f"{a} {b} {c}" for a, b, c in zip(names, names[2:], names[5:], strict=False)]
    nonempty = 0
    for query in queries:
        expected = by_singles(query)
        assert set(holders_of_all(index.search_digests(query))) == expected, query
        nonempty += bool(expected)
    assert nonempty > len(queries) // 2  # the comparison is not over empty sets


@pytest.mark.django_db
def test_a_two_name_search_reads_one_pair_entry_not_each_name(world):
    police = world.user(Role.CASE_WORKER, POLICE)
    person = world.person(POLICE, given_name="Arta", family_name="Krasniqi")
    world.person(POLICE, given_name="Arta", family_name="Gashi")
    with CaptureQueriesContext(connection) as queries:
        found = [row.person for row in selectors.list_persons(police, query="Krasniqi Arta")]
    assert found == [person]
    entry_reads = [q["sql"] for q in queries if "people_personnamekey" in q["sql"]]
    assert len(entry_reads) == 1
    # One pair entry asked, and no intersection of the table with itself.
    assert entry_reads[0].count("FROM") == 1 and PAIR in entry_reads[0]


@pytest.mark.django_db
def test_the_migration_writes_the_pairs_of_stored_entries(world):
    """``people 0006`` gives every person the pairs of the entries already stored (nothing
    opened), leaves single entries and existing pairs alone, and can run again."""
    migration = importlib.import_module("streha.people.migrations.0006_person_name_key_pairs")
    persons = [
        world.person(POLICE, given_name="Arta", family_name="Krasniqi", aliases="Besa"),
        world.person(POLICE, given_name="Drita", family_name="Gashi"),
        world.person(POLICE, given_name="Hana", family_name="Shala"),
    ]
    complete = entries(persons)
    PersonNameKey.objects.filter(digest__contains=PAIR).exclude(person=persons[2]).delete()
    assert entries(persons) != complete

    class SchemaEditor:
        pass

    editor = SchemaEditor()
    editor.connection = connection
    migration.PERSONS_PER_BATCH, batch = 2, migration.PERSONS_PER_BATCH  # two batches
    try:
        migration.write_pairs(apps, editor)
        assert entries(persons) == complete == due(persons)
        migration.write_pairs(apps, editor)
        assert entries(persons) == complete
        migration.remove_pairs(apps, editor)
        assert all(PAIR not in digest for _person, digest in entries(persons))
    finally:
        migration.PERSONS_PER_BATCH = batch
