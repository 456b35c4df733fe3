import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.cases.models import Case, ExploitationType
from streha.cases.tests.factories import CaseFactory
from streha.linkage import engine, selectors, services
from streha.linkage.models import CandidatePair, LinkageModel, PairStatus, PersonCluster
from streha.linkage.tests.helpers import make_pair, population
from streha.statistics import figures
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory


@pytest.mark.django_db
def test_run_finds_the_variants_in_one_audited_read():
    police, shelter = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory()
    persons, duplicates = population(police, shelter)
    before = AuditEvent.objects.count()
    model = services.run_deduplication(reason="test run")
    found = set(CandidatePair.objects.values_list("person_a_id", "person_b_id"))
    assert duplicates <= found
    # No unrelated pair of the 60 distinct persons is proposed with confidence.
    confident = set(
        CandidatePair.objects.filter(match_probability__gte=0.9).values_list(
            "person_a_id", "person_b_id"
        )
    )
    assert confident - duplicates == set()
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert [e.action for e in events] == ["system_read"]
    assert "test run" in events[0].purpose and f"({len(persons) + 2} persons)" in events[0].purpose
    # The model is stored with its parameters and training date, the pairs with their vector.
    assert model.parameters["comparisons"] and model.trained_at is not None
    assert LinkageModel.objects.count() == 1
    pair = CandidatePair.objects.get(person_a_id=min(next(iter(duplicates))))
    assert pair.comparison["personal_number"] > 0 and set(pair.comparison) >= {"name", "birth"}
    assert model.trained and set(model.timings) == {
        "read_and_decrypt",
        "score",
        "registration_keys",
        "store",
        "score_phases",
    }
    # Where the scoring's time went, phase by phase (features sent to the registration keys).
    assert set(model.timings["score_phases"]) == {
        "features",
        "training",
        "bound",
        "prediction",
        "features_sink",
    }


@pytest.mark.django_db
def test_a_later_run_predicts_with_the_stored_model_unless_asked_to_retrain(monkeypatch):
    police, shelter = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory()
    _persons, duplicates = population(police, shelter)
    first = services.run_deduplication(reason="train")
    trainings = []
    real_train = engine.train
    monkeypatch.setattr(engine, "train", lambda *a, **k: trainings.append(1) or real_train(*a, **k))
    second = services.run_deduplication(reason="again")
    assert trainings == [] and second.trained is False
    assert second.trained_at == first.trained_at and second.parameters == first.parameters
    assert duplicates <= set(CandidatePair.objects.values_list("person_a_id", "person_b_id"))
    third = services.run_deduplication(reason="retrain", retrain=True)
    assert trainings == [1] and third.trained is True and third.trained_at > first.trained_at


@pytest.mark.django_db
def test_a_stored_model_is_reused_only_for_a_register_of_comparable_size():
    model = LinkageModel.objects.create(
        trained_at=timezone.now(),
        parameters={"probability_two_random_records_match": 0.01, "comparisons": []},
        persons=101,
    )
    assert services.reusable_model(202) == model
    assert services.reusable_model(203) is None
    # Duplicates grow with the persons, pairs with their square: λ shrinks as 1/persons.
    scaled = services.scaled_parameters(model, 201)
    assert scaled["probability_two_random_records_match"] == pytest.approx(0.005)
    assert model.parameters["probability_two_random_records_match"] == 0.01


@pytest.mark.django_db
def test_a_rerun_keeps_decisions_and_drops_stale_pending_pairs():
    agency = AgencyFactory()
    a, b, c = (PersonFactory(owner_agency=agency) for _ in range(3))
    decided = make_pair(a, b)
    decided.status = PairStatus.DIFFERENT
    decided.save()
    stale = make_pair(a, c)
    services._store(
        engine.Outcome(model={}, pairs=[], trained=False),
        persons=3,
        trained_at=timezone.now(),
        job=None,
        limit=0.5,
    )
    assert CandidatePair.objects.filter(pk=decided.pk).exists()
    assert not CandidatePair.objects.filter(pk=stale.pk).exists()


@pytest.fixture
def two_agencies(db):
    police = AgencyFactory(kind=AgencyKind.POLICE)
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    return police, shelter


