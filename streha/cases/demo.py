"""Synthetic NRM cases for the demo and the benchmarks: cases, referrals, services, tasks.

Call ``generate_cases(seed, persons)`` after the persons exist (streha/demo/generator.py). For
``persons`` ordered by primary key, persons at positions 0, 3 and 7 of every ten get a case
(30%), owned by the person's agency. Each block draws from its own random stream seeded by
``(seed, block)``, so the data is deterministic; cases already present (by their ``DC<seed>-``
reference) are skipped, so the function is idempotent and resumable. Everything is inserted in
bulk and audited with one event per case (``audit.record_each``), like demo persons.
"""

import random
from collections.abc import Callable
from datetime import date, timedelta

from django.db import transaction

from streha.access.models import AccessGrant
from streha.accounts.models import Agency, AgencyKind
from streha.audit import services as audit
from streha.cases.models import (
    AssistanceService,
    Case,
    CaseEvent,
    ControlMethod,
    ExploitationPlace,
    ExploitationType,
    Referral,
    ReferralStatus,
    ServiceKind,
    ServiceStatus,
    Source,
    Status,
    Task,
    TaskKind,
)
from streha.people.models import Person
from streha.protection import bulk
from streha.protection.models import assign_ids

BLOCK = 5_000
CASE_POSITIONS = (0, 3, 7)  # of every ten persons
TODAY = date(2026, 1, 1)  # fixed, so a seed gives the same dates whatever day it runs

STATUS_WEIGHTS = {
    Status.FIRST_CONTACT: 8,
    Status.SCREENED: 7,
    Status.PRESUMED_VICTIM: 25,
    Status.IDENTIFIED: 12,
    Status.NOT_IDENTIFIED: 5,
    Status.ASSISTANCE: 20,
    Status.RETURN_REINTEGRATION: 8,
    Status.CLOSED: 15,
}
SOURCE_WEIGHTS = {
    Source.POLICE: 40,
    Source.NGO: 20,
    Source.HOTLINE: 8,
    Source.LABOUR_INSPECTORATE: 6,
    Source.SOCIAL_WORK: 12,
    Source.HEALTH: 3,
    Source.SELF: 4,
    Source.CONSULATE: 2,
    Source.FOREIGN_AUTHORITY: 3,
    Source.INTERNATIONAL_ORGANISATION: 2,
}
EXPLOITATION_WEIGHTS = {
    ExploitationType.SEXUAL: 60,
    ExploitationType.FORCED_LABOUR: 14,
    ExploitationType.FORCED_BEGGING: 12,
    ExploitationType.FORCED_CRIMINALITY: 3,
    ExploitationType.SERVITUDE: 4,
    ExploitationType.FORCED_MARRIAGE: 5,
    ExploitationType.ORGAN_REMOVAL: 1,
    ExploitationType.OTHER: 1,
}
PLACES = {
    ExploitationType.SEXUAL: [
        ExploitationPlace.NIGHTCLUB_BAR,
        ExploitationPlace.HOTEL,
        ExploitationPlace.PRIVATE_HOME,
        ExploitationPlace.ONLINE,
        ExploitationPlace.MASSAGE_PARLOUR,
    ],
    ExploitationType.FORCED_LABOUR: [ExploitationPlace.AGRICULTURE, ExploitationPlace.CONSTRUCTION],
    ExploitationType.FORCED_BEGGING: [ExploitationPlace.STREET],
}
PASSED_PRESUMPTION = {
    Status.PRESUMED_VICTIM,
    Status.IDENTIFIED,
    Status.NOT_IDENTIFIED,
    Status.ASSISTANCE,
    Status.RETURN_REINTEGRATION,
}
ASSISTED = {Status.ASSISTANCE, Status.RETURN_REINTEGRATION}
RECEIVING_KINDS = (AgencyKind.SHELTER, AgencyKind.SOCIAL_WORK, AgencyKind.VICTIM_ADVOCACY)


