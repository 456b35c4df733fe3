"""Identifying data is ciphertext everywhere outside a Python instance: database, dump, logs."""

import logging
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from django.db import connection, transaction

from streha.accounts.models import Role
from streha.people.models import Person
from streha.protection.crypto import ProtectedDataIntegrityError
from streha.protection.fields import ProtectedFieldMisuse, Sealed
from streha.testing.factories import PersonFactory

SECRETS = {
    "given_name": "Zylfijeqerime",
    "family_name": "Ujkanovicoska",
    "personal_number": "1987654321",
    "phone": "+383 49 765 432",
    "narrative": "Mbajtur me forcë në punëtorinë e Qershizës",
}


def _create_through_api(api_client, user) -> dict:
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/persons/", SECRETS, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _plaintexts() -> list[bytes]:
    return [value.encode() for value in SECRETS.values()]


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_reaches_the_database_or_logs(api_client, make_user, agency, caplog):
    user = make_user(Role.CASE_WORKER, agency=agency)
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, "django.db.backends"):
            created = _create_through_api(api_client, user)
            api_client.get(f"/api/v1/persons/{created['public_id']}/")
            found = api_client.post(
                "/api/v1/persons/search/", {"query": SECRETS["personal_number"]}, format="json"
            )
            assert found.json()["count"] == 1
    finally:
        connection.force_debug_cursor = False
    assert created["given_name"] == SECRETS["given_name"]  # the API user does see it
    reference = created["reference"].encode()

    stored = _database_bytes()
    assert reference in stored, "the check must see the record it looks for"
    for plaintext in _plaintexts():
        assert plaintext not in stored
    logged = caplog.text.encode()
    assert b"INSERT INTO" in logged
    for plaintext in _plaintexts():
        assert plaintext not in logged


def _database_bytes() -> bytes:
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        # Fold the write-ahead log into the main file, then read everything on disk.
        with sqlite3.connect(path) as raw:
            raw.execute("PRAGMA wal_checkpoint(FULL)")
        data = path.read_bytes()
        for suffix in ("-wal", "-journal"):
            extra = Path(f"{path}{suffix}")
            if extra.exists():
                data += extra.read_bytes()
        return data
    settings = connection.settings_dict
    pg_dump = (
        shutil.which("pg_dump") or sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))[-1]
    )
    result = subprocess.run(  # noqa: S603 - fixed binary, arguments from test settings
        [
            str(pg_dump),
            "--host",
            settings["HOST"] or "127.0.0.1",
            "--port",
            str(settings["PORT"] or 5432),
            "--username",
            settings["USER"],
            "--no-password",
            settings["NAME"],
        ],
        capture_output=True,
        check=True,
        env={"PGPASSWORD": settings.get("PASSWORD") or ""},
    )
    return result.stdout


@pytest.mark.django_db
def test_reading_decrypts_transparently_and_values_stay_sealed():
    person = PersonFactory(given_name="Arta", personal_number="1234567890")
    again = Person.objects.get(pk=person.pk)
    assert again.given_name == "Arta"
    assert again.personal_number == "1234567890"
    raw = Person.objects.filter(pk=person.pk).values_list("given_name", flat=True).get()
    assert isinstance(raw, Sealed)
    assert "Arta" not in repr(raw) and "Arta" not in raw.token


def _raw_column(person, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM people_person WHERE id = %s", [person.pk])  # noqa: S608
        return cursor.fetchone()[0]


def _set_raw_column(person, column, value):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE people_person SET {column} = %s WHERE id = %s", [value, person.pk])  # noqa: S608


@pytest.mark.django_db
def test_tampered_ciphertext_raises_a_clear_integrity_error():
    person = PersonFactory(given_name="Teuta")
    token = _raw_column(person, "given_name")
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    _set_raw_column(person, "given_name", flipped)
    with pytest.raises(ProtectedDataIntegrityError) as error:
        Person.objects.get(pk=person.pk).given_name  # noqa: B018
    assert "people.person.given_name" in str(error.value)
    assert "Teuta" not in str(error.value)


@pytest.mark.django_db
def test_ciphertext_cannot_be_moved_between_records_or_fields():
    first = PersonFactory(given_name="Besa", family_name="Kryeziu")
    second = PersonFactory(given_name="Drita")
    _set_raw_column(second, "given_name", _raw_column(first, "given_name"))
    with pytest.raises(ProtectedDataIntegrityError):
        Person.objects.get(pk=second.pk).given_name  # noqa: B018
    _set_raw_column(first, "given_name", _raw_column(first, "family_name"))
    with pytest.raises(ProtectedDataIntegrityError):
        Person.objects.get(pk=first.pk).given_name  # noqa: B018


@pytest.mark.django_db
def test_plaintext_cannot_bypass_save():
    person = PersonFactory()
    with pytest.raises(ProtectedFieldMisuse), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(given_name="Leaked")
    with pytest.raises(ProtectedFieldMisuse), transaction.atomic():
        list(Person.objects.filter(given_name="Leaked"))
    person.given_name = "Leaked"
    with pytest.raises(ProtectedFieldMisuse), transaction.atomic():
        Person.objects.bulk_update([person], ["given_name"])
    assert "Leaked" not in str(_raw_column(person, "given_name"))


@pytest.mark.django_db
def test_blind_indexes_find_exact_values_without_decrypting():
    person = PersonFactory(
        given_name="Ëndrita",
        family_name="Çeliku",
        personal_number="1234567890",
        passport_number="AL1234567",
    )
    PersonFactory(given_name="Endrit", family_name="Celiku", personal_number="1234567891")
    name_index = Person._meta.get_field("name_index")
    number_index = Person._meta.get_field("personal_number_index")
    for spelling in ["Ëndrita Çeliku", "celiku endrita", "  ENDRITA   ÇELIKU "]:
        found = Person.objects.filter(name_index=name_index.digest_of(spelling))
        assert list(found) == [person]
    assert list(
        Person.objects.filter(personal_number_index=number_index.digest_of("123-456 7890"))
    ) == [person]
    assert person.name_index != name_index.digest_of("Endrit Celiku")
    assert "ndrita" not in person.name_index
