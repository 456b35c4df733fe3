"""Master keys: where they come from, which one is current, and wrapping data keys with them.

Every protected record has its own random data key (DEK). The DEK is stored only wrapped
(AES key wrap, RFC 3394) by a master key, next to the id of the master key used. Rotating the
master key therefore re-wraps 32-byte keys, never re-encrypts the data.

Master keys come from one of:
- ``STREHA_MASTER_KEYS``: ``id1:base64key,id2:base64key`` (the last one is current);
- ``STREHA_MASTER_KEY_FILE``: a JSON key file ``{"current": id, "keys": {id: base64key},
  "index_key": base64key}`` (default ``var/keys/master-keys.json``, created in development).

A KMS can replace this behind the same small interface (``Keyring``): ``current_id``,
``wrap``, ``unwrap`` and ``index_key``.
"""

import base64
import json
import os
import secrets
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
# How often a running process looks for a rotated key file (a miss on an unknown key id
# re-reads it at once).
RELOAD_SECONDS = 30


class KeyringError(Exception):
    pass


class UnknownMasterKey(KeyringError):
    def __init__(self, key_id: str):
        super().__init__(f"Master key {key_id!r} is not in the keyring.")


class DataKeyIntegrityError(KeyringError):
    pass


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


class Keyring:
    """Master keys held by this process."""

    def __init__(self, keys: dict[str, bytes], current_id: str, index_key: bytes):
        if current_id not in keys:
            raise ImproperlyConfigured("The current master key id is not among the keys.")
        self.keys = keys
        self.current_id = current_id
        self.index_key = index_key

    def wrap(self, data_key: bytes) -> str:
        wrapped = aes_key_wrap(self.keys[self.current_id], data_key)
        return f"{self.current_id}:{base64.b64encode(wrapped).decode()}"

    def unwrap(self, stored: str) -> bytes:
        key_id, _, wrapped = stored.partition(":")
        master = self.keys.get(key_id)
        if master is None:
            raise UnknownMasterKey(key_id)
        try:
            return aes_key_unwrap(master, base64.b64decode(wrapped))
        except (InvalidUnwrap, ValueError):
            raise DataKeyIntegrityError(
                "A wrapped data key failed its integrity check (tampered or wrong master key)."
            ) from None


def key_id_of(stored: str) -> str:
    return stored.partition(":")[0]


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


def create_key_file(path: Path) -> dict:
    key_id = time.strftime("k%Y%m%d%H%M%S")
    content = {
        "current": key_id,
        "keys": {key_id: base64.b64encode(new_key()).decode()},
        "index_key": base64.b64encode(new_key()).decode(),
    }
    write_key_file(path, content)
    return content


def _keyring_from_file(content: dict, source: str) -> Keyring:
    try:
        keys = {
            key_id: _b64decode_key(value, f"Key {key_id} in {source}")
            for key_id, value in content["keys"].items()
        }
        index_key = _b64decode_key(content["index_key"], f"index_key in {source}")
        return Keyring(keys, content["current"], index_key)
    except KeyError as missing:
        raise ImproperlyConfigured(f"{source} lacks {missing}.") from None


def keys_from_environment() -> bool:
    return bool(os.environ.get("STREHA_MASTER_KEYS", "").strip())


def load_keyring() -> Keyring:
    from_env = os.environ.get("STREHA_MASTER_KEYS", "").strip()
    if from_env:
        keys = {}
        for item in from_env.split(","):
            key_id, _, value = item.strip().partition(":")
            keys[key_id] = _b64decode_key(value, f"Master key {key_id} in STREHA_MASTER_KEYS")
        index_raw = os.environ.get("STREHA_BLIND_INDEX_KEY", "")
        if not index_raw:
            raise ImproperlyConfigured(
                "STREHA_BLIND_INDEX_KEY must be set with STREHA_MASTER_KEYS."
            )
        index_key = _b64decode_key(index_raw, "STREHA_BLIND_INDEX_KEY")
        return Keyring(keys, list(keys)[-1], index_key)
    path = key_file_path()
    if not path.exists() and not settings.PRODUCTION:
        # Development and tests: a fresh random key file under var/. Production must bring its own.
        create_key_file(path)
    return _keyring_from_file(read_key_file(path), str(path))


class _KeyringHolder:
    """The process's keyring, re-read when the key file changes (rotation while running)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keyring: Keyring | None = None
        self._checked = 0.0
        self._mtime: float | None = None

    def _file_mtime(self) -> float | None:
        if os.environ.get("STREHA_MASTER_KEYS"):
            return None
        try:
            return key_file_path().stat().st_mtime
        except FileNotFoundError:
            return None

    def get(self, force: bool = False) -> Keyring:
        now = time.monotonic()
        if self._keyring is not None and not force and now - self._checked < RELOAD_SECONDS:
            return self._keyring
        with self._lock:
            mtime = self._file_mtime()
            if self._keyring is None or force or mtime != self._mtime:
                self._keyring = load_keyring()
                self._mtime = self._file_mtime()
            self._checked = now
            return self._keyring

    def reset(self) -> None:
        with self._lock:
            self._keyring = None
            self._mtime = None


_holder = _KeyringHolder()


def keyring() -> Keyring:
    return _holder.get()


def unwrap(stored: str) -> bytes:
    try:
        return _holder.get().unwrap(stored)
    except UnknownMasterKey:
        # Another process may just have rotated: read the key file again before giving up.
        return _holder.get(force=True).unwrap(stored)


def reset_keyring() -> None:
    _holder.reset()
