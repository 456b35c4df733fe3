"""The restore drill, as an operator runs it every quarter, plus what a backup must never hold.

A populated system (demo persons, cases, tips and their audit events) is backed up with
``streha backup``, restored with ``streha restore`` into another, empty database (a separate
process, as on a new machine), and compared: row counts of every table, a checksum of every
protected column's ciphertext (and of the data keys and blind indexes), ``streha audit verify``
against the anchor taken at backup time, and decrypted values of a sample of persons.
Runs on SQLite and on PostgreSQL, whichever the suite runs on.
"""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg
import pyrage
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from streha.ops import backup
from streha.people.models import Person
from streha.protection import keys
from streha.protection.fields import BlindIndexField, DataKeyField, ProtectedFieldMixin

SECRET_FIELDS = (ProtectedFieldMixin, DataKeyField, BlindIndexField)


def fingerprint(cursor, placeholder_quote) -> dict:
    """Row count of every table and a SHA-256 of every protected column, in primary-key order."""
    counts, checksums = {}, {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        table = placeholder_quote(model._meta.db_table)
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - names from the models
        counts[model._meta.db_table] = cursor.fetchone()[0]
        pk = placeholder_quote(model._meta.pk.column)
        for field in model._meta.fields:
            if not isinstance(field, SECRET_FIELDS):
                continue
            column = placeholder_quote(field.column)
            cursor.execute(f"SELECT {pk}, {column} FROM {table} ORDER BY {pk}")  # noqa: S608
            digest = hashlib.sha256()
            for key, value in cursor.fetchall():
                value = bytes(value) if isinstance(value, memoryview) else value
                digest.update(repr((key, value)).encode())
            checksums[f"{model._meta.db_table}.{field.column}"] = digest.hexdigest()
    return {"counts": counts, "checksums": checksums}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sample(persons) -> list[dict]:
    return [
        {
            "reference": p.reference,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "date_of_birth": str(p.date_of_birth),
            "personal_number": p.personal_number,
            "narrative": p.narrative,
        }
        for p in persons
    ]


# The drill's decrypted sample is a read like any other: inside an audited system read.
SAMPLE_SCRIPT = (
    "import json; from streha.people.models import Person; "
    "from streha.audit import read_context; "
    "from streha.ops.tests.test_backup import sample; "
    "ctx = read_context.system('restore drill: decrypted sample'); ctx.__enter__(); "
    "print(json.dumps(sample(Person.objects.order_by('pk')[:10])))"
)


@pytest.fixture
def restore_target(tmp_path):
    """An empty database beside the test database, and the DATABASE_URL that names it."""
    source = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path)
        return
    name = f"{source['NAME']}_restore"
    credentials = f"{source['USER']}:{source['PASSWORD']}@" if source["PASSWORD"] else ""
    server = f"postgres://{credentials or source['USER'] + '@'}{source['HOST']}:{source['PORT']}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
        admin.execute(f"CREATE DATABASE {quote(name)}")
    try:
        yield f"{server}/{name}", lambda: psycopg.connect(f"{server}/{name}")
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")


