"""Synthetic criminal cases for the demo and the benchmarks, in Kosovo's proportions.

Call ``generate_criminal_cases(seed)`` after the victim cases exist (streha/cases/demo.py). Most
victims never reach a criminal case (about one victim case in ten does); most criminal cases
stop before an indictment; a few charges are downgraded at indictment and a few sentences fall
below the statutory minimum; sexual exploitation of girls and forced begging of children (charged
as child mistreatment) dominate. Each victim case draws from its own random stream seeded by
``(seed, reference)``, so a seed always gives the same data; cases already there (by their
``CRD<seed>-`` reference) are skipped, so the function is idempotent and resumable.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from streha.accounts.models import Agency, AgencyKind, User
from streha.audit import services as audit
from streha.cases.models import Case, ExploitationType
from streha.justice import services
from streha.justice.catalogue import load_offences
from streha.justice.models import (
    Charge,
    ChargeStage,
    CriminalCase,
    Deadline,
    Defendant,
    DefendantStatus,
    EventKind,
    InjuredParty,
    Judgment,
    Offence,
    ProceedingEvent,
    ProtectionOrder,
    Sentence,
    SentenceKind,
    VictimInterview,
    Witness,
    WitnessSeal,
)
from streha.people.models import Person

TODAY = date(2026, 1, 1)  # as the victim cases' demo: the same dates whatever day it runs
SHARE = 0.10  # of victim cases that reach a criminal case (30,000 of 300,000)
BLOCK = 500
K = EventKind

# The ends of the first cases of a seed, so that every demo shows the later stages.
SHOWCASE = [K.FINAL, K.FIRST_INSTANCE_JUDGMENT, K.INDICTMENT_CONFIRMED]
# A showcase case starts at its victim's first contact, at least this long before TODAY, so
# that it reaches its end before TODAY.
SHOWCASE_SPAN = timedelta(days=1100)
# Demo staff (streha/demo/generator.py STAFF) the cases name.
PEOPLE = ("investigator", "prosecutor", "prosecutor.prizren", "court.liaison")
# Where a case stops (the last kind of event reached), weights summing to 100.
ENDS = {
    K.POLICE_CASE_OPENED: 20,
    K.SPECIAL_REPORT: 7,
    K.CRIMINAL_REPORT: 18,
    K.INVESTIGATION_INITIATED: 17,
    K.INVESTIGATION_SUSPENDED: 3,
    K.CHARGES_DISMISSED: 7,
    K.INVESTIGATION_TERMINATED: 6,
    K.INDICTMENT_FILED: 6,
    K.INDICTMENT_CONFIRMED: 3,
    K.MAIN_TRIAL: 4,
    K.FIRST_INSTANCE_JUDGMENT: 5,
    K.APPEAL_FILED: 1,
    K.FINAL: 3,
}
PATHS = {
    K.POLICE_CASE_OPENED: [],
    K.SPECIAL_REPORT: [K.SPECIAL_REPORT],
    K.CRIMINAL_REPORT: [K.CRIMINAL_REPORT],
    K.INVESTIGATION_INITIATED: [K.CRIMINAL_REPORT, K.INVESTIGATION_INITIATED],
    K.INVESTIGATION_SUSPENDED: [
        K.CRIMINAL_REPORT,
        K.INVESTIGATION_INITIATED,
        K.INVESTIGATION_SUSPENDED,
    ],
    K.CHARGES_DISMISSED: [K.CRIMINAL_REPORT, K.CHARGES_DISMISSED],
    K.INVESTIGATION_TERMINATED: [
        K.CRIMINAL_REPORT,
        K.INVESTIGATION_INITIATED,
        K.INVESTIGATION_TERMINATED,
    ],
}
_TO_INDICTMENT = [K.CRIMINAL_REPORT, K.INVESTIGATION_INITIATED, K.INDICTMENT_FILED]
PATHS |= {
    K.INDICTMENT_FILED: _TO_INDICTMENT,
    K.INDICTMENT_CONFIRMED: [*_TO_INDICTMENT, K.INDICTMENT_CONFIRMED],
    K.MAIN_TRIAL: [*_TO_INDICTMENT, K.INDICTMENT_CONFIRMED, K.MAIN_TRIAL],
    K.FIRST_INSTANCE_JUDGMENT: [*_TO_INDICTMENT, K.INDICTMENT_CONFIRMED, K.MAIN_TRIAL],
    K.APPEAL_FILED: [*_TO_INDICTMENT, K.INDICTMENT_CONFIRMED, K.MAIN_TRIAL],
    K.FINAL: [*_TO_INDICTMENT, K.INDICTMENT_CONFIRMED, K.MAIN_TRIAL],
}
JUDGED = {K.FIRST_INSTANCE_JUDGMENT, K.APPEAL_FILED, K.FINAL}
INDICTED = {K.INDICTMENT_FILED, K.INDICTMENT_CONFIRMED, K.MAIN_TRIAL} | JUDGED
# Offences charged at the report, by the victim's form of exploitation.
OFFENCES = {
    ExploitationType.SEXUAL: {
        "trafficking": 70,
        "facilitating_prostitution": 18,
        "sexual_services_of_victim": 12,
    },
    ExploitationType.FORCED_BEGGING: {"child_mistreatment": 60, "trafficking": 40},
    ExploitationType.FORCED_LABOUR: {"trafficking": 70, "slavery_forced_labour": 30},
}
OTHER_OFFENCES = {"trafficking": 85, "withholding_identity_papers": 10, "smuggling_of_migrants": 5}


def reference(seed: int, victim_case: Case) -> str:
    return f"CRD{seed}-{victim_case.reference.split('-')[-1]}"


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _offences() -> dict[tuple[str, str], Offence]:
    return {
        (o.criminal_code.code, o.key): o for o in Offence.objects.select_related("criminal_code")
    }


def generate_criminal_cases(seed: int, *, progress=None) -> int:
    """Criminal cases for about ``SHARE`` of the demo victim cases of ``seed``; returns how
    many were created."""
    load_offences("XK")
    staff = {u.username: u for u in User.objects.filter(username__in=PEOPLE)}
    agencies = {a.code: a for a in Agency.objects.all()}
    if not {"police-thb", "state-prosecutor", "prosecution-prizren", "court-prishtina"} <= set(
        agencies
    ):
        return 0  # the demo agencies (streha/demo/generator.py) are not there
    offences = _offences()
    people = {name: staff.get(name) for name in PEOPLE}
    victim_cases = Case.objects.filter(reference__startswith=f"DC{seed}-").select_related(
        "owner_agency", "person"
    )
    done = set(
        CriminalCase.objects.filter(reference__startswith=f"CRD{seed}-").values_list(
            "reference", flat=True
        )
    )
    # Defendants are drawn from the demo persons who are nobody's victim case.
    suspects = list(
        Person.objects.filter(reference__startswith=f"D{seed}-", cases__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:200_000]
    )
    if not suspects:
        return 0
    created = 0
    chosen = []
    shown = 0
    for victim_case in victim_cases.order_by("pk").iterator(chunk_size=2000):
        rng = random.Random(f"{seed}-{victim_case.reference}")
        if rng.random() >= SHARE:
            continue
        showcase = None
        if shown < len(SHOWCASE) and victim_case.first_contact_on <= TODAY - SHOWCASE_SPAN:
            showcase, shown = SHOWCASE[shown], shown + 1
        if reference(seed, victim_case) in done:
            continue
        chosen.append((victim_case, rng, showcase))
        if len(chosen) >= BLOCK:
            created += _insert(seed, chosen, agencies, offences, people, suspects)
            chosen = []
            if progress:
                progress(created)
    if chosen:
        created += _insert(seed, chosen, agencies, offences, people, suspects)
    services.count_uncounted()  # written in bulk: into the funnel's figures now
    return created


@transaction.atomic
def _insert(seed, chosen, agencies, offences, people, suspects) -> int:
    cases = []
    for victim_case, rng, showcase in chosen:
        cases.append(_build(seed, victim_case, rng, agencies, offences, people, suspects, showcase))
    _bulk_create(CriminalCase, [c["case"] for c in cases], batch_size=1000)
    links = CriminalCase.victim_cases.through
    _bulk_create(
        links,
        [links(criminalcase=c["case"], case=c["victim_case"]) for c in cases],
        batch_size=2000,
    )
    events, defendants = [], []
    for built in cases:
        case = built["case"]
        for event in built["events"]:
            event.case = case
        events += built["events"]
        for defendant in built["defendants"]:
            defendant.case = case
        defendants += built["defendants"]
    _bulk_create(ProceedingEvent, events, batch_size=2000)
    _bulk_create(Defendant, defendants, batch_size=2000)
    charges, judgments, parties, witnesses = [], [], [], []
    for built in cases:
        for defendant, charge_list, judgment in built["per_defendant"]:
            for charge in charge_list:
                charge.defendant = defendant
            charges.append(charge_list)
            if judgment is not None:
                judgment[0].case = built["case"]
                judgment[0].defendant = defendant
                judgments.append(judgment)
        if built["party"] is not None:
            built["party"][0].case = built["case"]
            parties.append(built["party"])
        if built["witness"] is not None:
            built["witness"][0].case = built["case"]
            witnesses.append(built["witness"])
    # Charges first, then their reclassifications (which name them).
    _bulk_create(Charge, [c[0] for c in charges], batch_size=2000)
    for charge_list in charges:
        if len(charge_list) > 1:
            charge_list[1].replaces = charge_list[0]
    _bulk_create(Charge, [c[1] for c in charges if len(c) > 1], batch_size=2000)
    _bulk_create(Judgment, [j[0] for j in judgments], batch_size=2000)
    for judgment, sentence in judgments:
        if sentence is not None:
            sentence.judgment = judgment
    _bulk_create(Sentence, [s for _j, s in judgments if s is not None], batch_size=2000)
    _bulk_create(InjuredParty, [p[0] for p in parties], batch_size=2000)
    interviews = []
    for party, count, day in parties:
        interviews += [
            VictimInterview(
                injured_party=party,
                interviewed_on=day + timedelta(days=7 * i),
                body="police" if i == 0 else "prosecution",
                video_recorded=i == 0,
            )
            for i in range(count)
            if day + timedelta(days=7 * i) <= TODAY
        ]
    _bulk_create(VictimInterview, interviews, batch_size=2000)
    _bulk_create(Witness, [w[0] for w in witnesses], batch_size=2000)
    _bulk_create(
        WitnessSeal,
        [WitnessSeal(witness=w, person_ref=str(person_id)) for w, person_id, _day in witnesses],
        batch_size=2000,
    )
    _bulk_create(
        ProtectionOrder,
        [
            ProtectionOrder(
                witness=w,
                measures=["pseudonym", "video_link"],
                judge="Judge (demo)",
                legal_basis="CPC 08/L-032 Art. 221",
                ordered_on=day,
                status="in_force",
            )
            for w, _person, day in witnesses
        ],
        batch_size=2000,
    )
    _derive(cases)
    audit.record_each(
        audit.Action.CREATE,
        [b["case"] for b in cases],
        purpose="demo criminal case",
        field_groups=["investigation"],
    )
    return len(cases)


def _derive(cases: list[dict]) -> None:
    """What the services derive from the recorded events, charges and sentences (the stage,
    the flags, the open deadlines), with the services' own rules, in bulk."""
    deadlines = []
    for built in cases:
        case, events = built["case"], built["events"]
        case.stage, case.stage_on = services.derive_stage(events)
        case.reclassified = any(
            charge.downgrades for _d, charges, _j in built["per_defendant"] for charge in charges
        )
        case.below_minimum = any(
            judgment[1] is not None and judgment[1].below_minimum
            for _d, _c, judgment in built["per_defendant"]
            if judgment is not None
        )
        for rule, due in services.due_deadlines(events).values():
            agency_id = getattr(case, f"{rule.agency_field}_id")
            if due is not None and agency_id is not None:
                deadlines.append(
                    Deadline(
                        case=case,
                        agency_id=agency_id,
                        assignee=case.prosecutor,
                        kind=rule.kind,
                        due_on=due,
                    )
                )
    CriminalCase.objects.bulk_update(
        [b["case"] for b in cases],
        ["stage", "stage_on", "reclassified", "below_minimum"],
        batch_size=1000,
    )
    _bulk_create(Deadline, deadlines, batch_size=2000)


