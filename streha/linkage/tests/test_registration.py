import datetime

import pytest

from streha.accounts.models import AgencyKind, Role
from streha.linkage import services
from streha.linkage.models import CandidatePair
from streha.linkage.tests.helpers import population, variant_of
from streha.people.models import Person
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory

SAME = {
    "given_name": "Vjollca",
    "family_name": "Krasniqi",
    "date_of_birth": "1998-03-02",
    "personal_number": "1234567890",
    "gender": "feminine",
    "birth_year": 1998,
    "citizenship": "XK",
}


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def agencies(db):
    return AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.SHELTER)


def _existing(agency):
    data = {**SAME, "date_of_birth": datetime.date(1998, 3, 2)}
    return PersonFactory(owner_agency=agency, **data)


def test_a_match_elsewhere_says_only_that_one_exists(agencies, client):
    police, shelter = agencies
    existing = _existing(shelter)
    user = UserFactory(agency=police, roles=[Role.CASE_WORKER])
    client.force_login(user)
    response = client.post("/persons/new/", SAME, follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "national coordinator" in body
    assert existing.reference not in body and shelter.name not in body
    assert CandidatePair.objects.count() == 1  # waiting in the queue of who may review it


def test_a_match_in_scope_is_shown_by_reference(agencies, api_client):
    police, _ = agencies
    existing = _existing(police)
    user = UserFactory(agency=police, roles=[Role.CASE_WORKER])
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/persons/", SAME, format="json")
    assert response.status_code == 201
    assert response.json()["possible_matches"] == {
        "in_scope": [existing.reference],
        "elsewhere": False,
    }


def test_no_match_no_message(agencies, api_client):
    police, _ = agencies
    _existing(police)
    user = UserFactory(agency=police, roles=[Role.CASE_WORKER])
    api_client.force_authenticate(user)
    other = {**SAME, "given_name": "Teuta", "family_name": "Morina", "personal_number": "99"}
    other["date_of_birth"] = "1971-11-20"
    other["birth_year"] = 1971
    response = api_client.post("/api/v1/persons/", other, format="json")
    assert response.json()["possible_matches"] == {"in_scope": [], "elsewhere": False}


def test_with_a_trained_model_a_spelling_variant_is_found(agencies):
    police, shelter = agencies
    persons, _ = population(police, shelter, n=40)
    services.run_deduplication(reason="train")
    original = persons[3]
    user = UserFactory(agency=shelter, roles=[Role.CASE_WORKER])
    variant = variant_of(original, shelter)
    found = services.check_registration(user, variant)
    assert found.in_scope == [] and found.elsewhere is True
    assert CandidatePair.objects.filter(person_a=original, person_b=variant).exists()


def test_after_a_run_the_check_looks_up_keys_and_scores_in_python(agencies, monkeypatch):
    """No DuckDB, no Splink SQL at registration: the candidates come from the stored keys
    (only persons sharing one), the scoring from the compiled model."""
    from streha.linkage import engine
    from streha.linkage.models import BlockingKey, NameFrequency

    police, shelter = agencies
    persons, _ = population(police, shelter, n=40)
    services.run_deduplication(reason="train")
    assert set(BlockingKey.objects.values_list("person_id", flat=True)) == {
        p.pk for p in Person.objects.all()
    }
    assert (
        NameFrequency.objects.filter(column="full_name:all", key=0).get().persons
        == len(persons) + 2
    )

    def no_duckdb(*args, **kwargs):
        raise AssertionError("DuckDB started at registration")

    monkeypatch.setattr(engine, "connection", no_duckdb)
    monkeypatch.setattr(engine, "Scorer", no_duckdb)
    scored = []
    original_score = services.score_against

    def spy(person, candidate_ids, model, row=None):
        scored.append(list(candidate_ids))
        return original_score(person, candidate_ids, model, row)

    monkeypatch.setattr(services, "score_against", spy)
    original = persons[3]
    variant = variant_of(original, police)
    found = services.check_registration(
        UserFactory(agency=police, roles=[Role.CASE_WORKER]), variant
    )
    assert found.in_scope == [original] and found.elsewhere is False
    # Only persons sharing a key were scored: the original (names' initials, year, number...)
    # and not the whole register.
    assert original.pk in scored[0] and len(scored[0]) < 10
    # The new person's keys are stored: the next registration finds it without a new run.
    again = variant_of(variant, police, family_name=variant.family_name)
    services.check_registration(UserFactory(agency=police, roles=[Role.CASE_WORKER]), again)
    assert variant.pk in scored[1]


def test_with_the_fast_path_a_match_elsewhere_reveals_no_identity(agencies, client):
    police, shelter = agencies
    persons, _ = population(shelter, police, n=30)
    services.run_deduplication(reason="train")
    original = persons[5]
    user = UserFactory(agency=police, roles=[Role.CASE_WORKER])
    client.force_login(user)
    data = {
        "given_name": original.given_name,
        "family_name": original.family_name + "j",
        "date_of_birth": original.date_of_birth.isoformat(),
        "birth_year": original.birth_year,
        "gender": original.gender,
        "citizenship": original.citizenship,
        "personal_number": original.personal_number,
    }
    response = client.post("/persons/new/", data, follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "national coordinator" in body
    assert original.reference not in body and shelter.name not in body
    assert CandidatePair.objects.filter(person_a=original).exists()


def test_anonymising_a_person_removes_its_registration_keys(agencies):
    from streha.linkage.models import BlockingKey
    from streha.people.services import anonymise_person

    police, shelter = agencies
    persons, _ = population(police, shelter, n=12)
    services.run_deduplication(reason="train")
    gone, kept = persons[2], persons[3]
    assert BlockingKey.objects.filter(person=gone).exists()
    anonymise_person(gone, reason="retention period over")
    assert not BlockingKey.objects.filter(person=gone).exists()
    assert BlockingKey.objects.filter(person=kept).exists()


def test_registration_keys_collide_by_design_and_a_duplicate_still_comes_first(agencies, settings):
    """Keys are as short as the blind indexes' (a dozen values share each at national size, so
    the table cannot be counted by surname or birth date); persons that share only one key with
    a newcomer, by collision, rank after the real duplicate, who shares several."""
    from streha.audit import read_context
    from streha.linkage import engine, fast
    from streha.linkage.models import BlockingKey

    police, shelter = agencies
    # Made first, so that an order by anything but the keys shared would put them first.
    decoys = PersonFactory.create_batch(services.REGISTRATION_CANDIDATES + 5, owner_agency=shelter)
    persons, _ = population(police, shelter, n=20)
    services.run_deduplication(reason="train")
    assert services.key_bits() == 14
    assert BlockingKey.objects.exists()
    assert all(key < 2**14 for key in BlockingKey.objects.values_list("key", flat=True))

    original = persons[3]
    variant = variant_of(original, police)
    with read_context.testing_scope():
        row = engine.features(services.identity_of(variant))
    probes = sorted({services.key_hasher()(kind, text) for kind, text in fast.probe_keys(row)})
    BlockingKey.objects.bulk_create(
        BlockingKey(person_id=decoy.pk, key=probes[0]) for decoy in decoys
    )
    candidates = services._candidates_by_keys(variant, row)
    assert len(candidates) == services.REGISTRATION_CANDIDATES
    assert candidates[0] == original.pk
