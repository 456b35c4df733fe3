"""A re-run writes only what changed (issue 14: a nightly re-run must hold the time goal).

Registration keys are rewritten only for persons whose keys changed (compared by a per-person
digest), pairs only where the scores changed; the state after equals a full rewrite's."""

import datetime
from collections import Counter

import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from streha.accounts.models import AgencyKind, Role
from streha.audit import read_context
from streha.linkage import engine, fast, services
from streha.linkage.models import (
    BlockingKey,
    CandidatePair,
    KeyDigest,
    NameFrequency,
    PairStatus,
    PersonCluster,
)
from streha.linkage.tests.helpers import population, variant_of
from streha.people.models import Person
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory

TABLES = ("linkage_blockingkey", "linkage_keydigest", "linkage_namefrequency")


@pytest.fixture
def register(db):
    police, shelter = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory()
    persons, duplicates = population(police, shelter, n=40)
    return police, persons, duplicates


def _state() -> dict:
    """Everything a run stores, as comparable values (pairs without row ids or model)."""
    return {
        "keys": Counter(BlockingKey.objects.values_list("person_id", "key")),
        "digests": dict(KeyDigest.objects.values_list("person_id", "digest")),
        "frequencies": dict(
            ((c, k), n) for c, k, n in NameFrequency.objects.values_list("column", "key", "persons")
        ),
        "pairs": {
            (p.person_a_id, p.person_b_id): (
                round(p.match_probability, 9),
                round(p.match_weight, 9),
                p.comparison,
                p.status,
            )
            for p in CandidatePair.objects.all()
        },
        "clusters": dict(PersonCluster.objects.values_list("person_id", "cluster")),
    }


def _writes(queries, table: str) -> list[str]:
    writing = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if table in q["sql"] and q["sql"].startswith(writing)]


def _answers(agency, probes: list[Person]) -> list:
    """The registration check's answer for a variant of each probe, rolled back after."""
    user = UserFactory(agency=agency, roles=[Role.CASE_WORKER])
    answers = []
    for original in probes:
        with transaction.atomic():
            variant = variant_of(original, agency)
            found = services.check_registration(user, variant)
            answers.append(([p.pk for p in found.in_scope], found.elsewhere))
            transaction.set_rollback(True)
    return answers


def _keys_of(person: Person) -> Counter:
    hashed = services.key_hasher()
    with read_context.system("test: expected keys"):
        row = engine.features(services.identity_of(Person.objects.get(pk=person.pk)))
    return Counter(hashed(kind, text) for kind, text in fast.stored_keys(row))


def test_a_rerun_of_an_unchanged_register_writes_no_key_and_updates_no_pair(register):
    police, persons, duplicates = register
    first = services.run_deduplication(reason="first")
    assert first.writes["registration_keys"]["keys_rewrite"] == "full"
    decided = CandidatePair.objects.get(person_a_id=min(next(iter(duplicates))))
    decided.status = PairStatus.SAME
    decided.save()
    services.recompute_clusters()
    before = _state()
    pairs_before = {p.pk: (p.model_id, p.updated_at) for p in CandidatePair.objects.all()}
    with CaptureQueriesContext(connection) as queries:
        again = services.run_deduplication(reason="again", retrain=True)
    for table in TABLES:
        assert _writes(queries.captured_queries, table) == [], table
    assert _writes(queries.captured_queries, "linkage_candidatepair") == []
    assert again.writes == {
        "registration_keys": {
            "keys_rewrite": "changed persons",
            "persons_rewritten": 0,
            "persons_removed": 0,
            "keys_written": 0,
            "frequencies": {"inserted": 0, "updated": 0, "deleted": 0},
        },
        "pairs": {"inserted": 0, "updated": 0, "unchanged": len(before["pairs"]), "deleted": 0},
    }
    # Rows untouched: same model (the one that gave these scores), same update time.
    assert {p.pk: (p.model_id, p.updated_at) for p in CandidatePair.objects.all()} == pairs_before
    incremental, answers = _state(), _answers(police, persons[3:6])
    assert incremental == before
    # The same state as rewriting everything, and the same answers at registration.
    full = services.run_deduplication(reason="full", retrain=True, full_rewrite=True)
    assert full.writes["registration_keys"]["keys_rewrite"] == "full"
    assert full.writes["pairs"]["updated"] == len(before["pairs"])
    assert _state() == incremental
    assert _answers(police, persons[3:6]) == answers
    assert [found for found, _elsewhere in answers] == [[p.pk] for p in persons[3:6]]


