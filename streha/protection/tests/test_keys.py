"""Master keys: envelope encryption, rotation while running, two-step retirement, upgrading
first-format records, configuration errors."""

import base64
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from streha.audit.models import AuditEvent
from streha.people.models import Person
from streha.protection import crypto, keys, services
from streha.protection.fields import Sealed
from streha.testing.factories import PersonFactory

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _key_steps() -> list[tuple[str, str]]:
    return [
        (event.details.get("step"), event.details.get("key", ""))
        for event in AuditEvent.objects.filter(action="key_rotation").order_by("seq")
    ]


@pytest.mark.django_db
def test_rotate_rewraps_every_data_key_and_keeps_data_readable(key_file, capsys):
    persons = [PersonFactory(given_name=f"Name{i}") for i in range(5)]
    ciphertexts = list(Person.objects.order_by("pk").values_list("given_name", flat=True))

    call_command("keys", "rotate")

    new_id = keys.keyring().current_id
    assert new_id != "k1"
    assert json.loads(key_file.read_text())["current"] == new_id
    for person in persons:
        fresh = Person.objects.get(pk=person.pk)
        assert fresh.data_key.startswith(f"v2|{new_id}|1|")  # same record version
        assert fresh.given_name == person.given_name
    # Data itself was not re-encrypted: only the data keys were re-wrapped.
    assert list(Person.objects.order_by("pk").values_list("given_name", flat=True)) == ciphertexts
    assert "Re-wrapped 5 data keys" in capsys.readouterr().out
    assert ("added", new_id) in _key_steps() and ("rewrapped", "") in _key_steps()


@pytest.mark.django_db
def test_retire_disables_first_and_destroys_only_after_the_grace_period(key_file):
    person = PersonFactory(given_name="Shpresa")
    services.add_master_key()  # new key current, nothing re-wrapped yet
    assert Person.objects.get(pk=person.pk).given_name == "Shpresa"
    with pytest.raises(ValueError, match="still use"):
        services.retire_master_key("k1", now=T0)
    services.rewrap_all()

    assert services.retire_master_key("k1", now=T0) == "disabled"
    content = json.loads(key_file.read_text())
    assert "k1" in content["keys"] and "k1" in content["disabled"]
    assert Person.objects.get(pk=person.pk).given_name == "Shpresa"
    with pytest.raises(ValueError, match="can be destroyed after"):
        services.retire_master_key("k1", now=T0 + services.RETIRE_GRACE - timedelta(seconds=1))

    assert services.retire_master_key("k1", now=T0 + services.RETIRE_GRACE) == "destroyed"
    assert "k1" not in json.loads(key_file.read_text())["keys"]
    assert Person.objects.get(pk=person.pk).given_name == "Shpresa"
    assert [step for step in _key_steps() if step[1] == "k1"] == [
        ("disabled", "k1"),
        ("destroyed", "k1"),
    ]


@pytest.mark.django_db
def test_a_disabled_key_refuses_new_wraps_and_the_second_count_catches_a_stale_process(key_file):
    stale = keys.load_keyring()  # a process that loaded the key file before the rotation
    services.add_master_key()
    services.retire_master_key("k1", now=T0)
    with pytest.raises(ImproperlyConfigured, match="disabled"):
        keys.Keyring({"k1": b"k" * 32}, "k1", b"i" * 32, disabled={"k1": T0.isoformat()})

    # The stale process still wraps a new record under k1 before it re-reads the key file.
    person = PersonFactory(given_name="Mirlinda")
    row = Person.objects.get(pk=person.pk)
    key_id, blob = stale.wrap_bound(row.protection_data_key(), row.protection_binding())
    envelope = keys.parse_envelope(row.data_key)
    stale_envelope = keys.Envelope(2, key_id, envelope.version, blob).encode()
    Person.objects.filter(pk=person.pk).update(data_key=stale_envelope)

    later = T0 + services.RETIRE_GRACE
    with pytest.raises(ValueError, match="after it was disabled"):
        services.retire_master_key("k1", now=later)
    services.rewrap_all()
    assert services.retire_master_key("k1", now=later) == "destroyed"
    assert Person.objects.get(pk=person.pk).given_name == "Mirlinda"