def reference(seed: int, index: int) -> str:
    return f"DC{seed}-{index:08d}"


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _build(rng, index, seed, person, creators, receivers):
    status = _pick(rng, STATUS_WEIGHTS)
    first = TODAY - timedelta(days=int(rng.triangular(0, 1500, 60)))
    form = _pick(rng, EXPLOITATION_WEIGHTS)
    age = max(0, first.year - person.birth_year) if person.birth_year else None
    child = age is not None and age < 18
    presumed = (
        first + timedelta(days=rng.randrange(0, 10)) if status in PASSED_PRESUMPTION else None
    )
    case = Case(
        reference=reference(seed, index),
        person_id=person.pk,
        owner_agency_id=person.owner_agency_id,
        created_by=creators.get(person.owner_agency_id),
        status=status,
        source=_pick(rng, SOURCE_WEIGHTS),
        first_contact_on=first,
        needs_urgent_shelter=rng.random() < 0.45,
        needs_urgent_medical=rng.random() < 0.2,
        presumed_on=presumed,
        reflection_ends_on=presumed + timedelta(days=30) if presumed else None,
        decided_on=(
            presumed + timedelta(days=rng.randrange(5, 60))
            if status in (Status.IDENTIFIED, Status.NOT_IDENTIFIED, *ASSISTED)
            else None
        ),
        closed_on=first + timedelta(days=rng.randrange(30, 400))
        if status == Status.CLOSED
        else None,
        status_before_closure=Status.ASSISTANCE if status == Status.CLOSED else "",
        next_review_on=(
            TODAY + timedelta(days=rng.randrange(-20, 90))
            if status == Status.RETURN_REINTEGRATION
            else None
        ),
        assisted_voluntary_return=person.citizenship != "XK" and rng.random() < 0.5,
        is_child=child,
        age_disputed=child and rng.random() < 0.1,
        guardian_appointed_on=first + timedelta(days=2) if child and rng.random() < 0.9 else None,
        sex=person.gender,
        age_at_identification=age,
        citizenship=person.citizenship,
        disability="none" if rng.random() < 0.9 else "unknown",
        exploitation_types=[form],
        exploitation_places=[rng.choice(PLACES.get(form, [ExploitationPlace.OTHER]))],
        transnational=person.citizenship != "XK" or rng.random() < 0.3,
        control_methods=rng.sample(list(ControlMethod.values), k=rng.randrange(1, 4)),
    )
    extras = {"referral": None, "services": [], "task": None}
    if status in PASSED_PRESUMPTION and rng.random() < 0.5:
        to = rng.choice([a for a in receivers if a.pk != person.owner_agency_id])
        answered = rng.choices(
            [
                ReferralStatus.SENT,
                ReferralStatus.ACCEPTED,
                ReferralStatus.DECLINED,
                ReferralStatus.IN_PROGRESS,
                ReferralStatus.COMPLETED,
            ],
            weights=[10, 30, 10, 30, 20],
        )[0]
        extras["referral"] = (
            to,
            answered,
            ["identity"] if rng.random() < 0.7 else ["identity", "contact"],
        )
    if status in ASSISTED:
        kinds = rng.sample(list(ServiceKind.values), k=rng.randrange(1, 4))
        extras["services"] = [
            (
                kind,
                rng.choice(
                    [ServiceStatus.IN_PROGRESS, ServiceStatus.COMPLETED, ServiceStatus.PLANNED]
                ),
            )
            for kind in kinds
        ]
    task_kind = {
        Status.PRESUMED_VICTIM: (TaskKind.REFLECTION_END, case.reflection_ends_on),
        Status.ASSISTANCE: (TaskKind.PLAN_REVIEW, TODAY + timedelta(days=rng.randrange(-10, 40))),
        Status.RETURN_REINTEGRATION: (TaskKind.FOLLOW_UP, case.next_review_on),
    }.get(status)
    extras["task"] = task_kind
    return case, extras