def test_a_renamed_person_gets_new_keys_and_is_found_by_the_new_name(register):
    police, persons, _ = register
    services.run_deduplication(reason="first")
    renamed = persons[4]
    old_keys = _keys_of(renamed)
    renamed.family_name = "Kelmendi"
    renamed.save()
    new_keys = _keys_of(renamed)
    assert new_keys != old_keys
    others = {k: v for k, v in _state()["keys"].items() if k[0] != renamed.pk}
    run = services.run_deduplication(reason="after the edit", retrain=True)
    assert run.writes["registration_keys"]["persons_rewritten"] == 1
    assert run.writes["registration_keys"]["keys_written"] == sum(new_keys.values())
    keys = _state()["keys"]
    assert Counter({k: n for (p, k), n in keys.items() if p == renamed.pk}) == new_keys
    assert {k: v for k, v in keys.items() if k[0] != renamed.pk} == others
    assert KeyDigest.objects.get(person=renamed).digest == services.key_digest(new_keys.elements())
    # A registration spelled like the new name finds the person by its new keys.
    [(found, _elsewhere)] = _answers(police, [Person.objects.get(pk=renamed.pk)])
    assert found == [renamed.pk]


def test_anonymised_and_deleted_persons_lose_their_keys(register):
    _police, persons, _ = register
    services.run_deduplication(reason="first")
    hidden, deleted = persons[2], persons[5]
    # Anonymised behind the hook's back (a queryset update sends no signal): the run notices.
    Person.objects.filter(pk=hidden.pk).update(
        anonymised_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    CandidatePair.objects.filter(person_a=deleted).delete()
    CandidatePair.objects.filter(person_b=deleted).delete()
    deleted_pk = deleted.pk
    Person.objects.filter(pk=deleted_pk).delete()
    assert BlockingKey.objects.filter(person_id=hidden.pk).exists()
    run = services.run_deduplication(reason="after", retrain=True)
    assert run.writes["registration_keys"]["persons_removed"] == 1
    assert run.writes["registration_keys"]["persons_rewritten"] == 0
    for pk in (hidden.pk, deleted_pk):
        assert not BlockingKey.objects.filter(person_id=pk).exists()
        assert not KeyDigest.objects.filter(person_id=pk).exists()
    assert set(KeyDigest.objects.values_list("person_id", flat=True)) == set(
        Person.objects.filter(anonymised_at__isnull=True).values_list("pk", flat=True)
    )


def test_keys_written_at_registration_are_replaced_by_the_next_run(register):
    police, persons, _ = register
    services.run_deduplication(reason="first")
    original = persons[6]
    user = UserFactory(agency=police, roles=[Role.CASE_WORKER])
    newcomer = PersonFactory(
        owner_agency=police,
        given_name=original.given_name,
        family_name=original.family_name + "j",
        birth_year=original.birth_year,
        gender=original.gender,
        citizenship=original.citizenship,
    )
    services.check_registration(user, newcomer)
    assert BlockingKey.objects.filter(person=newcomer).exists()
    assert not KeyDigest.objects.filter(person=newcomer).exists()
    run = services.run_deduplication(reason="next", retrain=True)
    assert run.writes["registration_keys"]["persons_rewritten"] == 1
    assert KeyDigest.objects.filter(person=newcomer).exists()
    stored = Counter(BlockingKey.objects.filter(person=newcomer).values_list("key", flat=True))
    assert stored == _keys_of(newcomer)


def test_a_new_key_length_rewrites_every_key(register, settings):
    """Other key bits (as a new index key) change every person's keys: all are rewritten,
    and the keys are the new ones."""
    services.run_deduplication(reason="first")
    settings.STREHA_LINKAGE_KEY_BITS = 16
    run = services.run_deduplication(reason="new key bits", retrain=True)
    assert run.writes["registration_keys"]["keys_rewrite"] == "full"
    incremental = _state()
    assert any(key >= 2**14 for _person, key in incremental["keys"])
    services.run_deduplication(reason="full", retrain=True, full_rewrite=True)
    assert _state() == incremental


def test_the_vectorised_digests_equal_each_persons_digest():
    rng = np.random.default_rng(11)
    collected = services.RegistrationKeys.__new__(services.RegistrationKeys)
    from array import array

    persons = rng.integers(1, 300, size=3000)
    keys = rng.integers(0, 2**14, size=3000)
    collected.persons, collected.keys = array("q", persons.tolist()), array("q", keys.tolist())
    collected.seen = array("q", list(range(1, 320)))  # 300..319 (and maybe others) have none
    run = services.keys_digests(collected)
    assert run.ids.tolist() == list(range(1, 320))
    for person, digest in zip(run.ids.tolist(), run.digests.tolist(), strict=True):
        own = keys[persons == person].tolist()
        assert digest == services.key_digest(own)
        assert digest == services.key_digest(reversed(own))  # order does not matter
    # A repeated key, a key more or a key less, a different key: a different digest.
    assert services.key_digest([5, 5]) != services.key_digest([5])
    assert services.key_digest([]) != services.key_digest([0])
    assert services.key_digest([1, 2]) != services.key_digest([1, 3])
