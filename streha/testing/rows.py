"""Records as the database stores them, for tests that compare two ways of writing one
(``bulk_create``, the prepared bulk insert, PostgreSQL's COPY)."""

from datetime import date

from django.db import connection

from streha.people.models import Person


def unsaved_person(agency, reference: str) -> Person:
    """A synthetic person with every protected field filled, not yet written."""
    return Person(
        reference=reference,
        owner_agency=agency,
        given_name="Arbëresha",
        family_name="Gashi",
        date_of_birth=date(2001, 5, 17),
        personal_number="1234567890",
        phone="+383 44 123 456",
    )


def stored_person_row(reference: str) -> dict:
    """Every column of the person ``reference`` but its id, exactly as stored."""
    columns = [f.column for f in Person._meta.concrete_fields if f.column not in ("id",)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM people_person WHERE reference = %s",  # noqa: S608
            [reference],
        )
        return dict(zip(columns, cursor.fetchone(), strict=True))
