"""Writes on persons. Demo data and real use go through these same functions."""

import secrets
from collections.abc import Iterable

from django.db import transaction

from streha.accounts.models import Agency, User
from streha.people.models import Person

BULK_BATCH = 2000


def new_reference() -> str:
    return "P-" + secrets.token_hex(5).upper()


@transaction.atomic
def register_person(actor: User | None, *, owner_agency: Agency, **fields) -> Person:
    person = Person(owner_agency=owner_agency, created_by=actor, **fields)
    if not person.reference:
        person.reference = new_reference()
    person.full_clean()
    person.save()
    return person


def bulk_register_persons(persons: Iterable[Person]) -> int:
    """Insert many already-built persons (the demo generator); one transaction per call."""
    batch = list(persons)
    with transaction.atomic():
        Person.objects.bulk_create(batch, batch_size=BULK_BATCH)
    return len(batch)
