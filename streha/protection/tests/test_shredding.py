"""Crypto-shredding: anonymising a person destroys the person's data key."""

import pytest
from django.db import connection, transaction

from streha.audit.models import AuditEvent
from streha.people.models import Person
from streha.people.services import anonymise_person
from streha.protection import keys, services
from streha.protection.fields import ProtectedFieldMisuse
from streha.testing.factories import PersonFactory

from .test_keys import T0

IDENTITY = {"given_name": "Vjollca", "family_name": "Rama", "personal_number": "1122334455"}


def _row(pk) -> dict:
    columns = ["data_key", *Person.protected_field_names()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM people_person WHERE id = %s",  # noqa: S608
            [pk],
        )
        return dict(zip(columns, cursor.fetchone(), strict=True))


def _restore(pk, row: dict) -> None:
    assignments = ", ".join(f"{column} = %s" for column in row)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE people_person SET {assignments} WHERE id = %s",  # noqa: S608
            [*row.values(), pk],
        )


@pytest.mark.django_db
def test_anonymising_destroys_the_data_key_and_the_old_ciphertexts_stay_closed(key_file):
    person = PersonFactory(**IDENTITY)
    backup = _row(person.pk)  # a copy of the row taken before anonymisation

    anonymise_person(person, reason="retention period ended")

    stored = _row(person.pk)
    assert stored["data_key"] == keys.SHREDDED
    assert all(value in ("", None) for name, value in stored.items() if name != "data_key")
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.given_name, fresh.personal_number, fresh.date_of_birth) == ("", "", None)
    assert fresh.name_index == ""
    shredded = AuditEvent.objects.filter(action="key_rotation", object_id=str(person.public_id))
    assert [event.details["step"] for event in shredded] == ["shredded"]

    # The old ciphertexts put back without their envelope: no key opens them any more.
    _restore(person.pk, {k: v for k, v in backup.items() if k != "data_key"})
    with pytest.raises(keys.DataKeyShredded):
        Person.objects.get(pk=person.pk).given_name  # noqa: B018

    # A shredded record holds no protected data again.
    fresh = Person.objects.get(pk=person.pk)
    fresh.given_name = "Vjollca"
    with pytest.raises(ProtectedFieldMisuse, match="destroyed"), transaction.atomic():
        fresh.save()


@pytest.mark.django_db
def test_a_backup_of_the_row_cannot_bring_the_identity_back_once_its_master_key_is_retired(
    key_file,
):
    """The routine after anonymisations: rotate, re-wrap, retire. Every live record reads on;
    a full backup of the anonymised row (envelope and ciphertexts) opens no more."""
    person = PersonFactory(**IDENTITY)
    other = PersonFactory(given_name="Mimoza")
    backup = _row(person.pk)
    anonymise_person(person, reason="retention period ended")

    services.add_master_key()
    services.rewrap_all()
    services.retire_master_key("k1", now=T0)
    services.retire_master_key("k1", now=T0 + services.RETIRE_GRACE)

    assert Person.objects.get(pk=other.pk).given_name == "Mimoza"
    _restore(person.pk, backup)  # the whole row from the backup, envelope included
    restored = Person.objects.get(pk=person.pk)
    with pytest.raises(keys.UnknownMasterKey):
        restored.given_name  # noqa: B018
