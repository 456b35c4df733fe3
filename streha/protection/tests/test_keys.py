"""Master keys: envelope encryption, rotation while running, retirement, configuration errors."""

import base64
import json
import os
import shutil

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from streha.people.models import Person
from streha.protection import keys, services
from streha.testing.factories import PersonFactory


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    """A private copy of the development key file, so rotation does not touch var/."""
    original = keys.key_file_path()
    keys.keyring()  # make sure the development key file exists
    copy = tmp_path / "keys.json"
    shutil.copy(original, copy)
    monkeypatch.setenv("STREHA_MASTER_KEY_FILE", str(copy))
    keys.reset_keyring()
    yield copy
    monkeypatch.delenv("STREHA_MASTER_KEY_FILE")
    keys.reset_keyring()


@pytest.mark.django_db
def test_rotate_rewraps_every_data_key_and_keeps_data_readable(key_file, capsys):
    persons = [PersonFactory(given_name=f"Name{i}") for i in range(5)]
    old_id = keys.keyring().current_id
    ciphertexts = list(Person.objects.order_by("pk").values_list("given_name", flat=True))

    call_command("keys", "rotate")

    new_id = keys.keyring().current_id
    assert new_id != old_id
    assert json.loads(key_file.read_text())["current"] == new_id
    for person in persons:
        fresh = Person.objects.get(pk=person.pk)
        assert fresh.data_key.startswith(f"{new_id}:")
        assert fresh.given_name == person.given_name
    # Data itself was not re-encrypted: only the data keys were re-wrapped.
    assert list(Person.objects.order_by("pk").values_list("given_name", flat=True)) == ciphertexts
    assert "Re-wrapped 5 data keys" in capsys.readouterr().out


@pytest.mark.django_db
def test_old_key_stays_readable_until_retired(key_file):
    person = PersonFactory(given_name="Shpresa")
    old_id = keys.keyring().current_id
    services.add_master_key()  # new key current, nothing re-wrapped yet
    assert Person.objects.get(pk=person.pk).given_name == "Shpresa"
    with pytest.raises(ValueError, match="still use"):
        services.retire_master_key(old_id)
    services.rewrap_all()
    services.retire_master_key(old_id)
    assert old_id not in json.loads(key_file.read_text())["keys"]
    assert Person.objects.get(pk=person.pk).given_name == "Shpresa"


@pytest.mark.django_db
def test_a_running_process_picks_up_a_key_rotated_by_another(key_file):
    keys.keyring()  # this process has loaded the key file
    person = PersonFactory(given_name="Valbona")
    content = json.loads(key_file.read_text())
    new_id = "kother"
    content["keys"][new_id] = base64.b64encode(keys.new_key()).decode()
    content["current"] = new_id
    # "Another process": wraps with a keyring read from the changed file.
    keys.write_key_file(key_file, content)
    other = keys.load_keyring()
    Person.objects.filter(pk=person.pk).update(
        data_key=other.wrap(keys.unwrap(Person.objects.get(pk=person.pk).data_key))
    )
    # Our process still has the old keyring cached; an unknown key id makes it re-read the file.
    assert Person.objects.get(pk=person.pk).given_name == "Valbona"


@pytest.mark.django_db
def test_tampered_data_key_is_an_integrity_error():
    person = PersonFactory()
    key_id, _, wrapped = person.data_key.partition(":")
    raw = bytearray(base64.b64decode(wrapped))
    raw[3] ^= 1
    Person.objects.filter(pk=person.pk).update(
        data_key=f"{key_id}:{base64.b64encode(raw).decode()}"
    )
    with pytest.raises(keys.DataKeyIntegrityError):
        Person.objects.get(pk=person.pk).given_name  # noqa: B018


def test_keys_from_environment(monkeypatch):
    first, second = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    monkeypatch.setenv("STREHA_MASTER_KEYS", f"a:{first},b:{second}")
    monkeypatch.setenv("STREHA_BLIND_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())
    ring = keys.load_keyring()
    assert ring.current_id == "b"
    assert ring.unwrap(ring.wrap(b"k" * 32)) == b"k" * 32
    monkeypatch.setenv("STREHA_MASTER_KEYS", "a:not-base64!")
    with pytest.raises(ImproperlyConfigured, match="STREHA_MASTER_KEYS"):
        keys.load_keyring()
    monkeypatch.setenv("STREHA_MASTER_KEYS", f"a:{first}")
    monkeypatch.delenv("STREHA_BLIND_INDEX_KEY")
    with pytest.raises(ImproperlyConfigured, match="STREHA_BLIND_INDEX_KEY"):
        keys.load_keyring()


@pytest.mark.django_db
def test_rotate_refuses_with_environment_keys(monkeypatch):
    monkeypatch.setenv("STREHA_MASTER_KEYS", f"a:{base64.b64encode(os.urandom(32)).decode()}")
    with pytest.raises(CommandError, match="STREHA_MASTER_KEYS"):
        call_command("keys", "rotate")
