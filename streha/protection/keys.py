"""Master keys: where they come from, which one is current, and wrapping data keys with them.

Every protected record has its own random data key (DEK). The DEK is stored only wrapped by a
master key, in the record's *envelope* (its ``data_key`` column)::

    v2|<master key id>|<record version>|<wrapped DEK>

The wrapping is bound to the record (model and primary key): an envelope copied onto another
row does not unwrap. The record version advances with every write of the record and is part of
every field's associated data (``crypto.associated_data``), so an older ciphertext put back into
one column no longer opens. Rotating the master key re-wraps 32-byte keys, never the data.
The first format (``<master key id>:<AES key wrap of the DEK>``, not bound to the record) is
read while ``legacy_v1`` allows it; ``streha keys rewrap`` upgrades such records and then
turns ``legacy_v1`` off in the key file. ``SHREDDED`` marks a record whose DEK was destroyed.

Master keys come from one of:
- ``STREHA_MASTER_KEYS``: ``id1:base64key,id2:base64key`` (the last one is current);
- ``STREHA_MASTER_KEY_FILE``: a JSON key file ``{"current": id, "keys": {id: base64key},
  "index_key": base64key, "disabled": {id: iso time}, "legacy_v1": false}`` (default
  ``var/keys/master-keys.json``, created in development);
- ``STREHA_KMS=vault``: HashiCorp Vault's transit engine (``vault.VaultTransitKeyring``); the
  master key never leaves Vault.

Every source offers the same small interface: ``current_id``, ``knows``, ``wrap_bound``,
``unwrap_bound``, ``index_key`` (the root of the blind-index keys, always held locally),
``disabled`` and ``legacy_v1``.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
# How often a running process looks for a rotated key file (a miss on an unknown key id
# re-reads it at once). ``streha keys retire`` waits longer than this between its two steps.
RELOAD_SECONDS = 30
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
SHREDDED = "shredded"


class KeyringError(Exception):
    pass


class UnknownMasterKey(KeyringError):
    def __init__(self, key_id: str):
        super().__init__(f"Master key {key_id!r} is not in the keyring.")


class DataKeyIntegrityError(KeyringError):
    pass


class DataKeyShredded(KeyringError):
    """The record's data key was destroyed (crypto-shredding): its ciphertexts are gone."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _b64decode_key(value: str, what: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{what} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{what} must be {KEY_BYTES} bytes (base64 of 32 random bytes).")
    return key


def _check_key_id(key_id: str, source: str) -> str:
    if not KEY_ID.match(key_id):
        raise ImproperlyConfigured(
            f"Master key id {key_id!r} in {source}: use 1-40 letters, digits, '.', '_' or '-'."
        )
    return key_id


# --- Envelopes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """A record's wrapped data key as stored: format, master key id, record version, blob."""

    fmt: int
    key_id: str
    version: int
    blob: str

    def encode(self) -> str:
        return f"v2|{self.key_id}|{self.version}|{self.blob}"

    @property
    def shredded(self) -> bool:
        return self.fmt == 0


SHREDDED_ENVELOPE = Envelope(0, "", 0, "")


def parse_envelope(stored: str) -> Envelope | None:
    """The envelope in a ``data_key`` column; None when the record has no data key yet."""
    if not stored:
        return None
    if stored == SHREDDED:
        return SHREDDED_ENVELOPE
    if stored.startswith("v2|"):
        parts = stored.split("|")
        if len(parts) == 4 and parts[2].isdigit() and parts[1] and parts[3]:
            return Envelope(2, parts[1], int(parts[2]), parts[3])
        raise DataKeyIntegrityError("A record's envelope is malformed.")
    key_id, _, blob = stored.partition(":")
    if not key_id or not blob:
        raise DataKeyIntegrityError("A record's envelope is malformed.")
    return Envelope(1, key_id, 0, blob)


def key_id_of(stored: str) -> str:
    envelope = parse_envelope(stored)
    return envelope.key_id if envelope else ""


# --- The local keyring --------------------------------------------------------------------------


