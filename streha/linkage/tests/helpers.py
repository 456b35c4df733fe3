"""Synthetic persons with known duplicates (no real names), and a pair maker."""

import datetime

from streha.linkage.models import CandidatePair
from streha.people.models import Person
from streha.testing.factories import PersonFactory

GIVEN = [
    "Arta",
    "Blerina",
    "Drita",
    "Elira",
    "Fatime",
    "Genta",
    "Hana",
    "Ilir",
    "Jeta",
    "Kaltrina",
    "Lindita",
    "Mimoza",
    "Nora",
    "Pranvera",
    "Rina",
    "Shpresa",
    "Teuta",
    "Valbona",
    "Zana",
    "Jelena",
    "Milica",
    "Dragana",
    "Ivana",
    "Marija",
    "Snežana",
    "Tijana",
    "Vesna",
    "Zorica",
]
FAMILY = [
    "Berisha",
    "Gashi",
    "Hoxha",
    "Krasniqi",
    "Morina",
    "Rexhepi",
    "Shala",
    "Thaçi",
    "Zeqiri",
    "Jovanović",
    "Petrović",
    "Nikolić",
    "Marković",
    "Đorđević",
    "Stojanović",
]


def population(agency_a, agency_b, n: int = 60):
    """``n`` distinct synthetic persons in agency A, and three of them registered again by
    agency B with a spelling variant: Thaçi/Thaci, a nickname, swapped names."""
    persons = []
    for i in range(n):
        persons.append(
            PersonFactory(
                owner_agency=agency_a,
                given_name=GIVEN[i % len(GIVEN)],
                family_name=FAMILY[(i * 7) % len(FAMILY)],
                date_of_birth=datetime.date(1980 + i % 25, 1 + i % 12, 1 + i % 27),
                birth_year=1980 + i % 25,
                personal_number=f"{1000000000 + i * 7919}",
            )
        )
    original = persons[7]
    duplicates = [
        PersonFactory(
            owner_agency=agency_b,
            given_name=original.given_name,
            family_name=original.family_name.replace("ç", "c").replace("Đ", "Dj"),
            date_of_birth=original.date_of_birth,
            birth_year=original.birth_year,
            personal_number=original.personal_number,
        )
    ]
    swapped = persons[11]
    duplicates.append(
        PersonFactory(
            owner_agency=agency_b,
            given_name=swapped.family_name,
            family_name=swapped.given_name,
            date_of_birth=swapped.date_of_birth,
            birth_year=swapped.birth_year,
            personal_number=swapped.personal_number,
        )
    )
    return persons, {(original.pk, duplicates[0].pk), (swapped.pk, duplicates[1].pk)}


def make_pair(person_1, person_2, probability: float = 0.97) -> CandidatePair:
    a, b = sorted([person_1, person_2], key=lambda p: p.pk)
    return CandidatePair.objects.create(
        person_a=a,
        person_b=b,
        match_probability=probability,
        match_weight=9.5,
        comparison={"name": 8.1, "birth": 6.0, "sex": 0.4, "personal_number": -3.0},
    )


def variant_of(original: Person, agency, **changes) -> Person:
    """A newly registered person as another agency might type ``original``: one letter more in
    the family name, the rest the same (``changes`` override)."""
    data = dict(
        given_name=original.given_name,
        family_name=original.family_name + "j",
        date_of_birth=original.date_of_birth,
        birth_year=original.birth_year,
        gender=original.gender,
        citizenship=original.citizenship,
        personal_number=original.personal_number,
    )
    return PersonFactory(owner_agency=agency, **{**data, **changes})