@pytest.mark.django_db
def test_a_stale_instance_saved_after_rotation_is_rewrapped_under_the_current_key(key_file):
    person = PersonFactory(given_name="Valmira")
    stale = Person.objects.get(pk=person.pk)  # loaded before the rotation
    assert stale.data_key.startswith("v2|k1|")
    new_id = services.add_master_key()
    services.rewrap_all()

    stale.phone = "+383 44 000 111"
    stale.save()

    assert Person.objects.get(pk=person.pk).data_key.startswith(f"v2|{new_id}|")
    services.retire_master_key("k1", now=T0)
    assert services.retire_master_key("k1", now=T0 + services.RETIRE_GRACE) == "destroyed"
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.given_name, fresh.phone) == ("Valmira", "+383 44 000 111")


@pytest.mark.django_db
def test_a_running_process_picks_up_a_key_rotated_by_another(key_file):
    keys.keyring()  # this process has loaded the key file
    person = PersonFactory(given_name="Valbona")
    content = json.loads(key_file.read_text())
    content["keys"]["kother"] = base64.b64encode(keys.new_key()).decode()
    content["current"] = "kother"
    # "Another process": rewraps with a keyring read from the changed file.
    keys.write_key_file(key_file, content)
    other = keys.load_keyring()
    row = Person.objects.get(pk=person.pk)
    key_id, blob = other.wrap_bound(row.protection_data_key(), row.protection_binding())
    version = keys.parse_envelope(row.data_key).version
    Person.objects.filter(pk=person.pk).update(
        data_key=keys.Envelope(2, key_id, version, blob).encode()
    )
    # Our process still has the old keyring cached; an unknown key id makes it re-read the file.
    assert Person.objects.get(pk=person.pk).given_name == "Valbona"


@pytest.mark.django_db
def test_tampered_data_key_is_an_integrity_error(key_file):
    person = PersonFactory()
    envelope = keys.parse_envelope(person.data_key)
    raw = bytearray(base64.b64decode(envelope.blob))
    raw[3] ^= 1
    tampered = keys.Envelope(2, envelope.key_id, envelope.version, base64.b64encode(raw).decode())
    Person.objects.filter(pk=person.pk).update(data_key=tampered.encode())
    with pytest.raises(keys.DataKeyIntegrityError):
        Person.objects.get(pk=person.pk).given_name  # noqa: B018


def _make_first_format(person: Person, values: dict) -> None:
    """Rewrite a record as the first format wrote it (unbound envelope, v1 tokens, full HMAC)."""
    ring = keys.keyring()
    data_key = keys.new_key()
    columns = {"data_key": ring.wrap_legacy(data_key)}
    for name in Person.protected_field_names():
        value = values.get(name, "")
        if name == "date_of_birth":
            columns[name] = None
            continue
        associated = crypto.legacy_associated_data("people.person", name)
        token = crypto.seal(data_key, value.encode(), associated)
        columns[name] = Sealed(crypto.PREFIX_V1 + token[len(crypto.PREFIX) :])
    columns["name_index"] = crypto.blind_index(
        ring.index_key,
        "person.full_name",
        crypto.normalise_name(f"{values['given_name']} {values['family_name']}"),
    )
    Person.objects.filter(pk=person.pk).update(**columns)


