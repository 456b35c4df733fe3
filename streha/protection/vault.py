"""Master keys held by HashiCorp Vault's transit engine (``STREHA_KMS=vault``).

The master key never leaves Vault: each record's data key is sent to
``POST /v1/<mount>/encrypt/<key>`` with the record's binding as ``associated_data`` and comes
back as ``vault:v<N>:<base64>``; the envelope keeps ``vault-<N>`` as the master key id and the
base64 part as the blob. Unwrapping sends it back to ``/decrypt/<key>`` with the same associated
data, so Vault itself refuses an envelope copied onto another record. Rotation happens in Vault
(``vault write -f transit/keys/<key>/rotate``), followed by ``streha keys rewrap``; retiring an
old version is Vault's ``min_decryption_version``. The transit key must be of an AEAD type
(``aes256-gcm96``, Vault's default) for associated data to be accepted.

The blind-index root stays local (``STREHA_BLIND_INDEX_KEY`` or the key file's ``index_key``):
search computes an index per query and must not wait for the network. A local key file that
exists next to Vault is kept for unwrapping only, so records wrapped before the move are read
and moved into Vault by ``streha keys rewrap``.

Settings: ``STREHA_VAULT_ADDR`` (https://vault.internal:8200), ``STREHA_VAULT_TOKEN_FILE`` (a
file holding a token whose policy allows only ``read`` on ``<mount>/keys/<key>`` and
``update`` on ``<mount>/encrypt/<key>`` and ``<mount>/decrypt/<key>``), ``STREHA_VAULT_KEY``
(``streha``), ``STREHA_VAULT_MOUNT`` (``transit``), ``STREHA_VAULT_CA_FILE``,
``STREHA_VAULT_NAMESPACE``. Needs the optional dependency ``hvac`` (``streha[vault]``).
"""

import base64
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from streha.protection import keys

KEY_PREFIX = "vault-"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class VaultTransitKeyring:
    """The keyring interface (``keys.Keyring``) over one Vault transit key."""

    kind = "vault"

    def __init__(
        self,
        client,
        *,
        key_name: str,
        mount_point: str,
        index_key: bytes,
        fallback: keys.Keyring | None = None,
    ):
        self.client = client
        self.key_name = key_name
        self.mount_point = mount_point
        self.index_key = index_key
        self.fallback = fallback
        self.disabled: dict[str, str] = {}
        self.legacy_v1 = bool(fallback and fallback.legacy_v1)
        info = self._transit.read_key(name=key_name, mount_point=mount_point)["data"]
        self.latest = int(info["latest_version"])
        self.min_decryption = int(info.get("min_decryption_version") or 1)
        self.current_id = f"{KEY_PREFIX}{self.latest}"

    @property
    def _transit(self):
        return self.client.secrets.transit

    def _version(self, key_id: str) -> int | None:
        number = key_id.removeprefix(KEY_PREFIX)
        if key_id.startswith(KEY_PREFIX) and number.isdigit():
            return int(number)
        return None

    def knows(self, key_id: str) -> bool:
        version = self._version(key_id)
        if version is not None:
            return self.min_decryption <= version <= self.latest
        return bool(self.fallback and self.fallback.knows(key_id))

    def wrap_bound(self, data_key: bytes, binding: str) -> tuple[str, str]:
        response = self._transit.encrypt_data(
            name=self.key_name,
            plaintext=_b64(data_key),
            associated_data=_b64(binding.encode()),
            mount_point=self.mount_point,
        )
        prefix, version, blob = response["data"]["ciphertext"].split(":", 2)
        if prefix != "vault" or not version.startswith("v"):
            raise keys.KeyringError("Vault answered with an unexpected ciphertext format.")
        return f"{KEY_PREFIX}{version[1:]}", blob

    def unwrap_bound(self, key_id: str, blob: str, binding: str) -> bytes:
        import hvac.exceptions

        version = self._version(key_id)
        if version is None:
            if self.fallback is None:
                raise keys.UnknownMasterKey(key_id)
            return self.fallback.unwrap_bound(key_id, blob, binding)
        if not self.knows(key_id):
            raise keys.UnknownMasterKey(key_id)
        try:
            response = self._transit.decrypt_data(
                name=self.key_name,
                ciphertext=f"vault:v{version}:{blob}",
                associated_data=_b64(binding.encode()),
                mount_point=self.mount_point,
            )
        except hvac.exceptions.InvalidRequest:
            raise keys.DataKeyIntegrityError(
                "Vault refused a wrapped data key (tampered, or copied from another record)."
            ) from None
        return base64.b64decode(response["data"]["plaintext"])

    def unwrap_legacy(self, key_id: str, blob: str) -> bytes:
        if self.fallback is None:
            raise keys.UnknownMasterKey(key_id)
        return self.fallback.unwrap_legacy(key_id, blob)


def make_client(url: str, token: str, verify, namespace: str | None):
    """An hvac client (a function of its own so tests can hand it a transport)."""
    import hvac

    return hvac.Client(url=url, token=token, verify=verify, namespace=namespace, timeout=10)


def keyring_from_environment() -> VaultTransitKeyring:
    try:
        import hvac  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "STREHA_KMS=vault needs the optional dependency hvac: install streha[vault]."
        ) from None
    url = os.environ.get("STREHA_VAULT_ADDR", "").strip()
    token_file = os.environ.get("STREHA_VAULT_TOKEN_FILE", "").strip()
    if not url or not token_file:
        raise ImproperlyConfigured(
            "STREHA_KMS=vault needs STREHA_VAULT_ADDR and STREHA_VAULT_TOKEN_FILE."
        )
    try:
        token = Path(token_file).read_text().strip()
    except OSError:
        raise ImproperlyConfigured(f"The Vault token file {token_file} cannot be read.") from None
    fallback = None
    if keys.key_file_path().exists():
        fallback = keys._keyring_from_file(
            keys.read_key_file(keys.key_file_path()), str(keys.key_file_path())
        )
    index_key = (
        keys.index_key_from_environment()
        if os.environ.get("STREHA_BLIND_INDEX_KEY") or fallback is None
        else fallback.index_key
    )
    client = make_client(
        url,
        token,
        os.environ.get("STREHA_VAULT_CA_FILE") or True,
        os.environ.get("STREHA_VAULT_NAMESPACE") or None,
    )
    return VaultTransitKeyring(
        client,
        key_name=os.environ.get("STREHA_VAULT_KEY", "streha"),
        mount_point=os.environ.get("STREHA_VAULT_MOUNT", "transit"),
        index_key=index_key,
        fallback=fallback,
    )
