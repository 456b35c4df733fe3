"""The shred ledger: which records' data keys were destroyed, kept outside the database.

Crypto-shredding (``services.shred_data_key``) destroys a record's data key in the database,
but a backup made before still holds the wrapped key, which the master key unwraps: restoring
it would bring the identity back. So every shredding is also appended, once its transaction has
committed, to a ledger file beside the audit checkpoints (``STREHA_SHRED_LEDGER_FILE``, default
``shredded.jsonl`` in ``STREHA_AUDIT_CHECKPOINT_DIR``): one line per record, ids only (model
label and primary key, never personal data), each line signed with the audit signing key and
linked to the one before (a hash), so a removed, edited or reordered line is refused.

``streha restore`` replays the ledger (``replay``) before it reports the restored database
ready: every record named there has its data key destroyed again. A restore cannot skip it:
the backup's manifest records how many lines the ledger had (``state``), and a restore whose
ledger is missing, shorter, rewritten or unsigned is refused (``LedgerError``).

What it does not do: a master key rotation after shredding (``streha keys rotate``, re-wrap,
``retire``) is what makes the old wrapped key useless cryptographically; the ledger only
guarantees that a restore through Streha re-destroys it. Someone restoring a dump by hand with
the master key can still read it until that rotation.
"""

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from django.apps import apps
from django.conf import settings
from django.db import models, transaction

FILE_NAME = "shredded.jsonl"
ZERO = "0" * 64


class LedgerError(Exception):
    """The ledger is damaged, unsigned, shorter than a backup says, or cannot be replayed."""


@dataclass(frozen=True)
class Entry:
    model: str
    id: int
    at: str
    prev: str
    key_id: str
    signature: str = ""

    def signed_part(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def ledger_path() -> Path:
    configured = getattr(settings, "STREHA_SHRED_LEDGER_FILE", "")
    if configured:
        return Path(configured)
    return Path(settings.STREHA_AUDIT_CHECKPOINT_DIR) / FILE_NAME


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def _lines(path: Path | None = None) -> list[str]:
    try:
        text = (path or ledger_path()).read_text()
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if line.strip()]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _append(label: str, pk: int) -> None:
    from streha.audit import checkpoints

    key = checkpoints.load_signing_key(create=True)
    path = ledger_path()
    with _locked(path):
        lines = _lines(path)
        entry = Entry(
            model=label,
            id=int(pk),
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            prev=_line_hash(lines[-1]) if lines else ZERO,
            key_id=checkpoints.key_id_of(key.public_key()),
        )
        signature = base64.b64encode(key.sign(entry.signed_part())).decode()
        line = json.dumps({**asdict(entry), "signature": signature}, sort_keys=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


def record(instance: models.Model) -> None:
    """Append ``instance``'s shredding once the transaction commits (a rolled-back
    anonymisation must never be replayed onto a live record)."""
    label, pk = instance._meta.label_lower, instance.pk
    transaction.on_commit(lambda: _append(label, pk))


def read(path: Path | None = None) -> list[Entry]:
    """Every entry, each signature and link checked; else ``LedgerError``."""
    from streha.audit import checkpoints

    keys = None
    entries: list[Entry] = []
    prev = ZERO
    for number, line in enumerate(_lines(path), start=1):
        try:
            entry = Entry(**json.loads(line))
            signature = base64.b64decode(entry.signature, validate=True)
        except (ValueError, TypeError) as error:
            raise LedgerError(f"Shred ledger line {number} is damaged.") from error
        if keys is None:
            keys = checkpoints.verification_keys()
        key = keys.get(entry.key_id)
        try:
            if key is None:
                raise InvalidSignature
            key.verify(signature, entry.signed_part())
        except InvalidSignature:
            raise LedgerError(f"Shred ledger line {number} is not validly signed.") from None
        if entry.prev != prev:
            raise LedgerError(f"Shred ledger line {number} does not follow the line before it.")
        entries.append(entry)
        prev = _line_hash(line)
    return entries


def state() -> dict:
    """What a backup's manifest records: how many lines, and the hash of the last."""
    lines = _lines()
    read()  # a damaged ledger fails the backup, not the restore months later
    return {"entries": len(lines), "head": _line_hash(lines[-1]) if lines else ZERO}


def check_covers(recorded: dict | None) -> list[Entry]:
    """The ledger's entries, refused unless it holds at least every line it held when the
    backup was made (``recorded``, from its manifest)."""
    entries = read()
    if not recorded:
        return entries
    count = int(recorded.get("entries", 0))
    lines = _lines()
    if len(lines) < count:
        raise LedgerError(
            f"The shred ledger {ledger_path()} holds {len(lines)} entries; the backup was made "
            f"when it held {count}. Restore the ledger (kept beside the audit checkpoints) first."
        )
    if count and _line_hash(lines[count - 1]) != recorded.get("head"):
        raise LedgerError("The shred ledger was rewritten since the backup was made.")
    return entries


def missing_from_ledger() -> list[tuple[str, int]]:
    """Records shredded in the database but not in the ledger (a crash between the commit and
    the append): ``sync`` appends them."""
    from streha.protection import keys
    from streha.protection.models import ProtectedModel

    listed = {(entry.model, entry.id) for entry in read()}
    missing = []
    for model in apps.get_models():
        if not issubclass(model, ProtectedModel) or model._meta.proxy:
            continue
        label = model._meta.label_lower
        shredded = model._base_manager.filter(data_key=keys.SHREDDED).order_by("pk")
        missing += [(label, pk) for pk in shredded.values_list("pk", flat=True)]
    return [item for item in missing if item not in listed]


def sync() -> int:
    """Append every shredded record the ledger lacks; returns how many."""
    missing = missing_from_ledger()
    for label, pk in missing:
        _append(label, pk)
    return len(missing)


def replay(recorded: dict | None = None) -> int:
    """Destroy again the data key of every record the ledger names that still has one (after a
    restore). Returns how many were destroyed."""
    from streha.protection import keys
    from streha.protection.services import shred_data_key

    destroyed = 0
    for entry in check_covers(recorded):
        try:
            model = apps.get_model(entry.model)
        except LookupError as error:
            raise LedgerError(f"The shred ledger names an unknown model {entry.model}.") from error
        with transaction.atomic():
            found = model._base_manager.filter(pk=entry.id).exclude(data_key=keys.SHREDDED)
            record_ = found.select_for_update().first()
            if record_ is None:
                continue
            shred_data_key(record_, replayed=True)
            destroyed += 1
    return destroyed
