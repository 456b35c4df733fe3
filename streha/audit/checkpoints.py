"""Signed checkpoints of the audit chain, kept where the database administrator cannot write.

The chain alone catches an edit but not a consistent rewrite: whoever can write the tables can
recompute every later hash and move the head (or cut the tail and move the head back). A
checkpoint pins the chain from outside: the position, hash and time of the last event, signed
with an Ed25519 key the database never holds (a file beside the master key file, configurable),
appended to a witness outside the database (by default an append-only file in a directory on the
application host, ``STREHA_AUDIT_CHECKPOINT_DIR``). ``streha audit verify`` checks the chain
against every checkpoint: a rewound head, a truncated tail or a rewritten event fails.

Checkpoints are made by ``periodic_checkpoint()`` (``streha audit checkpoint``, run by the job
worker or cron every minute): when ``STREHA_AUDIT_CHECKPOINT_EVERY`` events were added since the
last one, or ``STREHA_AUDIT_CHECKPOINT_MINUTES`` have passed and the chain moved. Before signing,
the events since the last checkpoint are verified, so a tampered chain is never signed.

Each checkpoint line also carries the hash of the line before it, so removing or reordering
lines in the witness is detected too. What it does not defend against: someone who holds the
signing key *and* can write the witness (keep the witness on another host, a write-once bucket
or a remote service: implement ``Witness`` and name it in ``STREHA_AUDIT_WITNESS``).
"""

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from streha.audit import chain

ZERO = "0" * 64
FILE_NAME = "checkpoints.jsonl"


