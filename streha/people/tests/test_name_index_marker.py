"""Each person's marker of current name entries (``Person.name_keys_marker``): search skips
nobody whose entries may be missing or stale, however the person was written, and reads
nothing more for persons whose entries are current.

Failing safe is structural: only ``streha.people.name_index`` sets the marker, in the
transaction that writes the entries; every other write leaves it NULL (the column's default)
or clears it. Search's whole-name fallback looks at exactly the holders not marked current."""

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from streha.accounts.models import AgencyKind, Role
from streha.people import name_index, selectors, services
from streha.people.models import Person, PersonNameKey
from streha.people.tests.name_entries import due
from streha.protection import bulk
from streha.protection.models import assign_ids

POLICE = AgencyKind.POLICE
FALLBACK = '"name_keys_marker" IS NULL'  # the fallback's probe (one per name search)


@pytest.fixture
def police(world):
    return world.user(Role.CASE_WORKER, POLICE)


def _search(user, query) -> tuple[list[str], list[dict]]:
    with CaptureQueriesContext(connection) as queries:
        found = sorted(row.person.reference for row in selectors.list_persons(user, query=query))
    return found, list(queries)


def _marker(person) -> str | None:
    return Person.objects.values_list("name_keys_marker", flat=True).get(pk=person.pk)


def _built(world, reference, given="Arta", family="Haxhiu") -> Person:
    return Person(
        reference=reference, owner_agency=world.agency(POLICE), given_name=given, family_name=family
    )


def _bulk_create(persons):
    Person.objects.bulk_create(persons)


@pytest.mark.parametrize("insert", [_bulk_create, bulk.insert], ids=["bulk_create", "bulk.insert"])
def test_a_person_inserted_around_the_index_is_found_by_whole_name(
    world, police, insert, fallback_opened
):
    """A bulk path that forgets ``write_for_new`` (a future importer, a script): the rows carry
    no entries and no marker, and search still finds the person (through the whole-name
    index), not only after a re-index."""
    indexed = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    bypassed = _built(world, "D3-00000001")
    assign_ids([bypassed])
    insert([bypassed])
    assert not PersonNameKey.objects.filter(person_id=bypassed.pk).exists()
    assert _marker(bypassed) is None and _marker(indexed) == name_index.current_marker()

    found, _queries = _search(police, "Haxhiu Arta")
    assert found == sorted([indexed.reference, bypassed.reference])
    assert fallback_opened == [bypassed.pk]  # only the unmarked holder is opened by it

    assert name_index.reindex_names(only_missing=True) == (1, 1)
    assert _marker(bypassed) == name_index.current_marker()
    fallback_opened.clear()
    assert _search(police, "Arta")[0] == sorted([indexed.reference, bypassed.reference])
    assert _search(police, "Haxhiu Arta")[0] == sorted([indexed.reference, bypassed.reference])
    assert fallback_opened == []


def test_a_raw_sql_insert_leaves_the_marker_null(world, police):
    """Raw SQL that does not name the marker (a restore script, a migration) gets NULL."""
    person = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    columns = [
        f.column
        for f in Person._meta.concrete_fields
        if f.column not in ("id", "name_keys_marker", "reference", "public_id")
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    # Column names of the model, no input.
    sql = f'INSERT INTO "people_person" ({listed}, "reference", "public_id") '  # noqa: S608
    sql += f'SELECT {listed}, %s, %s FROM "people_person" WHERE "id" = %s'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            ["D3-00000002", "0" * 32, person.pk],
        )
    copied = Person.objects.get(reference="D3-00000002")
    assert _marker(copied) is None
    lookups = Person._meta.get_field("name_index").lookups_of("Arta Haxhiu")
    # Its sealed names are bound to the other row's id (unreadable here): what matters is that
    # the fallback's probe returns it, so search would open it.
    assert list(name_index.not_current_ids(Person.objects.filter(name_index__in=lookups))) == [
        copied.pk
    ]


def test_a_fixture_load_unmarks_the_person_whatever_its_marker_said(world, police):
    """A raw save (``loaddata``, a restore) of a person without their entries: the loaded row
    said current, but the raw save unmarks it, so search finds the person by whole name."""
    arta = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    PersonNameKey.objects.filter(person=arta).delete()
    loaded = Person.objects.get(pk=arta.pk)  # its ciphertexts, as a fixture holds them
    assert loaded.name_keys_marker == name_index.current_marker()
    # What loaddata's raw save signals after writing the row as the fixture holds it.
    post_save.send(Person, instance=loaded, created=True, update_fields=None, raw=True)
    assert _marker(arta) is None
    assert _search(police, "Arta Haxhiu")[0] == [arta.reference]


def test_an_orm_update_of_names_unmarks_the_person(world):
    """Names written by ``QuerySet.update`` (ciphertexts put back, a first-format upgrade)
    never went through the entries: the update itself clears the marker."""
    arta = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    sealed = Person.objects.values_list("family_name", flat=True).get(pk=arta.pk)
    Person.objects.filter(pk=arta.pk).update(gender="feminine")
    assert _marker(arta) == name_index.current_marker()  # no name written: still current
    Person.objects.filter(pk=arta.pk).update(family_name=sealed)
    assert _marker(arta) is None