class Keyring:
    """Master keys held by this process (from the key file or the environment)."""

    kind = "local"

    def __init__(
        self,
        keys: dict[str, bytes],
        current_id: str,
        index_key: bytes,
        *,
        disabled: dict[str, str] | None = None,
        legacy_v1: bool = False,
    ):
        if current_id not in keys:
            raise ImproperlyConfigured("The current master key id is not among the keys.")
        self.keys = keys
        self.current_id = current_id
        self.index_key = index_key
        self.disabled = dict(disabled or {})
        self.legacy_v1 = legacy_v1
        if current_id in self.disabled:
            raise ImproperlyConfigured("The current master key is disabled.")

    def knows(self, key_id: str) -> bool:
        return key_id in self.keys

    def _kek(self, key_id: str, binding: str) -> bytes:
        """A key-encryption key for one record, derived from the master key and the binding."""
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"streha/dek|{binding}".encode()
        ).derive(self.keys[key_id])

    def wrap_bound(self, data_key: bytes, binding: str) -> tuple[str, str]:
        """Wrap a data key under the current master key, bound to ``binding`` (the record)."""
        wrapped = aes_key_wrap(self._kek(self.current_id, binding), data_key)
        return self.current_id, base64.b64encode(wrapped).decode()

    def unwrap_bound(self, key_id: str, blob: str, binding: str) -> bytes:
        if key_id not in self.keys:
            raise UnknownMasterKey(key_id)
        return _unwrap_with(self._kek(key_id, binding), blob)

    def bound_unwrapper(self) -> Callable[[str, str, str], bytes]:
        """``unwrap_bound`` for the many records of one bulk read: the same keys, results and
        errors. ``_kek`` is HKDF-SHA256 without salt (RFC 5869): its extract step depends only
        on the master key, so it is done once per master key here, and each record pays the
        one HMAC of the expand step (``test_bulk_open``: equal to ``_kek`` byte for byte)."""
        extracted: dict[str, hmac.HMAC] = {}

        def unwrap(key_id: str, blob: str, binding: str) -> bytes:
            prk = extracted.get(key_id)
            if prk is None:
                if key_id not in self.keys:
                    raise UnknownMasterKey(key_id)
                prk = hmac.new(
                    hmac.digest(bytes(KEY_BYTES), self.keys[key_id], "sha256"),
                    digestmod=hashlib.sha256,
                )
                extracted[key_id] = prk
            expand = prk.copy()
            expand.update(f"streha/dek|{binding}".encode() + b"\x01")
            return _unwrap_with(expand.digest(), blob)

        return unwrap

    # The first format: AES key wrap with the master key itself, not bound to the record.
    def unwrap_legacy(self, key_id: str, blob: str) -> bytes:
        if key_id not in self.keys:
            raise UnknownMasterKey(key_id)
        try:
            return aes_key_unwrap(self.keys[key_id], base64.b64decode(blob))
        except (InvalidUnwrap, ValueError):
            raise DataKeyIntegrityError(
                "A wrapped data key failed its integrity check (tampered or wrong master key)."
            ) from None

    def wrap_legacy(self, data_key: bytes) -> str:
        """Only to build first-format records in tests of the upgrade."""
        wrapped = aes_key_wrap(self.keys[self.current_id], data_key)
        return f"{self.current_id}:{base64.b64encode(wrapped).decode()}"


def _unwrap_with(kek: bytes, blob: str) -> bytes:
    try:
        return aes_key_unwrap(kek, base64.b64decode(blob))
    except (InvalidUnwrap, ValueError):
        raise DataKeyIntegrityError(
            "A wrapped data key failed its integrity check "
            "(tampered, copied from another record, or wrong master key)."
        ) from None


# --- Loading ------------------------------------------------------------------------------------


def key_file_path() -> Path:
    configured = os.environ.get("STREHA_MASTER_KEY_FILE")
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "keys" / "master-keys.json"


