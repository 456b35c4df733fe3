"""Synthetic demo data for Kosovo: agencies, staff with known demo passwords, and persons.

Deterministic for a seed: person number ``i`` of seed ``s`` is the same on every machine and
every run, because each block of ``BLOCK`` persons draws from its own random stream seeded by
``(s, block)``. That also makes the generator resumable and idempotent: persons already in the
database (counted by their ``D<seed>-`` reference) are skipped, never duplicated.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from streha.accounts import services as account_services
from streha.accounts.data.agency_names import AGENCY_NAMES
from streha.accounts.models import Agency, AgencyKind, Role, RoleGrant, User
from streha.audit import services as audit
from streha.demo import copy, names
from streha.people import name_index
from streha.people.models import Gender, Person
from streha.people.services import PROTECTED_FIELDS, groups_of
from streha.places.models import Municipality
from streha.places.services import load_country
from streha.protection import bulk
from streha.protection.models import assign_ids

DEMO_PASSWORD = "Streha-Demo-2026"  # noqa: S105 - published demo credential, demo mode only
BLOCK = 10_000

# code, name, kind, municipality code
AGENCIES = [
    (
        "national-coordinator",
        "Office of the National Coordinator against THB",
        AgencyKind.NATIONAL_COORDINATOR,
        "prishtina",
    ),
    (
        "police-thb",
        "Kosovo Police – THB Investigations Directorate",
        AgencyKind.POLICE,
        "prishtina",
    ),
    ("police-prizren", "Kosovo Police – Regional THB Unit Prizren", AgencyKind.POLICE, "prizren"),
    ("police-peja", "Kosovo Police – Regional THB Unit Peja", AgencyKind.POLICE, "peja"),
    ("state-prosecutor", "State Prosecutor – THB focal point", AgencyKind.PROSECUTION, "prishtina"),
    ("prosecution-prizren", "Basic Prosecution Office Prizren", AgencyKind.PROSECUTION, "prizren"),
    (
        "victim-advocacy",
        "Victim Advocacy and Assistance Office",
        AgencyKind.VICTIM_ADVOCACY,
        "prishtina",
    ),
    ("csw-prishtina", "Centre for Social Work Prishtina", AgencyKind.SOCIAL_WORK, "prishtina"),
    ("csw-prizren", "Centre for Social Work Prizren", AgencyKind.SOCIAL_WORK, "prizren"),
    ("csw-gjilan", "Centre for Social Work Gjilan", AgencyKind.SOCIAL_WORK, "gjilan"),
    (
        "csw-mitrovica",
        "Centre for Social Work Mitrovica",
        AgencyKind.SOCIAL_WORK,
        "mitrovica-south",
    ),
    ("shelter-drita", "Drita Shelter (demo NGO)", AgencyKind.SHELTER, "prishtina"),
    ("shelter-shpresa", "Shpresa Shelter (demo NGO)", AgencyKind.SHELTER, "gjakova"),
    ("state-shelter", "State Shelter for Trafficked Persons", AgencyKind.SHELTER, "prishtina"),
    ("labour-inspectorate", "Labour Inspectorate", AgencyKind.LABOUR_INSPECTORATE, "prishtina"),
    ("health-gjilan", "Regional Hospital Gjilan", AgencyKind.HEALTH, "gjilan"),
    (
        "io-migration",
        "International Organisation for Migration (demo)",
        AgencyKind.INTERNATIONAL_ORGANISATION,
        "prishtina",
    ),
    ("court-prishtina", "Basic Court of Prishtina", AgencyKind.COURT, "prishtina"),
    ("court-prizren", "Basic Court of Prizren", AgencyKind.COURT, "prizren"),
    ("court-appeals", "Court of Appeals", AgencyKind.COURT, "prishtina"),
]

# username, agency code, roles, first name, last name (synthetic)
STAFF = [
    ("admin", "national-coordinator", [Role.SYSTEM_ADMIN], "Arta", "Krasniqi"),
    ("coordinator", "national-coordinator", [Role.ANALYST, Role.SUPERVISOR], "Blerim", "Gashi"),
    ("analyst", "national-coordinator", [Role.ANALYST], "Milica", "Petrović"),
    ("auditor", "national-coordinator", [Role.AUDITOR], "Drita", "Shala"),
    ("hotline", "national-coordinator", [Role.HOTLINE_OPERATOR], "Fjolla", "Morina"),
    ("police.admin", "police-thb", [Role.AGENCY_ADMIN], "Ilir", "Hoxha"),
    ("investigator", "police-thb", [Role.INVESTIGATOR], "Valon", "Berisha"),
    ("police.supervisor", "police-thb", [Role.SUPERVISOR, Role.INVESTIGATOR], "Marko", "Jovanović"),
    ("investigator.prizren", "police-prizren", [Role.INVESTIGATOR], "Agon", "Bytyqi"),
    ("prosecutor", "state-prosecutor", [Role.PROSECUTOR], "Teuta", "Rexhepi"),
    ("advocate", "victim-advocacy", [Role.CASE_WORKER], "Jelena", "Nikolić"),
    ("social.worker", "csw-prishtina", [Role.CASE_WORKER], "Merita", "Hasani"),
    ("social.worker.gjilan", "csw-gjilan", [Role.CASE_WORKER], "Ana", "Stojanović"),
    ("shelter.admin", "shelter-drita", [Role.AGENCY_ADMIN, Role.SUPERVISOR], "Vjosa", "Kelmendi"),
    ("shelter.worker", "shelter-drita", [Role.CASE_WORKER], "Rina", "Osmani"),
    ("shelter.shpresa", "shelter-shpresa", [Role.CASE_WORKER], "Nora", "Haxhiu"),
    ("labour.inspector", "labour-inspectorate", [Role.CASE_WORKER], "Dragan", "Ilić"),
    ("court.liaison", "court-prishtina", [Role.COURT_LIAISON], "Besa", "Aliu"),
    ("witness.protection", "police-thb", [Role.WITNESS_PROTECTION], "Driton", "Syla"),
    ("prosecutor.prizren", "prosecution-prizren", [Role.PROSECUTOR], "Luan", "Thaçi"),
    ("prosecution.supervisor", "state-prosecutor", [Role.SUPERVISOR], "Vesna", "Marković"),
]

# Agencies that register persons, with their relative weight.
REGISTERING = {
    "police-thb": 30,
    "police-prizren": 10,
    "police-peja": 8,
    "shelter-drita": 15,
    "shelter-shpresa": 8,
    "state-shelter": 6,
    "csw-prishtina": 6,
    "csw-prizren": 4,
    "csw-gjilan": 3,
    "csw-mitrovica": 3,
    "victim-advocacy": 4,
    "labour-inspectorate": 3,
}

# Synthetic accounts, assembled from parts; no real story.
NARRATIVE_OPENINGS = [
    "Was promised a job as a waitress",
    "Was offered seasonal work in agriculture",
    "Met a man online who promised marriage",
    "A relative arranged work in a restaurant",
    "Was recruited for construction work abroad",
]
NARRATIVE_CONTROL = [
    "documents were taken on arrival",
    "wages were withheld to pay a debt",
    "was not allowed to leave the house",
    "was threatened that the family would be harmed",
    "was made to beg in the street every day",
]
STREETS = ["Rr. Nëna Terezë", "Rr. Agim Ramadani", "Rr. Luan Haradinaj", "Rr. Fehmi Agani"]

CITIZENSHIP_WEIGHTS = {"XK": 80, "AL": 7, "MD": 2, "UA": 2, "RS": 4, "NG": 2, "BD": 3}


@dataclass
class DemoResult:
    agencies: int
    staff: int
    persons_created: int
    persons_total: int


def reference(seed: int, index: int) -> str:
    return f"D{seed}-{index:08d}"


@transaction.atomic
def ensure_agencies_and_staff() -> tuple[dict[str, Agency], dict[str, User]]:
    load_country("XK")
    municipalities = {m.code: m for m in Municipality.objects.all()}
    agencies = {}
    for code, name, kind, municipality in AGENCIES:
        name_sq, name_sr, name_en = AGENCY_NAMES.get(code, ("", "", name))
        agencies[code], _ = Agency.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_sq": name_sq,
                "name_sr": name_sr,
                "name_en": name_en,
                "kind": kind,
                "municipality": municipalities[municipality],
            },
        )
    staff = {}
    for username, agency_code, roles, first, last in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = account_services.create_user(
                None,
                agency=agencies[agency_code],
                username=username,
                email=f"{username}@demo.streha.invalid",
                first_name=first,
                last_name=last,
                roles=roles,
                password=DEMO_PASSWORD,
            )
        else:
            missing = set(roles) - set(user.roles)
            # The system's own grants (no administrator asked) take effect at once.
            RoleGrant.objects.bulk_create(
                RoleGrant(user=user, role=role, approved_at=timezone.now()) for role in missing
            )
        staff[username] = user
    return agencies, staff


def _personal_number(rng: random.Random) -> str:
    return "1" + "".join(str(rng.randrange(10)) for _ in range(9))


def _phone(rng: random.Random) -> str:
    return f"+383 4{rng.randrange(4, 10)} {rng.randrange(100, 1000)} {rng.randrange(100, 1000)}"


def _build_person(
    rng: random.Random,
    index: int,
    seed: int,
    owners: list[Agency],
    owner_weights: list[int],
    creators: dict[int, User],
    today: date,
) -> Person:
    citizenship = rng.choices(
        list(CITIZENSHIP_WEIGHTS), weights=list(CITIZENSHIP_WEIGHTS.values())
    )[0]
    gender = rng.choices(
        [Gender.FEMININE, Gender.MASCULINE, Gender.UNKNOWN, Gender.TRANSGENDER_FEMININE],
        weights=[78, 19, 2, 1],
    )[0]
    female = gender in (Gender.FEMININE, Gender.TRANSGENDER_FEMININE)
    if citizenship == "XK":
        if rng.random() < 0.12:
            given = rng.choice(names.SERBIAN_FEMALE if female else names.SERBIAN_MALE)
            family = rng.choice(names.SERBIAN_FAMILY)
        else:
            given = rng.choice(names.ALBANIAN_FEMALE if female else names.ALBANIAN_MALE)
            family = rng.choice(names.ALBANIAN_FAMILY)
    else:
        female_names, male_names, families = names.FOREIGN[citizenship]
        given = rng.choice(female_names if female else male_names)
        family = rng.choice(families)
    # Many victims identified in Kosovo are children: ages 10 to 45, weighted young.
    age_days = int(rng.triangular(10, 45, 17) * 365.25)
    birth = today - timedelta(days=age_days)
    owner = rng.choices(owners, weights=owner_weights)[0]
    return Person(
        reference=reference(seed, index),
        owner_agency=owner,
        created_by=creators.get(owner.pk),
        given_name=given,
        family_name=family,
        aliases=rng.choice(["", "", "", given[:3] + "a", family[:4]]),
        date_of_birth=birth if rng.random() < 0.9 else None,
        birth_year=birth.year,
        personal_number=_personal_number(rng) if citizenship == "XK" else "",
        passport_number=(
            f"{citizenship}{rng.randrange(10**6, 10**7)}"
            if citizenship != "XK" and rng.random() < 0.6
            else ""
        ),
        phone=_phone(rng) if rng.random() < 0.5 else "",
        address=f"{rng.choice(STREETS)} {rng.randrange(1, 200)}" if rng.random() < 0.3 else "",
        narrative=(
            f"{rng.choice(NARRATIVE_OPENINGS)}; {rng.choice(NARRATIVE_CONTROL)}."
            if rng.random() < 0.4
            else ""
        ),
        gender=gender,
        citizenship=citizenship,
    )


def register_persons(persons: list[Person]) -> int:
    """Insert built persons with one audit event each, in one transaction per block.

    What ``people.services.register_persons_bulk`` does, with the demo's bulk insert
    (``streha.protection.bulk``), which costs about half the CPU of ``bulk_create`` per person, or
    on PostgreSQL its COPY (``streha.demo.copy``)."""
    with transaction.atomic():
        assign_ids(persons)
        # Their name-search entries with them, while the names are in memory (left to
        # ``reindex_names`` they cost a second pass decrypting every person, 15 minutes at
        # 1,000,000 persons on PostgreSQL), and their rows marked current as they go in.
        name_index.insert_new(
            persons, copy.insert if connection.vendor == "postgresql" else bulk.insert
        )
        audit.record_each(
            audit.Action.CREATE,
            persons,
            actor_of=lambda person: person.created_by,
            field_groups=groups_of(PROTECTED_FIELDS),
            purpose="demo data",
        )
    return len(persons)


def generate_persons(
    seed: int,
    count: int,
    agencies: dict[str, Agency],
    staff: dict[str, User],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Make sure persons ``0..count-1`` of ``seed`` exist. Returns (created, total for seed)."""
    prefix = f"D{seed}-"
    existing = Person.objects.filter(reference__startswith=prefix).count()
    if existing >= count:
        return 0, existing
    owners = [agencies[code] for code in REGISTERING]
    owner_weights = list(REGISTERING.values())
    creators = {user.agency_id: user for user in staff.values() if user.agency_id}
    # The reference date is fixed so a seed gives the same ages whatever day it is run.
    today = date(2026, 1, 1)
    created = 0
    for block_start in range(existing - existing % BLOCK, count, BLOCK):
        rng = random.Random(f"{seed}:{block_start // BLOCK}")
        block_end = min(block_start + BLOCK, count)

        def block(rng=rng, block_start=block_start, block_end=block_end) -> Iterator[Person]:
            for index in range(block_start, block_end):
                person = _build_person(rng, index, seed, owners, owner_weights, creators, today)
                if index >= existing:
                    yield person

        created += register_persons(list(block()))
        if progress:
            progress(existing + created, count)
    return created, existing + created


def run(seed: int, persons: int, progress=None) -> DemoResult:
    from streha.cases.demo import generate_cases
    from streha.tips.demo import generate_tips

    agencies, staff = ensure_agencies_and_staff()
    created, total = generate_persons(seed, persons, agencies, staff, progress)
    # Persons whose entries are not known to be current (written before the per-name index
    # or its marker existed) get them and their marker; new persons have both from
    # ``register_persons``, so none else is opened.
    from streha.people.name_index import reindex_names

    reindex_names(only_missing=True)
    case_workers = {
        user.agency_id: user
        for user in staff.values()
        if user.agency_id and user.has_role(Role.CASE_WORKER, Role.INVESTIGATOR, Role.SUPERVISOR)
    }
    generate_cases(
        seed, Person.objects.filter(reference__startswith=f"D{seed}-"), creators=case_workers
    )
    generate_tips(seed)
    from streha.justice.demo import generate_criminal_cases

    generate_criminal_cases(seed)
    return DemoResult(
        agencies=len(agencies), staff=len(staff), persons_created=created, persons_total=total
    )
