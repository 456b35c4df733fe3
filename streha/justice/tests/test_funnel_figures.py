"""The attrition funnel's kept figures equal a recount from the events, after any sequence of
the services' writes (corrections, withdrawals, reclassifications, judgments and appeals,
protection orders), for the country and for each agency; an operator can check and repair
them (``streha rebuild_justice_figures``)."""

import random
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db.models import F

from streha.accounts.models import AgencyKind, Role
from streha.justice import selectors, services
from streha.justice.errors import ProceedingsRefusal
from streha.justice.models import (
    ChargeStage,
    CriminalCase,
    FunnelFigure,
    Measure,
    ProceedingEvent,
)
from streha.justice.tests.conftest import DAY, offence
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

YEARS = (2023, 2024, 2025)
REFUSED = (ProceedingsRefusal, ValidationError, PermissionDenied)


def _second_police_and_office(world):
    police = AgencyFactory(code="police2", name="Police 2", kind=AgencyKind.POLICE)
    office = AgencyFactory(code="office2", name="Prosecution 2", kind=AgencyKind.PROSECUTION)
    return {
        "investigators": [
            world.users["investigator"],
            UserFactory(username="inv2", agency=police, roles=[Role.INVESTIGATOR]),
        ],
        "offices": [world.office, office],
        "prosecutors": {
            world.office.pk: world.users["prosecutor"],
            office.pk: UserFactory(username="pros3", agency=office, roles=[Role.PROSECUTOR]),
        },
        "analysts": [
            world.users["analyst"],  # the national coordinator's: every case
            UserFactory(username="an-police", agency=world.police, roles=[Role.ANALYST]),
            UserFactory(username="an-police2", agency=police, roles=[Role.ANALYST]),
            UserFactory(username="an-office", agency=world.office, roles=[Role.ANALYST]),
            UserFactory(username="an-office2", agency=office, roles=[Role.ANALYST]),
            UserFactory(username="an-court", agency=world.court, roles=[Role.ANALYST]),
        ],
    }


def _day(rng: random.Random, after):
    """A day between ``after`` and DAY (every date is in the past)."""
    span = (DAY - after).days
    return after + timedelta(days=rng.randint(0, max(span, 0)))


def _random_writes(world, steps: int, seed: int, people=None) -> dict:
    """``steps`` writes chosen by a seeded generator among every service that changes a
    figure; a write the proceedings refuse is skipped (it wrote nothing)."""
    rng = random.Random(seed)
    people = people or _second_police_and_office(world)
    liaison = world.users["liaison"]
    suspects = {  # each police unit charges persons it sees
        investigator.agency_id: [
            PersonFactory(owner_agency=investigator.agency, reference=f"T-RS{seed}{n}{i:03d}")
            for i in range(6)
        ]
        for n, investigator in enumerate(people["investigators"])
    }
    core, lesser = offence("trafficking"), offence("sexual_services_of_victim")

    def prosecutor_of(case):
        return people["prosecutors"][case.prosecution_office_id]

    for _step in range(steps):
        cases = list(CriminalCase.objects.order_by("pk"))
        actions = ["event"] * 5 + ["correct", "charge", "reclassify", "order"] + ["judgment"] * 3
        action = rng.choice(actions) if len(cases) >= 6 else "open"
        try:
            if action == "open":
                investigator = rng.choice(people["investigators"])
                office = rng.choice(people["offices"])
                case = services.open_case(
                    investigator,
                    opened_on=DAY.replace(year=rng.choice(YEARS), month=1, day=rng.randint(1, 28)),
                    prosecution_office=office,
                )
                services.set_numbers(
                    prosecutor_of(case), case, prosecution_number="PP", court=world.court
                )
                continue
            if action in ("judgment", "reclassify"):  # a case with defendants, if any
                cases = [c for c in cases if c.defendants.exists()] or cases
            case = rng.choice(cases)
            actors = [prosecutor_of(case), liaison, case.opened_by]
            if action == "event":
                able = [
                    (actor, kinds)
                    for actor in actors
                    if (kinds := services.allowed_event_kinds(services._access(actor, case), case))
                ]
                if able:  # mostly onwards through the pipeline, sometimes aside
                    actor, kinds = rng.choice(able)
                    kind = kinds[-1] if rng.random() < 0.6 else rng.choice(kinds)
                    services.record_event(
                        actor, case, kind=kind, occurred_on=_day(rng, case.opened_on)
                    )
            elif action == "correct":
                event = rng.choice(list(case.events.filter(corrects__isnull=True)))
                for actor in actors:
                    if event.kind in services._access(actor, case).event_kinds:
                        services.correct_event(
                            actor,
                            case,
                            event=event,
                            reason="entered in error",
                            withdraw=not ProceedingEvent.objects.filter(withdrawn=True).exists()
                            or rng.random() < 0.3,
                            occurred_on=_day(rng, case.opened_on),
                        )
                        break
            elif action == "charge":
                defendant = services.add_defendant(
                    case.opened_by,
                    case,
                    person_reference=rng.choice(suspects[case.police_agency_id]).reference,
                    roles=["Exploiter"],
                    detention="none",
                )
                services.add_charge(
                    prosecutor_of(case),
                    case,
                    defendant=defendant,
                    offence=core,
                    stage=ChargeStage.INDICTMENT,
                    recorded_on=_day(rng, case.opened_on),
                )
            elif action == "reclassify":
                charge = rng.choice(
                    [c for d in case.defendants.all() for c in services.current_charges(d)]
                    or [None]
                )
                if charge is not None:
                    services.add_charge(
                        prosecutor_of(case),
                        case,
                        defendant=charge.defendant,
                        offence=lesser,
                        stage=ChargeStage.JUDGMENT,
                        recorded_on=_day(rng, case.opened_on),
                        replaces=charge,
                    )
            elif action == "judgment":
                defendant = rng.choice(list(case.defendants.all()) or [None])
                if defendant is not None:
                    convicted = rng.random() < 0.7
                    sentence = (
                        rng.choice(["imprisonment", "suspended", "fine"]) if convicted else ""
                    )
                    services.record_judgment(
                        liaison,
                        case,
                        defendant=defendant,
                        instance=rng.choice(["first", "first", "appeal"]),
                        outcome=rng.choice(["convicted", "partly"]) if convicted else "acquitted",
                        decided_on=_day(rng, case.opened_on),
                        final=rng.random() < 0.4,
                        sentence=sentence,
                        months=rng.choice([6, 24, 120]) if sentence != "fine" else None,
                        fine_eur=1000 if sentence == "fine" else None,
                    )
            elif action == "order":
                witness = services.add_witness(prosecutor_of(case), case, kind="ordinary")
                services.order_protection(
                    prosecutor_of(case),
                    case,
                    witness=witness,
                    measures=rng.sample(Measure.values, rng.randint(1, 3)),
                    judge="Judge",
                    legal_basis="Art. 1",
                    ordered_on=_day(rng, case.opened_on),
                    status="in_force",
                )
        except REFUSED:
            pass
    return people


