"""A small justice world: a police unit, a prosecution office, a court, a victim advocacy
office, a shelter, and one user per part each plays; the Kosovo offence catalogue."""

from dataclasses import dataclass
from datetime import date

import pytest

from streha.accounts.models import AgencyKind, Role
from streha.cases.tests.factories import CaseFactory
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory

DAY = date(2025, 3, 3)  # every date in these tests is in the past, whatever day they run


@dataclass
class World:
    police: object
    office: object
    court: object
    advocacy: object
    shelter: object
    coordinator: object
    users: dict
    victim_case: object
    suspects: list
    witness_person: object
    other_person: object


@pytest.fixture
def offences(db):
    from streha.justice.catalogue import load_offences

    load_offences("XK")


@pytest.fixture
def world(db, offences) -> World:
    police = AgencyFactory(code="police", name="Police THB", kind=AgencyKind.POLICE)
    office = AgencyFactory(code="office", name="Prosecution", kind=AgencyKind.PROSECUTION)
    court = AgencyFactory(code="court", name="Basic Court", kind=AgencyKind.COURT)
    advocacy = AgencyFactory(code="vaao", name="Advocacy", kind=AgencyKind.VICTIM_ADVOCACY)
    shelter = AgencyFactory(code="shelter", name="Shelter", kind=AgencyKind.SHELTER)
    coordinator = AgencyFactory(code="nc", name="Coordinator", kind=AgencyKind.NATIONAL_COORDINATOR)
    users = {
        "investigator": UserFactory(username="inv", agency=police, roles=[Role.INVESTIGATOR]),
        "police_supervisor": UserFactory(
            username="psup", agency=police, roles=[Role.SUPERVISOR, Role.INVESTIGATOR]
        ),
        "prosecutor": UserFactory(username="pros", agency=office, roles=[Role.PROSECUTOR]),
        "other_prosecutor": UserFactory(username="pros2", agency=office, roles=[Role.PROSECUTOR]),
        "office_supervisor": UserFactory(username="osup", agency=office, roles=[Role.SUPERVISOR]),
        "liaison": UserFactory(username="liaison", agency=court, roles=[Role.COURT_LIAISON]),
        "wpu": UserFactory(username="wpu", agency=police, roles=[Role.WITNESS_PROTECTION]),
        "advocate": UserFactory(username="advocate", agency=advocacy, roles=[Role.CASE_WORKER]),
        "shelter_worker": UserFactory(username="sw", agency=shelter, roles=[Role.CASE_WORKER]),
        "analyst": UserFactory(username="analyst", agency=coordinator, roles=[Role.ANALYST]),
        "auditor": UserFactory(username="auditor", agency=coordinator, roles=[Role.AUDITOR]),
    }
    victim_case = CaseFactory(
        owner_agency=police,
        person=PersonFactory(owner_agency=police, given_name="Victimina", reference="T-VICTIM01"),
    )
    suspects = [
        PersonFactory(owner_agency=police, given_name=name, reference=f"T-SUSP000{i}")
        for i, name in enumerate(("Suspectus", "Secundus"), start=1)
    ]
    witness_person = PersonFactory(
        owner_agency=police, given_name="Sealedina", reference="T-WITN0001"
    )
    other_person = PersonFactory(owner_agency=police, given_name="Otherina", reference="T-WITN0002")
    return World(
        police,
        office,
        court,
        advocacy,
        shelter,
        coordinator,
        users,
        victim_case,
        suspects,
        witness_person,
        other_person,
    )


def offence(key: str, code: str = "06/L-074"):
    from streha.justice.models import Offence

    return Offence.objects.get(key=key, criminal_code__code=code)


@pytest.fixture
def reported(world):
    """A case the investigator opened from the victim case and reported to the office, the
    prosecutor handling it, the court named, two defendants charged with trafficking."""
    from streha.justice import services
    from streha.justice.models import ChargeStage

    users = world.users
    case = services.open_case(
        users["investigator"],
        opened_on=DAY,
        police_number="PR-1/25",
        prosecution_office=world.office,
        victim_case=world.victim_case,
    )
    services.record_event(users["investigator"], case, kind="criminal_report", occurred_on=DAY)
    services.assign_prosecutor(users["prosecutor"], case, prosecutor="pros")
    case.refresh_from_db()
    services.set_numbers(
        users["prosecutor"], case, prosecution_number="PP/I 1/25", court=world.court
    )
    case.refresh_from_db()
    for suspect in world.suspects:
        defendant = services.add_defendant(
            users["investigator"],
            case,
            person_reference=suspect.reference,
            roles=["RecruiterOrIntermediary"],
            detention="detention_on_remand",
        )
        services.add_charge(
            users["investigator"],
            case,
            defendant=defendant,
            offence=offence("trafficking"),
            stage=ChargeStage.REPORT,
            recorded_on=DAY,
            victim_cases=[world.victim_case],
        )
    case.refresh_from_db()
    return case