def _build(seed, victim_case, rng, agencies, offences, people, suspects, showcase=None) -> dict:
    """One criminal case. A ``showcase`` case (the first few of a seed) goes as far as its
    end event, so that even a small demo shows a trial, judgments, a downgraded charge, a
    sentence below the minimum and a protected witness."""
    police = (
        victim_case.owner_agency
        if victim_case.owner_agency.kind == AgencyKind.POLICE
        else agencies["police-thb"]
    )
    prizren = police.code == "police-prizren" or rng.random() < 0.2
    office = agencies["prosecution-prizren" if prizren else "state-prosecutor"]
    court = agencies["court-prizren" if prizren else "court-prishtina"]
    prosecutor = people["prosecutor.prizren" if prizren else "prosecutor"]
    # Every date of the case follows the victim's first contact, in the procedure's order.
    first_contact = victim_case.first_contact_on
    opened = min(first_contact + timedelta(days=rng.randrange(0, 45)), max(first_contact, TODAY))
    end = _pick(rng, ENDS)
    if showcase is not None:
        end = showcase
    kinds = [K.POLICE_CASE_OPENED, *PATHS[end]]
    events, day, indicted_on = [], opened, None
    for kind in kinds:
        if kind != K.POLICE_CASE_OPENED:
            day = day + timedelta(days=rng.randrange(10, 120))
        if day > TODAY:
            break
        if kind == K.INDICTMENT_FILED:
            indicted_on = day
        agency = (
            police
            if kind in (K.POLICE_CASE_OPENED, K.CRIMINAL_REPORT, K.SPECIAL_REPORT)
            else office
        )
        if kind in (K.INDICTMENT_CONFIRMED, K.MAIN_TRIAL):
            agency = court
        events.append(ProceedingEvent(kind=kind, occurred_on=day, agency=agency, document=""))
    reached = {e.kind for e in events}
    code = "06/L-074" if opened >= date(2019, 4, 14) else "04/L-082"
    forms = victim_case.exploitation_types or ["Other"]
    key = "trafficking" if showcase else _pick(rng, OFFENCES.get(forms[0], OTHER_OFFENCES))
    offence = offences[(code, key)]
    count = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
    defendants, per_defendant = [], []
    judged_day = day + timedelta(days=rng.randrange(30, 200))
    judged = end in JUDGED and judged_day <= TODAY and K.MAIN_TRIAL in reached
    for index in range(count):
        person_id = suspects[rng.randrange(len(suspects))]
        if any(d.person_id == person_id for d in defendants):
            continue
        defendant = Defendant(
            person_id=person_id,
            label=str(len(defendants) + 1),
            roles=[
                rng.choice(
                    ["RecruiterOrIntermediary", "Exploiter", "Transporter", "ControlledIndividual"]
                )
            ],
            detention=rng.choice(["detention_on_remand", "house_arrest", "none", "reporting"]),
            public_official=rng.random() < 0.03,
        )
        defendants.append(defendant)
        charge_list = [
            Charge(offence=offence, counts=1, stage=ChargeStage.REPORT, recorded_on=opened)
        ]
        indicted = bool(reached & {K.INDICTMENT_FILED})
        if indicted:
            defendant.status = DefendantStatus.ACCUSED
        downgraded = indicted and offence.key == "trafficking" and rng.random() < 0.12
        downgraded = downgraded or (showcase == K.INDICTMENT_CONFIRMED and index == 0)
        if downgraded:
            lesser = offences[(code, "facilitating_prostitution")]
            charge_list.append(
                Charge(
                    offence=lesser,
                    counts=1,
                    stage=ChargeStage.INDICTMENT,
                    recorded_on=indicted_on,
                    replaces=charge_list[0],
                )
            )
        judgment = None
        if judged:
            final = end == K.FINAL
            outcome = _pick(rng, {"convicted": 72, "acquitted": 20, "partly": 8})
            outcome = "convicted" if showcase else outcome
            sentence = None
            if outcome != "acquitted":
                current = charge_list[-1].offence
                minimum = current.min_months
                below = rng.random() < 0.25 or (showcase == K.FIRST_INSTANCE_JUDGMENT)
                kind = SentenceKind.IMPRISONMENT
                months = rng.randrange(minimum or 6, (current.max_months or 60) + 1)
                if below and minimum:
                    if rng.random() < 0.4:
                        kind = SentenceKind.SUSPENDED
                    months = rng.randrange(max(1, minimum // 3), minimum)
                sentence = Sentence(
                    kind=kind,
                    months=months,
                    fine_eur=Decimal(rng.choice([0, 500, 1000, 2500])) or None,
                    minimum_months=minimum,
                    below_minimum=services.below_minimum(kind, months, minimum),
                )
            if final:
                convicted = outcome != "acquitted"
                defendant.status = (
                    DefendantStatus.CONVICTED if convicted else DefendantStatus.ACQUITTED
                )
            judgment = (
                Judgment(
                    instance="first",
                    outcome=outcome,
                    decided_on=judged_day,
                    final=final,
                ),
                sentence,
            )
        per_defendant.append((defendant, charge_list, judgment))
    if judged:
        events.append(
            ProceedingEvent(kind=K.FIRST_INSTANCE_JUDGMENT, occurred_on=judged_day, agency=court)
        )
        if end == K.APPEAL_FILED and judged_day + timedelta(days=10) <= TODAY:
            events.append(
                ProceedingEvent(
                    kind=K.APPEAL_FILED, occurred_on=judged_day + timedelta(days=10), agency=office
                )
            )
        if end == K.FINAL:
            events.append(ProceedingEvent(kind=K.FINAL, occurred_on=judged_day, agency=court))
    party = None
    if K.CRIMINAL_REPORT in reached or K.SPECIAL_REPORT in reached:
        party = (
            InjuredParty(
                victim_case=victim_case,
                label="1",
                claim_filed=end in INDICTED and rng.random() < 0.3,
            ),
            rng.choice([1, 1, 2, 3]),
            events[1].occurred_on if len(events) > 1 else opened,
        )
    witness = None
    if indicted_on is not None and (rng.random() < 0.4 or showcase):
        witness = (
            Witness(pseudonym="A", kind="injured_party", added_on=day),
            victim_case.person.public_id,
            day,
        )
    case = CriminalCase(
        reference=reference(seed, victim_case),
        police_agency=police,
        police_number=f"{police.code[:3].upper()}-{rng.randrange(1, 9999)}/{opened.year % 100:02d}",
        prosecution_office=office if len(events) > 1 else None,
        prosecution_number=f"PP/I {rng.randrange(1, 999)}/{opened.year % 100:02d}"
        if K.INVESTIGATION_INITIATED in reached
        else "",
        court=court if reached & INDICTED else None,
        court_number=f"PKR {rng.randrange(1, 999)}/{opened.year % 100:02d}"
        if reached & INDICTED
        else "",
        prosecutor=prosecutor if len(events) > 1 else None,
        opened_on=opened,
        opened_by=people["investigator"],
    )
    return {
        "case": case,
        "victim_case": victim_case,
        "events": events,
        "defendants": defendants,
        "per_defendant": per_defendant,
        "party": party,
        "witness": witness,
    }


def _bulk_create(model, objs, batch_size: int):
    """Insert ``objs``; protected records get their ids first (their ciphertexts are bound to
    them, see streha.protection.models.assign_ids)."""
    from streha.protection.models import ProtectedModel, assign_ids

    objs = list(objs)
    if issubclass(model, ProtectedModel):
        assign_ids(objs)
    return model.objects.bulk_create(objs, batch_size=batch_size)