def test_reviewer_must_hold_identity_of_both(two_agencies):
    police, shelter = two_agencies
    pair = make_pair(PersonFactory(owner_agency=police), PersonFactory(owner_agency=shelter))
    outsider = UserFactory(agency=police, roles=[Role.SUPERVISOR])
    with pytest.raises(PermissionDenied):
        services.decide_pair(outsider, pair, decision="same", reason="Same documents.")
    analyst = UserFactory(agency=police, roles=[Role.ANALYST])
    with pytest.raises(PermissionDenied):
        services.decide_pair(analyst, pair, decision="same", reason="Same documents.")
    assert selectors.review_queue(outsider).hidden == 1
    assert list(selectors.review_queue(outsider).page) == []


def test_decision_validates_and_undo_restores_clusters(two_agencies):
    police, _ = two_agencies
    one, two, three = (PersonFactory(owner_agency=police) for _ in range(3))
    first, second = make_pair(one, two), make_pair(two, three)
    reviewer = UserFactory(agency=police, roles=[Role.CASE_WORKER])
    with pytest.raises(ValidationError):
        services.decide_pair(reviewer, first, decision="pending", reason="Because.")
    with pytest.raises(ValidationError):
        services.decide_pair(reviewer, first, decision="same", reason=" ")
    services.decide_pair(reviewer, first, decision="same", reason="Same passport.")
    services.decide_pair(reviewer, second, decision="same", reason="Same passport.")
    assert selectors.cluster_of_person_ids([one.pk, two.pk, three.pk]) == {
        one.pk: one.pk,
        two.pk: one.pk,
        three.pk: one.pk,
    }
    with pytest.raises(ValidationError):
        services.decide_pair(reviewer, first, decision="different", reason="Second look.")
    services.undo_decision(reviewer, first)
    clusters = selectors.cluster_of_person_ids([one.pk, two.pk, three.pk])
    assert clusters == {one.pk: one.pk, two.pk: two.pk, three.pk: two.pk}
    services.undo_decision(reviewer, second)
    assert PersonCluster.objects.count() == 0
    first.refresh_from_db()
    assert first.status == PairStatus.PENDING and first.decisions.count() == 1
    assert first.decisions.get().undone_by == reviewer
    with pytest.raises(ValidationError):
        services.undo_decision(reviewer, first)
    review_events = AuditEvent.objects.filter(action="review", object_id=str(first.public_id))
    assert review_events.count() == 2


def test_statistics_count_a_linked_person_once_and_undo_restores_the_count(two_agencies):
    police, shelter = two_agencies

    def victim(agency):
        person = PersonFactory(owner_agency=agency, birth_year=1999)
        CaseFactory(
            owner_agency=agency,
            person=person,
            presumed_on=datetime.date(2025, 3, 1),
            exploitation_types=[ExploitationType.SEXUAL.value],
        )
        return person

    first, second, third = victim(police), victim(shelter), victim(shelter)

    def total():
        tables = {t.code: t for t in figures.national_tables(Case.objects.all(), 2025)}
        return tables["T01"].grid.grand_total

    assert total() == 3
    pair = make_pair(first, second)
    reviewer = UserFactory(agency=police, roles=[Role.CASE_WORKER])
    # The reviewer needs the identity group of both: the shelter shares it with the police.
    from streha.access.models import AccessGrant

    AccessGrant.objects.create(
        person=second, agency=police, field_groups=["identity"], reason="Joint case."
    )
    services.decide_pair(reviewer, pair, decision="same", reason="Same personal number.")
    assert total() == 2
    services.undo_decision(reviewer, pair)
    assert total() == 3
    assert selectors.cluster_of_person_ids([third.pk]) == {third.pk: third.pk}


@pytest.mark.django_db
def test_the_bulk_read_gives_each_persons_identity_as_reading_the_person_does():
    """``read_identities`` and ``identities_of`` open the fields through the protection layer's
    bulk open; they give what ``identity_of`` gives reading each person (NULLs and blanks too)."""
    persons = [
        PersonFactory(
            given_name="Vjollca",
            family_name="Krasniqi",
            date_of_birth=datetime.date(1998, 3, 2),
            birth_year=1998,
            personal_number="1234567890",
            passport_number="P0012345",
            phone="+383 44 123 456",
        ),
        PersonFactory(given_name="Violca", family_name="", date_of_birth=None, phone=""),
        PersonFactory(given_name="Ana", citizenship="", gender="unknown"),
    ]
    one_by_one = [services.identity_of(person) for person in persons]
    queryset = type(persons[0]).objects.filter(pk__in=[p.pk for p in persons]).order_by("pk")
    assert services.identities_of(queryset) == one_by_one
    columns = services.read_identities("test read")
    assert columns == engine.raw_columns(one_by_one)
