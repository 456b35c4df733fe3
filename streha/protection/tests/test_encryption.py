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
from streha.people.selectors import search_filter
from streha.protection import crypto, keys
from streha.protection.crypto import ProtectedDataIntegrityError
from streha.protection.fields import ProtectedFieldMisuse, Sealed
from streha.protection.models import assign_ids
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


def _raw_row(person) -> dict:
    """Every column a protected record's content lives in: envelope, sealed fields, indexes."""
    columns = ["data_key", *Person.protected_field_names()]
    columns += ["name_index", "personal_number_index", "passport_number_index"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM people_person WHERE id = %s",  # noqa: S608
            [person.pk],
        )
        return dict(zip(columns, cursor.fetchone(), strict=True))


def _write_raw_row(person, row: dict) -> None:
    assignments = ", ".join(f"{column} = %s" for column in row)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE people_person SET {assignments} WHERE id = %s",  # noqa: S608
            [*row.values(), person.pk],
        )


@pytest.mark.django_db
def test_a_whole_row_transplanted_onto_another_record_does_not_decrypt():
    """A database writer copies a person's envelope, sealed columns and indexes onto another
    row (of another agency) to read the first person through the second."""
    victim = PersonFactory(given_name="Besa", family_name="Kryeziu", address="Rruga e Shpresës 4")
    decoy = PersonFactory(given_name="Drita")
    _write_raw_row(decoy, _raw_row(victim))
    transplanted = Person.objects.get(pk=decoy.pk)
    with pytest.raises(keys.DataKeyIntegrityError):
        transplanted.given_name  # noqa: B018
    with pytest.raises(keys.DataKeyIntegrityError):
        transplanted.address  # noqa: B018
    assert Person.objects.get(pk=victim.pk).given_name == "Besa"  # the original still reads


def test_sealed_values_name_their_record_and_version():
    """Even under the same data key, a value sealed for one record or version opens for no other."""
    data_key = keys.new_key()
    token = crypto.seal(data_key, b"Ana", crypto.associated_data("people.person", "x", 7, 3))
    assert (
        crypto.open_sealed(data_key, token, crypto.associated_data("people.person", "x", 7, 3))
        == b"Ana"
    )
    for other in [(8, 3), (7, 2), (7, 4)]:
        with pytest.raises(ProtectedDataIntegrityError):
            crypto.open_sealed(
                data_key, token, crypto.associated_data("people.person", "x", *other)
            )


@pytest.mark.django_db
def test_an_older_ciphertext_of_the_same_field_is_refused():
    """The old address put back in place of the new safe house is refused, not shown."""
    person = PersonFactory(given_name="Arbana", address="Rruga e Vjetër 1")
    old_row = _raw_row(person)
    person.address = "Strehimore e sigurt 7"
    person.save()
    assert keys.parse_envelope(Person.objects.get(pk=person.pk).data_key).version == 2

    _set_raw_column(person, "address", old_row["address"])
    with pytest.raises(ProtectedDataIntegrityError):
        Person.objects.get(pk=person.pk).address  # noqa: B018
    # Rolling the envelope back with it exposes the rollback in every other field.
    _set_raw_column(person, "data_key", old_row["data_key"])
    rolled_back = Person.objects.get(pk=person.pk)
    assert rolled_back.address == "Rruga e Vjetër 1"
    with pytest.raises(ProtectedDataIntegrityError):
        rolled_back.given_name  # noqa: B018


@pytest.mark.django_db
def test_every_protected_write_takes_a_new_version_and_reseals_the_whole_record():
    person = PersonFactory(given_name="Lirije", phone="044 111 222")
    version = keys.parse_envelope(Person.objects.get(pk=person.pk).data_key).version

    loaded = Person.objects.get(pk=person.pk)
    loaded.gender = "masculine"
    loaded.save(update_fields=["gender"])  # nothing protected: no new version
    assert Person.objects.get(pk=person.pk).data_key == loaded.data_key
    assert keys.parse_envelope(loaded.data_key).version == version

    loaded.phone = "045 333 444"
    loaded.save(update_fields=["phone"])  # one protected field: the whole record is resealed
    fresh = Person.objects.get(pk=person.pk)
    assert keys.parse_envelope(fresh.data_key).version == version + 1
    assert (fresh.given_name, fresh.phone) == ("Lirije", "045 333 444")

    partial = Person.objects.only("pk", "gender", "given_name").get(pk=person.pk)
    partial.given_name = "Lirie"
    partial.save()  # deferred protected fields are loaded and resealed, never lost
    fresh = Person.objects.get(pk=person.pk)
    assert keys.parse_envelope(fresh.data_key).version == version + 2
    assert (fresh.given_name, fresh.phone) == ("Lirie", "045 333 444")
    assert list(search_filter(Person.objects.all(), "Lirie Synthetic")) == [person]


@pytest.mark.django_db
def test_bulk_create_needs_ids_first():
    agency = PersonFactory().owner_agency
    built = [
        Person(owner_agency=agency, reference=f"B-{i}", given_name=f"Bulk{i}") for i in range(3)
    ]
    with pytest.raises(ProtectedFieldMisuse, match="assign_ids"), transaction.atomic():
        Person.objects.bulk_create(built)
    built = [
        Person(owner_agency=agency, reference=f"B-{i}", given_name=f"Bulk{i}") for i in range(3)
    ]
    assign_ids(built)
    Person.objects.bulk_create(built)
    assert [Person.objects.get(pk=p.pk).given_name for p in built] == ["Bulk0", "Bulk1", "Bulk2"]
    assert len({p.pk for p in built}) == 3
    after = PersonFactory()
    assert after.pk > max(p.pk for p in built)


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
def test_blind_indexes_find_exact_values_without_decrypting(key_file):
    # Fixed keys: at 12 bits two of these values share an index value under about one fresh
    # key in 2,000, and this test reads the index alone, with no confirming decryption.
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