class CheckpointError(Exception):
    """The checkpoints cannot be trusted, or the chain does not match them."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    time: str  # UTC, ISO 8601
    key_id: str
    prev: str  # SHA-256 of the previous checkpoint's line (ZERO for the first)
    signature: str = ""

    def signed_part(self) -> bytes:
        fields = asdict(self)
        del fields["signature"]
        return chain.canonical_json(fields).encode()

    def line(self) -> str:
        return chain.canonical_json(asdict(self))

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.time)


# --- Keys ---------------------------------------------------------------------------------------


def signing_key_path() -> Path:
    """``STREHA_AUDIT_SIGNING_KEY_FILE``, else ``audit-signing-key.pem`` beside the master key
    file: on the application host, never in the database."""
    configured = getattr(settings, "STREHA_AUDIT_SIGNING_KEY_FILE", "")
    if configured:
        return Path(configured)
    from streha.protection.keys import key_file_path

    return key_file_path().parent / "audit-signing-key.pem"


def load_signing_key(*, create: bool = False) -> Ed25519PrivateKey:
    path = signing_key_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise CheckpointError(
                _("The audit signing key %(path)s does not exist.") % {"path": path}
            ) from None
        return _create_signing_key(path)
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(_("The audit signing key is not an Ed25519 key."))
    return key


def _create_signing_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: two processes creating the key at once must not end up with two keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_signing_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_raw(key)).hexdigest()[:16]


def verification_keys() -> dict[str, Ed25519PublicKey]:
    """Public keys checkpoints may be signed with: the signing key's, plus any listed in
    ``STREHA_AUDIT_VERIFY_KEYS`` (base64 of raw public keys: former keys, or the only keys on a
    machine that verifies without being able to sign)."""
    found: dict[str, Ed25519PublicKey] = {}
    for text in getattr(settings, "STREHA_AUDIT_VERIFY_KEYS", []):
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text))
        found[key_id_of(key)] = key
    if signing_key_path().exists():
        key = load_signing_key().public_key()
        found[key_id_of(key)] = key
    return found


# --- Witnesses ----------------------------------------------------------------------------------


class Witness(Protocol):
    """Somewhere outside the database that keeps checkpoint lines and never rewrites them."""

    def append(self, line: str) -> None: ...

    def lines(self) -> list[str]: ...


class DirectoryWitness:
    """Lines appended (O_APPEND, fsync) to ``checkpoints.jsonl`` in a directory.

    The service account only ever appends; make the file append-only for it too with
    ``chattr +a`` (as root), or mount the directory from a host or bucket the database
    administrators cannot reach.
    """

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory or settings.STREHA_AUDIT_CHECKPOINT_DIR)

    @property
    def path(self) -> Path:
        return self.directory / FILE_NAME

    def append(self, line: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def lines(self) -> list[str]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if line.strip()]

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One checkpoint writer at a time (the worker and a cron job may overlap)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def witness() -> Witness:
    return import_string(settings.STREHA_AUDIT_WITNESS)()


@contextmanager
def _writer_lock(target: Witness) -> Iterator[None]:
    lock = getattr(target, "lock", None)
    if lock is None:
        yield
    else:
        with lock():
            yield


# --- Reading and checking checkpoints ----------------------------------------------------------


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def read_checkpoints(target: Witness | None = None) -> list[Checkpoint]:
    """Every checkpoint in the witness, each signature and link checked; else CheckpointError."""
    target = target or witness()
    keys = None
    result: list[Checkpoint] = []
    prev = ZERO
    for number, line in enumerate(target.lines(), start=1):
        try:
            checkpoint = Checkpoint(**json.loads(line))
            signature = base64.b64decode(checkpoint.signature, validate=True)
            int(checkpoint.seq)
        except (ValueError, TypeError) as error:
            raise CheckpointError(
                _("Checkpoint line %(number)s is damaged.") % {"number": number}
            ) from error
        if keys is None:
            keys = verification_keys()
        key = keys.get(checkpoint.key_id)
        if key is None:
            raise CheckpointError(
                _("Checkpoint line %(number)s is signed with an unknown key %(key)s.")
                % {"number": number, "key": checkpoint.key_id}
            )
        try:
            key.verify(signature, checkpoint.signed_part())
        except InvalidSignature:
            raise CheckpointError(
                _("Checkpoint line %(number)s has an invalid signature.") % {"number": number}
            ) from None
        if checkpoint.prev != prev:
            raise CheckpointError(
                _("Checkpoint line %(number)s does not follow the line before it.")
                % {"number": number}
            )
        if result and checkpoint.seq < result[-1].seq:
            raise CheckpointError(
                _("Checkpoint line %(number)s goes back in the chain.") % {"number": number}
            )
        result.append(checkpoint)
        prev = _line_hash(line)
    return result


def anchors(checkpoints: list[Checkpoint]) -> dict[int, str]:
    """Positions and hashes the chain must still have (for ``services.verify_chain``)."""
    found: dict[int, str] = {}
    for checkpoint in checkpoints:
        if found.get(checkpoint.seq, checkpoint.hash) != checkpoint.hash:
            raise CheckpointError(
                _("Two checkpoints give event %(seq)s different hashes.") % {"seq": checkpoint.seq}
            )
        found[checkpoint.seq] = checkpoint.hash
    return found


# --- Making checkpoints -------------------------------------------------------------------------


def checkpoint_due(latest: Checkpoint | None, head_seq: int, now: datetime) -> bool:
    """Every N events, or every M minutes if the chain moved since the last checkpoint."""
    if head_seq == 0:
        return False
    if latest is None:
        return True
    moved = head_seq - latest.seq
    if moved <= 0:
        return False
    if moved >= settings.STREHA_AUDIT_CHECKPOINT_EVERY:
        return True
    minutes = timedelta(minutes=settings.STREHA_AUDIT_CHECKPOINT_MINUTES)
    return now - latest.moment >= minutes


def overdue(latest: Checkpoint | None, head_seq: int, now: datetime) -> bool:
    """True when a checkpoint should have been made twice over: the worker is not running, or
    the newest checkpoint lines were removed from the witness (which links alone cannot show)."""
    if latest is None or head_seq <= latest.seq:
        return False
    if head_seq - latest.seq >= 2 * settings.STREHA_AUDIT_CHECKPOINT_EVERY:
        return True
    return now - latest.moment >= timedelta(minutes=2 * settings.STREHA_AUDIT_CHECKPOINT_MINUTES)


def make_checkpoint(*, force: bool = False, target: Witness | None = None) -> Checkpoint | None:
    """Verify the events since the last checkpoint, then sign and append a new checkpoint.

    Returns None when nothing is due (unless ``force``: then a checkpoint is written whenever
    the log is not empty, e.g. to prove the chain still ends where it did at a given time).
    Raises CheckpointError if the chain does not continue the last checkpoint.
    """
    from streha.audit import services

    target = target or witness()
    with _writer_lock(target):
        existing = read_checkpoints(target)
        latest = existing[-1] if existing else None
        head = services.chain_head()
        head_seq = head.last_seq if head is not None else 0
        now = timezone.now()
        if head_seq == 0 and latest is None:
            return None
        if not force and not checkpoint_due(latest, head_seq, now):
            return None
        start = (latest.seq, latest.hash) if latest else None
        report = services.verify_chain(start=start, anchors=anchors(existing))
        if not report.ok:
            raise CheckpointError(
                _("Audit chain broken at event #%(seq)s: %(reason)s")
                % {"seq": report.first_broken_seq, "reason": report.reason}
            )
        key = load_signing_key(create=True)
        lines = target.lines()
        last_seq = (latest.seq if latest else 0) + report.checked
        unsigned = Checkpoint(
            seq=last_seq,
            hash=report.last_hash,
            time=chain.utc_iso(now),
            key_id=key_id_of(key.public_key()),
            prev=_line_hash(lines[-1]) if lines else ZERO,
        )
        signature = base64.b64encode(key.sign(unsigned.signed_part())).decode()
        checkpoint = Checkpoint(**{**asdict(unsigned), "signature": signature})
        target.append(checkpoint.line())
        return checkpoint


def periodic_checkpoint() -> Checkpoint | None:
    """What the job worker (or cron) runs every minute: a checkpoint if one is due."""
    return make_checkpoint()