def test_a_change_of_names_is_written_unmarked_until_its_entries_are(world, police, monkeypatch):
    """The row with the new names goes in unmarked; only the writer of the entries marks it.
    Were the entries not written (a muted signal, a crash between two statements), search
    still finds the new name through the whole-name index."""
    arta = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    monkeypatch.setattr(name_index, "rewrite", lambda person: None)
    services.update_person(police, Person.objects.get(pk=arta.pk), family_name="Krasniqi")
    assert _marker(arta) is None
    assert _search(police, "Arta Krasniqi")[0] == [arta.reference]
    monkeypatch.undo()
    services.update_person(police, Person.objects.get(pk=arta.pk), family_name="Gashi")
    assert _marker(arta) == name_index.current_marker()
    assert _search(police, "Gashi")[0] == [arta.reference]


def test_current_persons_are_found_through_their_entries_and_the_fallback_reads_nothing(
    world, police, fallback_opened
):
    namesakes = [world.person(POLICE, given_name="Arta", family_name="Haxhiu") for _ in range(3)]
    found, queries = _search(police, "Arta Haxhiu")
    assert found == sorted(p.reference for p in namesakes)
    assert fallback_opened == []  # nobody opened by the whole-name fallback
    probes = [q["sql"] for q in queries if FALLBACK in q["sql"]]
    assert len(probes) == 1  # one probe per search, whatever the holders
    lookups = Person._meta.get_field("name_index").lookups_of("Arta Haxhiu")
    probe = name_index.not_current_ids(Person.objects.filter(name_index__in=lookups))
    assert list(probe) == []


def test_the_fallback_probe_seeks_the_value_and_marker_index(world):
    """Each part of the probe is a seek on both columns of (name_index, name_keys_marker): it
    reads no entry when every holder is current, never every holder of the value (the three
    conditions as one OR were only a filter on the first column, on both databases)."""
    world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    lookups = Person._meta.get_field("name_index").lookups_of("Arta Haxhiu")
    probe = name_index.not_current_ids(Person.objects.filter(name_index__in=lookups))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table otherwise
            plan = probe.explain()
    else:
        plan = probe.explain()
    if connection.vendor == "sqlite":
        parts = [line for line in plan.splitlines() if "SEARCH people_person" in line]
        assert len(parts) == 3
        assert all(
            "INDEX person_name_marker_idx (name_index=? AND name_keys_marker" in p for p in parts
        )
    else:
        conditions = [line for line in plan.splitlines() if "Index Cond" in line]
        assert "person_name_marker_idx" in plan and len(conditions) == 3
        assert all("name_index" in c and "name_keys_marker" in c for c in conditions)


def test_a_change_of_bits_makes_entries_not_current_until_a_reindex(world, police):
    arta = world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    with override_settings(STREHA_NAME_TOKEN_INDEX_BITS=8):
        assert name_index.current_marker() != _marker(arta)
        assert list(name_index.not_current(Person.objects.all())) == [arta]
        assert _search(police, "Arta Haxhiu")[0] == [arta.reference]  # whole-name fallback
        assert name_index.reindex_names(only_missing=True) == (1, 1)
        assert _marker(arta) == name_index.current_marker()
        assert _search(police, "Haxhiu")[0] == [arta.reference]


def test_insert_new_writes_nothing_when_the_insert_fails(world):
    persons = [_built(world, "D3-00000003")]
    assign_ids(persons)

    def failing(rows):
        bulk.insert(rows)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        name_index.insert_new(persons, failing)
    assert not Person.objects.filter(reference="D3-00000003").exists()
    assert not PersonNameKey.objects.filter(person_id=persons[0].pk).exists()


def test_write_for_new_marks_rows_inserted_by_the_caller(world, police):
    persons = [_built(world, "D3-00000004"), _built(world, "D3-00000005", given="Besa")]
    assign_ids(persons)
    bulk.insert(persons)
    assert [_marker(p) for p in persons] == [None, None]
    # As many entries as the index defines: two names of one person share a 10-bit digest
    # about once in 500 fresh keys.
    assert name_index.write_for_new(persons) == len(due(persons))
    assert [_marker(p) for p in persons] == [name_index.current_marker()] * 2
    assert _search(police, "Besa")[0] == ["D3-00000005"]


def test_reindex_locks_the_batch_it_marks(world):
    """A change of names committed between the re-index's read and its marking would be
    marked current with the entries of the old names: each batch is read FOR UPDATE
    (PostgreSQL; SQLite has a single writer and ignores it)."""
    world.person(POLICE, given_name="Arta", family_name="Haxhiu")
    Person.objects.update(name_keys_marker=None)
    with CaptureQueriesContext(connection) as queries:
        assert name_index.reindex_names(only_missing=True) == (1, 0)
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "people_person"."id"')]
    reads = [sql for sql in reads if '"people_person"."data_key"' in sql]
    assert reads
    if connection.features.has_select_for_update:
        assert all("FOR UPDATE" in sql for sql in reads)
