"""Encrypted, consistent online backups and restores into an empty database.

A backup is two files in the ``--out`` directory:

- ``streha-<UTC time>.tar.gz.age``: a tar archive encrypted with age (pyrage) to one or more
  backup recipients (public keys). It holds the database (``pg_dump --format=custom`` on
  PostgreSQL, a copy made with SQLite's online backup API on SQLite), the audit checkpoint
  witness files if there are any, and ``manifest.json``.
- ``streha-<UTC time>.json``: the same manifest in clear, without any data: the database vendor,
  the audit anchor (``seq:hash`` of the last event before the dump, for ``streha audit verify
  --anchor``) and the SHA-256 of the encrypted archive, so an operator can check a copy without
  the backup key.

Never in a backup: the master keys (``STREHA_MASTER_KEY_FILE``/``STREHA_MASTER_KEYS``) and the
audit signing key. The data in the dump stays encrypted by the master keys anyway; the archive
is encrypted a second time so that a stolen backup reveals neither ciphertext nor plaintext
columns (statistics, audit metadata). Keep the backup identity (age secret key) and the master
key file in two different places, each apart from the backups.

Both dumps are consistent while the system runs: pg_dump reads one snapshot (a repeatable-read
transaction); SQLite's backup API copies a consistent state of the file. Plaintext exists only
in a private temporary directory (mode 0700) beside the output, removed when done.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyrage
from django.conf import settings
from django.db import connection

from streha.protection import shred_ledger

FORMAT_VERSION = 1
DUMP_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """A backup or restore cannot go ahead; the message says what to fix."""


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    manifest: Path
    anchor: str | None


# --- Keys -------------------------------------------------------------------------------------


def generate_identity(path: Path) -> str:
    """Write a new age identity (secret key) to ``path`` (0600) and return its public recipient."""
    if path.exists():
        raise BackupError(f"{path} exists already; a backup key is never overwritten.")
    identity = pyrage.x25519.Identity.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"# public key: {identity.to_public()}\n{identity}\n")
    return str(identity.to_public())


def _recipients(given: list[str]) -> list:
    texts = list(given)
    path = settings.STREHA_BACKUP_RECIPIENTS_FILE
    if not texts and path:
        texts = [
            line.strip()
            for line in Path(path).read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
    if not texts:
        raise BackupError(
            "No backup recipient: pass --recipient age1... or set STREHA_BACKUP_RECIPIENTS_FILE."
        )
    try:
        return [pyrage.x25519.Recipient.from_str(text) for text in texts]
    except pyrage.RecipientError:
        raise BackupError("A backup recipient is not an age public key (age1...).") from None


def _identities(path: Path) -> list:
    lines = [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    try:
        return [pyrage.x25519.Identity.from_str(line) for line in lines]
    except pyrage.IdentityError:
        raise BackupError(f"{path} does not hold an age identity (AGE-SECRET-KEY-...).") from None


# --- What must never be archived --------------------------------------------------------------


def _secret_paths() -> list[Path]:
    from streha.protection import keys

    paths = [keys.key_file_path().resolve()]
    try:
        from streha.audit import checkpoints

        paths.append(checkpoints.signing_key_path().resolve())
    except (ImportError, AttributeError):
        pass
    return paths


def _checkpoint_files() -> list[Path]:
    directory = getattr(settings, "STREHA_AUDIT_CHECKPOINT_DIR", "")
    if not directory or not Path(directory).is_dir():
        return []
    secrets = _secret_paths()
    return sorted(
        path
        for path in Path(directory).glob("*.jsonl")
        if path.is_file() and path.resolve() not in secrets
    )


# --- Database dumps ---------------------------------------------------------------------------


def _vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")
    return connection.vendor


def _pg_environment() -> dict[str, str]:
    """libpq settings from DATABASES, passed by environment (never a password on a command line)."""
    database = settings.DATABASES["default"]
    environment = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if database.get(key):
            environment[variable] = str(database[key])
    return environment


def _pg_tool(name: str) -> str:
    directory = os.environ.get("STREHA_PG_BIN", "")
    return str(Path(directory) / name) if directory else name


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(  # noqa: S603 - fixed tool, arguments from settings
        command, env=_pg_environment(), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        # The tools' messages name objects, not row contents; keep the last lines for the operator.
        tail = "\n".join(completed.stderr.strip().splitlines()[-5:])
        raise BackupError(f"{what} failed (exit {completed.returncode}):\n{tail}")


def _dump(target: Path) -> None:
    if connection.vendor == "postgresql":
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "-f",
                str(target),
            ],
            "pg_dump",
        )
        return
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def _audit_anchor() -> str | None:
    from streha.audit.services import chain_head

    head = chain_head()
    if head is None or not head.last_seq:
        return None
    return f"{head.last_seq}:{head.last_hash}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_backup(out: Path, recipients: list[str] | None = None) -> BackupResult:
    vendor = _vendor()
    age_recipients = _recipients(recipients or [])
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    archive = out / f"streha-{stamp}.tar.gz.age"
    public_manifest = out / f"streha-{stamp}.json"
    # Taken before the dump: the chain only grows, so the dump holds this event and its hash.
    anchor = _audit_anchor()
    # The ledger of destroyed data keys, completed and measured before the dump: a restore of
    # this backup replays at least these entries, and refuses a ledger shorter than this.
    shred_ledger.sync()
    shredded = shred_ledger.state()
    work = Path(tempfile.mkdtemp(prefix=".streha-backup-", dir=out))
    try:
        os.chmod(work, 0o700)
        dump = work / DUMP_NAMES[vendor]
        _dump(dump)
        checkpoints = _checkpoint_files()
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": vendor,
            "dump": dump.name,
            "audit_anchor": anchor,
            "audit_checkpoints": [path.name for path in checkpoints],
            "shred_ledger": shredded,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        plain = work / "backup.tar.gz"
        with tarfile.open(plain, "w:gz") as tar:
            tar.add(work / "manifest.json", arcname="manifest.json")
            tar.add(dump, arcname=dump.name)
            for path in checkpoints:
                tar.add(path, arcname=f"audit-checkpoints/{path.name}")
        partial = archive.with_suffix(".partial")
        with plain.open("rb") as reader, partial.open("wb") as writer:
            pyrage.encrypt_io(reader, writer, age_recipients)
        os.replace(partial, archive)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    manifest["archive"] = archive.name
    manifest["archive_sha256"] = _sha256(archive)
    public_manifest.write_text(json.dumps(manifest, indent=2))
    return BackupResult(archive=archive, manifest=public_manifest, anchor=anchor)


# --- Restore ----------------------------------------------------------------------------------


def latest_archive(directory: Path) -> Path:
    archives = sorted(directory.glob("streha-*.tar.gz.age"))
    if not archives:
        raise BackupError(f"No backup archive (streha-*.tar.gz.age) in {directory}.")
    return archives[-1]


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not member.isfile():
            raise BackupError("The archive holds an unexpected entry; it was not made by Streha.")
    return members


def restore_backup(source: Path, identity_file: Path) -> dict:
    """Decrypt ``source`` (an archive, or the newest in a directory) into the empty database."""
    vendor = _vendor()
    archive = latest_archive(source) if source.is_dir() else source
    sidecar = archive.with_name(archive.name.removesuffix(".tar.gz.age") + ".json")
    if sidecar.exists():
        expected = json.loads(sidecar.read_text()).get("archive_sha256")
        if expected and expected != _sha256(archive):
            raise BackupError("The archive does not match its manifest (damaged or replaced).")
    if not _database_is_empty():
        raise BackupError("The target database is not empty; restore only into an empty one.")
    ledger_at_backup = (
        json.loads(sidecar.read_text()).get("shred_ledger") if sidecar.exists() else None
    )
    _check_ledger(ledger_at_backup)  # refused before anything is written
    identities = _identities(identity_file)
    parent = Path(tempfile.gettempdir())
    work = Path(tempfile.mkdtemp(prefix="streha-restore-", dir=parent))
    try:
        os.chmod(work, 0o700)
        plain = work / "backup.tar.gz"
        try:
            with archive.open("rb") as reader, plain.open("wb") as writer:
                pyrage.decrypt_io(reader, writer, identities)
        except pyrage.DecryptError:
            raise BackupError("This backup key cannot open the archive.") from None
        with tarfile.open(plain, "r:gz") as tar:
            tar.extractall(work / "content", members=_safe_members(tar), filter="data")
        content = work / "content"
        manifest = json.loads((content / "manifest.json").read_text())
        if manifest.get("database") != vendor:
            raise BackupError(
                f"The backup is of a {manifest.get('database')} database; the target is {vendor}."
            )
        dump = content / manifest["dump"]
        if vendor == "postgresql":
            _run(
                [
                    _pg_tool("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    "-d",
                    _pg_environment()["PGDATABASE"],
                    str(dump),
                ],
                "pg_restore",
            )
        else:
            connection.close()
            backup = sqlite3.connect(dump)
            target = sqlite3.connect(settings.DATABASES["default"]["NAME"])
            try:
                with target:
                    backup.backup(target)
            finally:
                target.close()
                backup.close()
        restored = _restore_checkpoints(content, manifest.get("audit_checkpoints", []))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    connection.close()
    shredded_again = _replay_ledger(manifest.get("shred_ledger"))
    connection.close()
    return {
        **manifest,
        "archive": archive.name,
        "checkpoints_restored": restored,
        "shredded_again": shredded_again,
    }


def _check_ledger(recorded: dict | None) -> None:
    try:
        shred_ledger.check_covers(recorded)
    except shred_ledger.LedgerError as error:
        raise BackupError(str(error)) from None


def _replay_ledger(recorded: dict | None) -> int:
    """Destroy again every data key destroyed since (or before) the backup was made: an old
    backup must not bring back an anonymised identity. A failure here is reported as a failed
    restore: the database must not be used until the ledger replays."""
    try:
        return shred_ledger.replay(recorded)
    except shred_ledger.LedgerError as error:
        raise BackupError(
            f"{error} The restored database still holds destroyed keys: do not use it; "
            "fix the ledger and restore again into an empty database."
        ) from None


def _restore_checkpoints(content: Path, names: list[str]) -> list[str]:
    """Put the checkpoint witness back where none exists (a new machine); never overwrite one."""
    directory = getattr(settings, "STREHA_AUDIT_CHECKPOINT_DIR", "")
    if not directory or not names:
        return []
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    restored = []
    for name in names:
        destination = target / name
        if not destination.exists():
            shutil.copyfile(content / "audit-checkpoints" / name, destination)
            restored.append(name)
    return restored