def read_key_file(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ImproperlyConfigured(f"Master key file {path} does not exist.") from None
    except json.JSONDecodeError:
        raise ImproperlyConfigured(f"Master key file {path} is not valid JSON.") from None


def write_key_file(path: Path, content: dict) -> None:
    """Write atomically with owner-only permissions: a half-written key file loses data."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def new_key_id(existing) -> str:
    key_id = time.strftime("k%Y%m%d%H%M%S")
    while key_id in existing:
        key_id += "x"
    return key_id


def create_key_file(path: Path) -> dict:
    key_id = new_key_id(())
    content = {
        "current": key_id,
        "keys": {key_id: base64.b64encode(new_key()).decode()},
        "index_key": base64.b64encode(new_key()).decode(),
        "disabled": {},
        "legacy_v1": False,
    }
    write_key_file(path, content)
    return content


def _keyring_from_file(content: dict, source: str) -> Keyring:
    try:
        keys = {
            _check_key_id(key_id, source): _b64decode_key(value, f"Key {key_id} in {source}")
            for key_id, value in content["keys"].items()
        }
        index_key = _b64decode_key(content["index_key"], f"index_key in {source}")
        return Keyring(
            keys,
            content["current"],
            index_key,
            disabled=content.get("disabled", {}),
            # A key file written before the second format says nothing: old records may exist.
            legacy_v1=bool(content.get("legacy_v1", True)),
        )
    except KeyError as missing:
        raise ImproperlyConfigured(f"{source} lacks {missing}.") from None


def keys_from_environment() -> bool:
    return bool(os.environ.get("STREHA_MASTER_KEYS", "").strip())


def index_key_from_environment() -> bytes:
    index_raw = os.environ.get("STREHA_BLIND_INDEX_KEY", "")
    if not index_raw:
        raise ImproperlyConfigured(
            "STREHA_BLIND_INDEX_KEY must be set with STREHA_MASTER_KEYS or STREHA_KMS."
        )
    return _b64decode_key(index_raw, "STREHA_BLIND_INDEX_KEY")


def load_local_keyring() -> Keyring:
    from_env = os.environ.get("STREHA_MASTER_KEYS", "").strip()
    if from_env:
        keys = {}
        for item in from_env.split(","):
            key_id, _, value = item.strip().partition(":")
            _check_key_id(key_id, "STREHA_MASTER_KEYS")
            keys[key_id] = _b64decode_key(value, f"Master key {key_id} in STREHA_MASTER_KEYS")
        return Keyring(
            keys,
            list(keys)[-1],
            index_key_from_environment(),
            legacy_v1=os.environ.get("STREHA_LEGACY_V1", "") == "1",
        )
    path = key_file_path()
    if not path.exists() and not settings.PRODUCTION:
        # Development and tests: a fresh random key file under var/. Production must bring its own.
        create_key_file(path)
    return _keyring_from_file(read_key_file(path), str(path))


def load_keyring():
    """The configured key source: a KMS when ``STREHA_KMS`` names one, else local keys."""
    kms = os.environ.get("STREHA_KMS", "").strip().lower()
    if kms == "vault":
        from streha.protection.vault import keyring_from_environment

        return keyring_from_environment()
    if kms:
        raise ImproperlyConfigured(f"STREHA_KMS={kms!r} is not supported (use 'vault').")
    return load_local_keyring()


class _KeyringHolder:
    """The process's keyring, re-read when the key file changes (rotation while running)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keyring = None
        self._checked = 0.0
        self._mtime: float | None = None

    def _file_mtime(self) -> float | None:
        if os.environ.get("STREHA_MASTER_KEYS") or os.environ.get("STREHA_KMS"):
            return None
        try:
            return key_file_path().stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def get(self, force: bool = False):
        now = time.monotonic()
        if self._keyring is not None and not force and now - self._checked < RELOAD_SECONDS:
            return self._keyring
        with self._lock:
            mtime = self._file_mtime()
            if (
                self._keyring is None
                or force
                or mtime != self._mtime
                or getattr(self._keyring, "kind", "") != "local"  # a KMS: ask again for its state
            ):
                self._keyring = load_keyring()
                self._mtime = self._file_mtime()
            self._checked = now
            return self._keyring

    def reset(self) -> None:
        with self._lock:
            self._keyring = None
            self._mtime = None


_holder = _KeyringHolder()


def keyring(force: bool = False):
    return _holder.get(force=force)


def reset_keyring() -> None:
    _holder.reset()


def unwrap_envelope(envelope: Envelope, binding: str) -> bytes:
    """The data key in ``envelope``; ``binding`` names the record the envelope must belong to."""
    if envelope.shredded:
        raise DataKeyShredded("This record's data key was destroyed.")
    ring = keyring()
    if not ring.knows(envelope.key_id):
        # Another process may just have rotated: read the key source again before giving up.
        ring = keyring(force=True)
    if envelope.fmt == 1:
        if not ring.legacy_v1:
            raise DataKeyIntegrityError(
                "A first-format envelope was found after every record was upgraded "
                "(an old row or a copy of one was put back)."
            )
        return ring.unwrap_legacy(envelope.key_id, envelope.blob)
    return ring.unwrap_bound(envelope.key_id, envelope.blob, binding)


def envelope_unwrapper() -> Callable[[Envelope, str], bytes]:
    """``unwrap_envelope`` for the many records of one bulk read (``bulk_open``): the same
    checks, results and errors, with a local keyring's per-master-key work done once. A
    keyring that is not local (a KMS) unwraps each record as ``unwrap_envelope`` does."""
    unwrappers: dict[int, tuple[object, Callable[[str, str, str], bytes]]] = {}

    def unwrap(envelope: Envelope, binding: str) -> bytes:
        if envelope.fmt != 2:
            return unwrap_envelope(envelope, binding)  # shredded or first format: as ever
        ring = keyring()
        if not ring.knows(envelope.key_id):
            ring = keyring(force=True)
        if not isinstance(ring, Keyring):
            return ring.unwrap_bound(envelope.key_id, envelope.blob, binding)
        held = unwrappers.get(id(ring))
        if held is None or held[0] is not ring:
            held = (ring, ring.bound_unwrapper())
            unwrappers.clear()  # a re-read keyring (rotation): the old one is not used again
            unwrappers[id(ring)] = held
        return held[1](envelope.key_id, envelope.blob, binding)

    return unwrap


def current_keyring_for(key_id: str):
    """The keyring to wrap with, re-read first when ``key_id`` (the record's) is not current:
    a process that has not yet noticed a rotation must not wrap under the old key again."""
    ring = keyring()
    if key_id and key_id != ring.current_id:
        ring = keyring(force=True)
    return ring