@pytest.mark.django_db
def test_first_format_records_stay_readable_and_are_upgraded_by_rewrap(key_file):
    content = json.loads(key_file.read_text())
    content["legacy_v1"] = True  # a key file from before the second format
    key_file.write_text(json.dumps(content))
    keys.reset_keyring()
    person = PersonFactory()
    values = {"given_name": "Flutura", "family_name": "Gashi", "phone": "044 123 456"}
    _make_first_format(person, values)
    before = Person.objects.values_list("updated_at", flat=True).get(pk=person.pk)
    old_row = Person.objects.values_list("data_key", "given_name").get(pk=person.pk)

    from streha.people.selectors import search_filter

    assert list(search_filter(Person.objects.all(), "Gashi Flutura")) == [person]
    assert Person.objects.get(pk=person.pk).phone == "044 123 456"

    assert services.rewrap_all() == 1

    row = Person.objects.get(pk=person.pk)
    assert row.data_key.startswith("v2|k1|1|")
    assert (row.given_name, row.family_name, row.phone) == ("Flutura", "Gashi", "044 123 456")
    assert row.name_index.startswith("t12:")
    assert row.updated_at == before  # the upgrade is not an edit: retention clocks stay
    assert json.loads(key_file.read_text())["legacy_v1"] is False
    assert list(search_filter(Person.objects.all(), "flutura gashi")) == [person]

    # The first format is closed now: the old row put back is refused, not read.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET data_key = %s, given_name = %s WHERE id = %s",
            [old_row[0], old_row[1].token, person.pk],
        )
    with pytest.raises(keys.DataKeyIntegrityError, match="first-format"):
        Person.objects.get(pk=person.pk).given_name  # noqa: B018


def test_keys_from_environment(monkeypatch):
    first, second = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    monkeypatch.setenv("STREHA_MASTER_KEYS", f"a:{first},b:{second}")
    monkeypatch.setenv("STREHA_BLIND_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())
    ring = keys.load_keyring()
    assert ring.current_id == "b"
    assert not ring.legacy_v1
    key_id, blob = ring.wrap_bound(b"k" * 32, "people.person|1")
    assert ring.unwrap_bound(key_id, blob, "people.person|1") == b"k" * 32
    with pytest.raises(keys.DataKeyIntegrityError):
        ring.unwrap_bound(key_id, blob, "people.person|2")
    monkeypatch.setenv("STREHA_MASTER_KEYS", "a:not-base64!")
    with pytest.raises(ImproperlyConfigured, match="STREHA_MASTER_KEYS"):
        keys.load_keyring()
    monkeypatch.setenv("STREHA_MASTER_KEYS", f"a|b:{first}")
    with pytest.raises(ImproperlyConfigured, match="letters, digits"):
        keys.load_keyring()
    monkeypatch.setenv("STREHA_MASTER_KEYS", f"a:{first}")
    monkeypatch.delenv("STREHA_BLIND_INDEX_KEY")
    with pytest.raises(ImproperlyConfigured, match="STREHA_BLIND_INDEX_KEY"):
        keys.load_keyring()


@pytest.mark.django_db
def test_rotate_and_retire_refuse_with_environment_keys(monkeypatch):
    monkeypatch.setenv("STREHA_MASTER_KEYS", f"a:{base64.b64encode(os.urandom(32)).decode()}")
    monkeypatch.setenv("STREHA_BLIND_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())
    keys.reset_keyring()
    try:
        with pytest.raises(CommandError, match="STREHA_MASTER_KEYS"):
            call_command("keys", "rotate")
        with pytest.raises(CommandError, match="STREHA_MASTER_KEYS"):
            call_command("keys", "retire", "a")
    finally:
        monkeypatch.delenv("STREHA_MASTER_KEYS")
        keys.reset_keyring()


@pytest.mark.django_db
def test_retire_command_explains_both_steps(key_file, capsys):
    services.add_master_key()
    call_command("keys", "retire", "k1")
    assert "Run `streha keys retire k1` again in 10 minutes" in capsys.readouterr().out
    with pytest.raises(CommandError, match="can be destroyed after"):
        call_command("keys", "retire", "k1")
    call_command("keys", "status")
    assert "Disabled (to be destroyed): k1" in capsys.readouterr().out
