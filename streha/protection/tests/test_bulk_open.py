"""The bulk open (``protection.bulk_open.open_rows``) gives exactly what reading each record
gives, and fails exactly as it fails."""

import base64
import datetime
import json

import pytest
from django.db import connection

from streha.audit import read_context
from streha.people.models import Person
from streha.protection import crypto, keys, services
from streha.protection.bulk_open import open_rows
from streha.protection.crypto import ProtectedDataIntegrityError
from streha.protection.tests.conftest import fixed_key
from streha.protection.tests.test_keys import _make_first_format
from streha.testing.factories import PersonFactory

NAMES = ("pk", *Person.protected_field_names(), "gender", "birth_year", "citizenship", "reference")


def _per_record(persons) -> list[tuple]:
    """What the one read path gives: a fresh instance per record, each field read."""
    rows = []
    for pk in sorted(p.pk for p in persons):
        person = Person.objects.get(pk=pk)
        rows.append(tuple(getattr(person, name) for name in NAMES))
    return rows


def _bulk() -> list[tuple]:
    return list(open_rows(Person.objects.order_by("pk"), NAMES, chunk_size=2))


def _set_raw(person, column: str, value) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE people_person SET {column} = %s WHERE id = %s", [value, person.pk])  # noqa: S608


def _raw(person, column: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM people_person WHERE id = %s", [person.pk])  # noqa: S608
        return cursor.fetchone()[0]


def _error_of(read) -> tuple[type, str]:
    with pytest.raises(Exception) as caught:  # noqa: PT011 (the type is what is compared)
        read()
    return type(caught.value), str(caught.value)


@pytest.mark.django_db
def test_bulk_open_gives_every_field_as_reading_each_record_does(key_file):
    full = PersonFactory(
        given_name="Vjollca",
        family_name="Krasniqi",
        aliases="Ola",
        date_of_birth=datetime.date(1998, 3, 2),
        personal_number="1234567890",
        passport_number="P0012345",
        phone="+383 44 123 456",
        address="Rruga B 4",
        narrative="Fjalët e saj",
        health_notes="",
        birth_year=1998,
    )
    sparse = PersonFactory(given_name="Violca", family_name="", date_of_birth=None, phone="")
    shredded = PersonFactory(given_name="Drita")
    services.shred_data_key(shredded, replayed=True)  # replayed: no ledger file from a test

    bulk = _bulk()

    assert bulk == _per_record([full, sparse, shredded])
    by_pk = {row[0]: dict(zip(NAMES, row, strict=True)) for row in bulk}
    assert by_pk[full.pk]["date_of_birth"] == datetime.date(1998, 3, 2)
    assert by_pk[sparse.pk]["date_of_birth"] is None  # NULL stays None
    assert by_pk[sparse.pk]["phone"] == ""
    assert by_pk[shredded.pk]["given_name"] == ""  # a shredded record reads empty


@pytest.mark.django_db
def test_bulk_open_reads_records_under_an_old_master_key_and_the_first_format(key_file):
    content = json.loads(key_file.read_text())
    content["legacy_v1"] = True  # first-format records may remain
    key_file.write_text(json.dumps(content))
    keys.reset_keyring()
    under_k1 = PersonFactory(given_name="Arta", phone="044 111 222")
    first_format = PersonFactory()
    _make_first_format(first_format, {"given_name": "Flutura", "family_name": "Gashi"})
    # Rotation: a second master key becomes current; one record is re-wrapped under it.
    content["keys"]["k2"] = fixed_key(2)
    content["current"] = "k2"
    keys.write_key_file(key_file, content)
    keys.reset_keyring()
    under_k2 = PersonFactory(given_name="Besa")
    assert Person.objects.get(pk=under_k1.pk).data_key.startswith("v2|k1|")
    assert Person.objects.get(pk=under_k2.pk).data_key.startswith("v2|k2|")
    assert Person.objects.get(pk=first_format.pk).data_key.startswith("k1:")

    bulk = _bulk()

    assert bulk == _per_record([under_k1, first_format, under_k2])
    assert [row[1] for row in bulk] == ["Arta", "Flutura", "Besa"]


@pytest.mark.django_db
def test_a_tampered_or_moved_value_fails_in_bulk_as_it_fails_for_one_record(key_file):
    first = PersonFactory(given_name="Teuta", family_name="Berisha")
    second = PersonFactory(given_name="Drita")
    token = _raw(first, "given_name")
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    single = lambda: Person.objects.get(pk=first.pk).given_name  # noqa: E731
    bulk = lambda: list(open_rows(Person.objects.filter(pk=first.pk), ["given_name"]))  # noqa: E731

    _set_raw(first, "given_name", flipped)
    assert _error_of(bulk) == _error_of(single)
    assert _error_of(bulk)[0] is ProtectedDataIntegrityError
    assert "Teuta" not in _error_of(bulk)[1]

    _set_raw(first, "given_name", _raw(first, "family_name"))  # moved from another field
    assert _error_of(bulk)[0] is ProtectedDataIntegrityError
    assert _error_of(bulk) == _error_of(single)

    _set_raw(first, "given_name", _raw(second, "given_name"))  # moved from another record
    assert _error_of(bulk) == _error_of(single)

    _set_raw(first, "given_name", "not sealed")
    assert _error_of(bulk) == _error_of(single)


@pytest.mark.django_db
def test_a_tampered_envelope_or_a_wrong_master_key_fails_in_bulk_as_for_one_record(key_file):
    person = PersonFactory(given_name="Valbona")
    envelope = keys.parse_envelope(person.data_key)
    single = lambda: Person.objects.get(pk=person.pk).given_name  # noqa: E731
    bulk = lambda: list(open_rows(Person.objects.filter(pk=person.pk), ["given_name"]))  # noqa: E731

    raw = bytearray(base64.b64decode(envelope.blob))
    raw[3] ^= 1
    tampered = keys.Envelope(2, envelope.key_id, envelope.version, base64.b64encode(raw).decode())
    _set_raw(person, "data_key", tampered.encode())
    assert _error_of(bulk)[0] is keys.DataKeyIntegrityError
    assert _error_of(bulk) == _error_of(single)

    # The same envelope with another key of the same id: the key file was replaced.
    _set_raw(person, "data_key", envelope.encode())
    content = json.loads(key_file.read_text())
    content["keys"]["k1"] = fixed_key(7)
    keys.write_key_file(key_file, content)
    keys.reset_keyring()
    assert _error_of(bulk)[0] is keys.DataKeyIntegrityError
    assert _error_of(bulk) == _error_of(single)

    # An unknown master key id.
    _set_raw(person, "data_key", keys.Envelope(2, "gone", envelope.version, envelope.blob).encode())
    assert _error_of(bulk)[0] is keys.UnknownMasterKey
    assert _error_of(bulk) == _error_of(single)

    # A first-format envelope once the first format is closed.
    _set_raw(person, "data_key", keys.keyring().wrap_legacy(keys.new_key()))
    assert _error_of(bulk)[0] is keys.DataKeyIntegrityError
    assert _error_of(bulk) == _error_of(single)


@pytest.mark.django_db
@pytest.mark.strict_reads
def test_bulk_open_refuses_outside_an_audited_system_read(key_file):
    with read_context.testing_scope():
        PersonFactory(given_name="Shpresa")
    persons = Person.objects.all()
    with pytest.raises(read_context.UnauditedDecryption):
        list(open_rows(persons, ["given_name"]))
    with read_context.system("test: bulk read"):
        assert list(open_rows(persons, ["given_name"])) == [("Shpresa",)]
    # A generator carried out of the audited read stops there.
    with read_context.system("test: bulk read"):
        rows = open_rows(persons, ["given_name"])
    with pytest.raises(read_context.UnauditedDecryption):
        next(rows)


def test_the_bulk_unwrapping_derives_the_same_key_encryption_keys(key_file):
    ring = keys.keyring()
    unwrap = ring.bound_unwrapper()
    for binding in ("people.person|1", "people.person|987654321", "cases.case|42"):
        data_key = bytes(range(32))
        key_id, blob = ring.wrap_bound(data_key, binding)
        assert unwrap(key_id, blob, binding) == ring.unwrap_bound(key_id, blob, binding)
        assert unwrap(key_id, blob, binding) == data_key
        with pytest.raises(keys.DataKeyIntegrityError):
            unwrap(key_id, blob, "people.person|2")  # bound to its record
    with pytest.raises(keys.UnknownMasterKey):
        unwrap("gone", blob, "cases.case|42")


def test_one_record_opener_is_open_sealed():
    data_key = bytes(range(32))
    associated = crypto.associated_data("people.person", "given_name", 5, 1)
    token = crypto.seal(data_key, b"Ardita", associated)
    assert crypto.opener(data_key)(token, associated) == b"Ardita"
    with pytest.raises(ProtectedDataIntegrityError):
        crypto.opener(bytes(32))(token, associated)
    with pytest.raises(ProtectedDataIntegrityError):
        crypto.opener(b"short")(token, associated)


@pytest.mark.parametrize("bits", [10, 14, 32, 62])
def test_the_truncated_hasher_gives_the_truncated_index(bits):
    field_key = crypto.field_index_key(bytes(range(32)), "linkage:registration-keys")
    hashed = crypto.truncated_hasher(field_key, bits)
    for text in ("names\x1fvjollca\x1fkrasnichi", "dob\x1f1998-03-02", "", "ë Ђ"):
        index = crypto.truncated_index(field_key, text, bits)
        assert hashed(text) == int(index.split(":")[1], 16)


@pytest.mark.django_db
def test_an_error_half_way_closes_the_read_there_and_then(key_file):
    """A value failing its check ends the read and closes its rows at once, not when the
    garbage collector finds them: on PostgreSQL they come from a server-side cursor, and a
    finaliser closing it while another query runs on the connection hangs that connection."""
    PersonFactory(given_name="Teuta")
    second = PersonFactory(given_name="Drita")
    _set_raw(second, "given_name", "not sealed")
    rows = open_rows(Person.objects.order_by("pk"), ["given_name"], chunk_size=1)
    assert next(rows) == ("Teuta",)
    with pytest.raises(ProtectedDataIntegrityError) as caught:
        next(rows)
    assert caught.value.__traceback__ is not None  # the frames are still held here...
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_cursors")
            assert cursor.fetchone()[0] == 0  # ...but their cursor is closed
    assert Person.objects.count() == 2  # and the connection answers
