"""Vault transit behind the keyring interface, tested through hvac's real HTTP requests against
an in-process stand-in for Vault's transit API (no network)."""

import base64
import json
import os

import pytest
import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection

from streha.people.models import Person
from streha.protection import keys, services, vault
from streha.testing.factories import PersonFactory

from .conftest import fixed_key

hvac = pytest.importorskip("hvac")  # the optional dependency is in the dev lock: always present

VAULT_URL = "http://vault.test:8200"
TOKEN = "s.test-token"


class FakeTransit(requests.adapters.BaseAdapter):
    """Answers the transit endpoints as Vault documents them, recording every request."""

    def __init__(self):
        super().__init__()
        self.versions = {1: AESGCM.generate_key(bit_length=256)}
        self.calls: list[tuple[str, str, dict]] = []

    def rotate(self):
        self.versions[max(self.versions) + 1] = AESGCM.generate_key(bit_length=256)

    def _answer(self, request, status: int, body: dict) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url
        return response

    def send(self, request, **kwargs):
        path = request.path_url
        body = json.loads(request.body) if request.body else {}
        self.calls.append((request.method, path, body))
        if request.headers.get("X-Vault-Token") != TOKEN:
            return self._answer(request, 403, {"errors": ["permission denied"]})
        aad = base64.b64decode(body.get("associated_data", ""))
        if request.method == "GET" and path == "/v1/transit/keys/streha":
            latest = max(self.versions)
            data = {"latest_version": latest, "min_decryption_version": 1, "type": "aes256-gcm96"}
            return self._answer(request, 200, {"data": data})
        if request.method == "POST" and path == "/v1/transit/encrypt/streha":
            latest = max(self.versions)
            nonce = os.urandom(12)
            sealed = AESGCM(self.versions[latest]).encrypt(
                nonce, base64.b64decode(body["plaintext"]), aad
            )
            ciphertext = f"vault:v{latest}:{base64.b64encode(nonce + sealed).decode()}"
            return self._answer(request, 200, {"data": {"ciphertext": ciphertext}})
        if request.method == "POST" and path == "/v1/transit/decrypt/streha":
            _, version, blob = body["ciphertext"].split(":", 2)
            raw = base64.b64decode(blob)
            try:
                plain = AESGCM(self.versions[int(version[1:])]).decrypt(raw[:12], raw[12:], aad)
            except InvalidTag:
                return self._answer(
                    request, 400, {"errors": ["cipher: message authentication failed"]}
                )
            return self._answer(request, 200, {"data": {"plaintext": _b64(plain)}})
        return self._answer(request, 404, {"errors": []})

    def close(self):
        pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def fake_vault(monkeypatch, tmp_path):
    transit = FakeTransit()

    def make_client(url, token, verify, namespace):
        session = requests.Session()
        session.mount(VAULT_URL, transit)
        return hvac.Client(url=url, token=token, verify=verify, session=session)

    token_file = tmp_path / "vault-token"
    token_file.write_text(TOKEN + "\n")
    monkeypatch.setattr(vault, "make_client", make_client)
    monkeypatch.setenv("STREHA_KMS", "vault")
    monkeypatch.setenv("STREHA_VAULT_ADDR", VAULT_URL)
    monkeypatch.setenv("STREHA_VAULT_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("STREHA_BLIND_INDEX_KEY", fixed_key(9))
    monkeypatch.setenv("STREHA_MASTER_KEY_FILE", str(tmp_path / "absent.json"))
    keys.reset_keyring()
    yield transit
    keys.reset_keyring()


def test_the_adapter_speaks_vaults_transit_api(fake_vault):
    ring = keys.load_keyring()
    assert isinstance(ring, vault.VaultTransitKeyring)
    assert ring.current_id == "vault-1"
    data_key = keys.new_key()
    key_id, blob = ring.wrap_bound(data_key, "people.person|42")
    assert key_id == "vault-1"
    assert ring.unwrap_bound(key_id, blob, "people.person|42") == data_key
    with pytest.raises(keys.DataKeyIntegrityError):
        ring.unwrap_bound(key_id, blob, "people.person|43")  # Vault checks the binding
    method, path, body = fake_vault.calls[1]
    assert (method, path) == ("POST", "/v1/transit/encrypt/streha")
    assert body == {
        "plaintext": _b64(data_key),
        "associated_data": _b64(b"people.person|42"),
    }
    assert fake_vault.calls[2][1] == "/v1/transit/decrypt/streha"
    assert fake_vault.calls[2][2]["ciphertext"] == f"vault:v1:{blob}"
    assert data_key not in json.dumps(fake_vault.calls[2][2]).encode()


@pytest.mark.django_db
def test_records_are_sealed_under_vault_and_rotation_in_vault_rewraps_them(fake_vault):
    person = PersonFactory(given_name="Qendresa", personal_number="2233445566")
    row = Person.objects.get(pk=person.pk)
    assert row.data_key.startswith("v2|vault-1|1|")
    assert row.given_name == "Qendresa"

    fake_vault.rotate()
    keys.reset_keyring()
    assert services.rewrap_all() == 1
    row = Person.objects.get(pk=person.pk)
    assert row.data_key.startswith("v2|vault-2|1|")
    assert row.given_name == "Qendresa"

    # A row copied onto another is refused by Vault, as with local keys.
    decoy = PersonFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET data_key = %s WHERE id = %s", [row.data_key, decoy.pk]
        )
    with pytest.raises(keys.DataKeyIntegrityError):
        Person.objects.get(pk=decoy.pk).given_name  # noqa: B018


def test_vault_needs_its_address_and_token(fake_vault, monkeypatch):
    monkeypatch.delenv("STREHA_VAULT_TOKEN_FILE")
    with pytest.raises(Exception, match="STREHA_VAULT_ADDR and STREHA_VAULT_TOKEN_FILE"):
        keys.load_keyring()
    monkeypatch.setenv("STREHA_KMS", "cloudkms")
    with pytest.raises(Exception, match="not supported"):
        keys.load_keyring()