def generate_cases(
    seed: int,
    persons,
    *,
    creators: dict[int, object] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Make sure the demo cases of ``persons`` (a queryset or a list of person ids) exist.

    Returns (created, total for seed). ``creators`` maps an agency id to the staff user who
    "opened" its cases (the audit actor); None leaves the system as actor.
    """
    creators = creators or {}
    if not hasattr(persons, "model"):
        persons = Person.objects.filter(pk__in=list(persons))
    person_ids = list(persons.order_by("pk").values_list("pk", flat=True))
    wanted = [i for i in range(len(person_ids)) if i % 10 in CASE_POSITIONS]
    prefix = f"DC{seed}-"
    existing = set(
        Case.objects.filter(reference__startswith=prefix).values_list("reference", flat=True)
    )
    receivers = list(Agency.objects.filter(kind__in=RECEIVING_KINDS, is_active=True).order_by("pk"))
    created = 0
    for block_start in range(0, len(wanted), BLOCK):
        chunk = [i for i in wanted[block_start : block_start + BLOCK]]
        if all(reference(seed, i) in existing for i in chunk):
            continue
        rng = random.Random(f"cases:{seed}:{block_start // BLOCK}")
        people = Person.objects.in_bulk([person_ids[i] for i in chunk])
        built = []
        for i in chunk:
            case, extras = _build(rng, i, seed, people[person_ids[i]], creators, receivers)
            if case.reference not in existing:
                built.append((case, extras))
        created += _insert(built)
        if progress:
            progress(block_start + len(chunk), len(wanted))
    return created, len(existing) + created


def _insert(built) -> int:
    cases = [case for case, _extras in built]
    with transaction.atomic():
        assign_ids(cases)
        bulk.insert(cases)  # ids assigned above
        events, referrals, services, tasks, grants = [], [], [], [], []
        for case, extras in built:
            events.append(
                CaseEvent(
                    case=case, actor=case.created_by, kind="open", to_status=Status.FIRST_CONTACT
                )
            )
            if case.status != Status.FIRST_CONTACT:
                events.append(CaseEvent(case=case, kind="demo", to_status=case.status))
            if extras["referral"]:
                to, status, groups = extras["referral"]
                referral = Referral(
                    case=case,
                    from_agency_id=case.owner_agency_id,
                    to_agency=to,
                    field_groups=groups,
                    status=status,
                    answer_due_on=(case.presumed_on or case.first_contact_on) + timedelta(days=3),
                )
                referrals.append(referral)
                if status == ReferralStatus.SENT:
                    tasks.append(
                        Task(
                            case=case,
                            agency=to,
                            kind=TaskKind.REFERRAL_ANSWER,
                            due_on=referral.answer_due_on,
                        )
                    )
                elif status != ReferralStatus.DECLINED:
                    grants.append(
                        AccessGrant(
                            person_id=case.person_id,
                            agency=to,
                            field_groups=groups,
                            reason="demo referral",
                        )
                    )
            for kind, status in extras["services"]:
                services.append(
                    AssistanceService(
                        case=case,
                        kind=kind,
                        provider_id=case.owner_agency_id,
                        starts_on=case.decided_on or case.first_contact_on,
                        status=status,
                    )
                )
            if extras["task"] and extras["task"][1]:
                kind, due = extras["task"]
                tasks.append(Task(case=case, agency_id=case.owner_agency_id, kind=kind, due_on=due))
            if case.needs_guardian and case.status != Status.CLOSED:
                tasks.append(
                    Task(
                        case=case,
                        agency_id=case.owner_agency_id,
                        kind=TaskKind.GUARDIAN,
                        due_on=case.first_contact_on + timedelta(days=1),
                    )
                )
        assign_ids(events)
        assign_ids(referrals)
        bulk.insert(events)
        bulk.insert(referrals)
        bulk.insert(services)
        bulk.insert(tasks)
        bulk.insert(grants)
        audit.record_each(
            audit.Action.CREATE,
            cases,
            actor_of=lambda case: case.created_by,
            purpose="demo data",
        )
    return len(cases)