def _assert_kept_equals_recount(analysts) -> None:
    for user in analysts:
        for year in YEARS:
            kept = selectors.attrition_funnel(user, year)
            recounted = selectors.recount_funnel(selectors.statistics_scope(user), year)
            assert kept == recounted, (user.username, year)


def test_kept_figures_equal_a_recount_after_a_seeded_sequence_of_writes(world):
    people = _random_writes(world, steps=120, seed=11)
    # The sequence reached every kind of write that moves a figure.
    assert ProceedingEvent.objects.filter(corrects__isnull=False, withdrawn=True).exists()
    assert ProceedingEvent.objects.filter(corrects__isnull=False, withdrawn=False).exists()
    assert CriminalCase.objects.filter(reclassified=True).exists()
    assert CriminalCase.objects.filter(below_minimum=True).exists()
    assert not CriminalCase.objects.filter(figures__isnull=True).exists()
    national = selectors.attrition_funnel(world.users["analyst"], 2024)
    assert sum(national["cases"].values()) and national["persons_convicted_first_instance"]
    assert sum(national["protection_orders_by_measure"].values())
    _assert_kept_equals_recount(people["analysts"])
    assert services.rebuild_figures(check=True) == []


def test_the_check_finds_a_wrong_figure_and_the_rebuild_repairs_it(world):
    people = _random_writes(world, steps=30, seed=3)
    figure = FunnelFigure.objects.filter(agency__isnull=True, n__gt=0).order_by("pk").first()
    FunnelFigure.objects.filter(pk=figure.pk).update(n=F("n") + 5)
    CriminalCase.objects.filter(pk=CriminalCase.objects.order_by("pk")[0].pk).update(
        figures={"agencies": [], "counts": {}}
    )
    differences = services.rebuild_figures(check=True)
    assert f"country {figure.year} {figure.metric}" in "\n".join(differences)
    assert "1 cases with a stale contribution" in differences
    with pytest.raises(CommandError):
        call_command("rebuild_justice_figures", "--check")
    assert services.rebuild_figures(check=True) == differences  # the check changed nothing
    call_command("rebuild_justice_figures")
    assert services.rebuild_figures(check=True) == []
    _assert_kept_equals_recount(people["analysts"])
    call_command("rebuild_justice_figures", "--check")  # agrees: no error


def test_cases_written_in_bulk_are_counted_on_the_fly_until_counted(world):
    people = _random_writes(world, steps=25, seed=5)
    expected = {
        (u.username, y): selectors.attrition_funnel(u, y) for u in people["analysts"] for y in YEARS
    }
    CriminalCase.objects.update(figures=None)  # as the demo's bulk insert leaves them
    FunnelFigure.objects.all().delete()
    _assert_kept_equals_recount(people["analysts"])
    assert services.count_uncounted() == CriminalCase.objects.count()
    assert not CriminalCase.objects.filter(figures__isnull=True).exists()
    for (username, year), funnel in expected.items():
        user = next(u for u in people["analysts"] if u.username == username)
        assert selectors.attrition_funnel(user, year) == funnel


def test_the_funnel_reads_the_same_queries_at_one_case_and_at_many(
    world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    analyst = world.users["analyst"]
    people = _random_writes(world, steps=3, seed=1)
    selectors.attrition_funnel(analyst, 2024)  # the user's agency is read once and kept
    with CaptureQueriesContext(connection) as few:
        selectors.attrition_funnel(analyst, 2024)
    _random_writes(world, steps=40, seed=2, people=people)
    assert CriminalCase.objects.count() >= 5
    with CaptureQueriesContext(connection) as many:
        selectors.attrition_funnel(analyst, 2024)
    assert len(many) == len(few) <= 6
    assert not any("justice_proceedingevent" in q["sql"] for q in many.captured_queries)