def streha(*args, database_url: str, env: dict) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        **env,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "streha.settings",
        "STREHA_LOG_LEVEL": "WARNING",
        "STREHA_LANGUAGE_CODE": "en",
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "streha.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.django_db(transaction=True)
def test_restore_drill(tmp_path, settings, restore_target):
    settings.STREHA_AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    call_command("demo", persons=20, seed=4, verbosity=0)
    try:  # a real signed checkpoint where the audit app makes them
        from streha.audit import checkpoints

        checkpoints.make_checkpoint(force=True)
    except (ImportError, AttributeError):
        Path(settings.STREHA_AUDIT_CHECKPOINT_DIR).mkdir()
        (Path(settings.STREHA_AUDIT_CHECKPOINT_DIR) / "checkpoints.jsonl").write_text("{}\n")
    identity = tmp_path / "backup-identity.txt"
    recipient = backup.generate_identity(identity)
    with connection.cursor() as cursor:
        before = fingerprint(cursor, quote)
    expected_sample = sample(Person.objects.order_by("pk")[:10])
    assert before["counts"]["people_person"] == 20 and len(before["checksums"]) >= 10

    result = backup.create_backup(tmp_path / "backups", [recipient])
    manifest = json.loads(result.manifest.read_text())
    assert manifest["database"] == connection.vendor
    assert manifest["audit_anchor"] == result.anchor and result.anchor

    database_url, connect = restore_target
    # The restored host holds the same keys as the first (kept apart from the backup).
    env = {
        "STREHA_MASTER_KEY_FILE": str(keys.key_file_path()),
        "STREHA_AUDIT_SIGNING_KEY_FILE": str(settings.STREHA_AUDIT_SIGNING_KEY_FILE),
        "STREHA_AUDIT_CHECKPOINT_DIR": str(tmp_path / "restored-checkpoints"),
    }
    restored = streha(
        "restore", str(tmp_path / "backups"), "--identity", str(identity),
        database_url=database_url, env=env,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert f"streha audit verify --anchor {result.anchor}" in restored.stdout
    assert (tmp_path / "restored-checkpoints" / "checkpoints.jsonl").read_bytes() == (
        Path(settings.STREHA_AUDIT_CHECKPOINT_DIR) / "checkpoints.jsonl"
    ).read_bytes()

    with connect() as other:
        after = fingerprint(other.cursor(), quote)
    assert after == before

    verified = streha(
        "audit", "verify", "--anchor", result.anchor, database_url=database_url, env=env
    )
    assert verified.returncode == 0, verified.stderr
    seq = result.anchor.split(":")[0]
    lines = verified.stdout.strip().splitlines()
    assert lines[0] == f"Audit chain intact: {seq} events."
    # …and checked against the signed checkpoint carried in the backup.
    assert lines[1].startswith(f"Checked against 1 signed checkpoints (the last at event #{seq},")

    decrypted = streha("shell", "-c", SAMPLE_SCRIPT, database_url=database_url, env=env)
    assert decrypted.returncode == 0, decrypted.stderr
    assert json.loads(decrypted.stdout.strip().splitlines()[-1]) == expected_sample

    # Restoring again over the now populated database is refused and changes nothing.
    again = streha(
        "restore", str(tmp_path / "backups"), "--identity", str(identity),
        database_url=database_url, env=env,
    )  # fmt: skip
    assert again.returncode != 0 and "not empty" in again.stderr


@pytest.mark.django_db(transaction=True)
def test_archive_is_encrypted_and_holds_no_key_material(tmp_path, settings):
    settings.STREHA_AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    witness = Path(settings.STREHA_AUDIT_CHECKPOINT_DIR)
    witness.mkdir()
    (witness / "checkpoints.jsonl").write_text('{"seq": 1}\n')
    call_command("demo", persons=3, seed=6, verbosity=0)
    person = Person.objects.order_by("pk").first()
    identity = tmp_path / "id.txt"
    recipient = backup.generate_identity(identity)
    assert oct(identity.stat().st_mode & 0o777) == "0o600"

    result = backup.create_backup(tmp_path / "out", [recipient])
    raw = result.archive.read_bytes()
    assert raw.startswith(b"age-encryption.org/v1")
    key_file = json.loads(keys.key_file_path().read_text())
    plain = pyrage.decrypt(raw, backup._identities(identity))
    (tmp_path / "plain.tar.gz").write_bytes(plain)
    with tarfile.open(tmp_path / "plain.tar.gz") as tar:
        names = sorted(tar.getnames())
        contents = b"".join(tar.extractfile(name).read() for name in names)
    assert names == sorted(
        [
            "manifest.json",
            backup.DUMP_NAMES[connection.vendor],
            "audit-checkpoints/checkpoints.jsonl",
        ]
    )
    for secret in [key_file["index_key"], *key_file["keys"].values()]:
        assert secret.encode() not in contents and secret.encode() not in raw
    assert person.given_name.encode() + b" " + person.family_name.encode() not in contents
    # Nothing left in clear beside the archive but the manifest, which holds no data.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [result.archive.name, result.manifest.name]
    )


@pytest.mark.django_db
def test_backup_refuses_without_a_recipient_and_restore_without_the_right_key(tmp_path, settings):
    settings.STREHA_BACKUP_RECIPIENTS_FILE = ""
    with pytest.raises(CommandError, match="No backup recipient"):
        call_command("backup", out=str(tmp_path / "out"))
    with pytest.raises(CommandError, match="not an age public key"):
        call_command("backup", out=str(tmp_path / "out"), recipient=["ssh-rsa AAAA"])
    with pytest.raises(CommandError, match="never overwritten"):
        identity = tmp_path / "id.txt"
        identity.write_text("x")
        call_command("backup", generate_key=str(identity))
    with pytest.raises(CommandError, match="not empty"):
        other = tmp_path / "other.txt"
        backup.generate_identity(other)
        (tmp_path / "dir").mkdir()
        (tmp_path / "dir" / "streha-1.tar.gz.age").write_bytes(b"x")
        call_command("restore", str(tmp_path / "dir"), identity=str(other))


@pytest.mark.django_db(transaction=True)
def test_another_key_cannot_open_a_backup(tmp_path, monkeypatch):
    call_command("demo", persons=2, seed=8, verbosity=0)
    backup.create_backup(tmp_path / "out", [backup.generate_identity(tmp_path / "right.txt")])
    backup.generate_identity(tmp_path / "wrong.txt")
    monkeypatch.setattr(backup, "_database_is_empty", lambda: True)
    with pytest.raises(backup.BackupError, match="cannot open"):
        backup.restore_backup(tmp_path / "out", tmp_path / "wrong.txt")
