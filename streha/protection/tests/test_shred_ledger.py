"""Issue 10: crypto-shredding reaches backups. An old backup still holds the wrapped data key
of a person anonymised since; ``streha restore`` replays the shred ledger (kept outside the
database, signed, append-only) and destroys that key again before it reports success, and it
refuses to restore at all when the ledger is missing or shorter than the backup says."""

import json
from pathlib import Path

import pytest

from streha.ops import backup
from streha.ops.tests.test_backup import quote, restore_target, streha  # noqa: F401
from streha.people.models import Person
from streha.people.services import anonymise_person
from streha.protection import keys, shred_ledger
from streha.testing.factories import PersonFactory

IDENTITY = {"given_name": "Vjollca", "family_name": "Rama", "personal_number": "1122334455"}


def _env(settings) -> dict:
    return {
        "STREHA_MASTER_KEY_FILE": str(keys.key_file_path()),
        "STREHA_AUDIT_SIGNING_KEY_FILE": str(settings.STREHA_AUDIT_SIGNING_KEY_FILE),
        "STREHA_AUDIT_CHECKPOINT_DIR": str(settings.STREHA_AUDIT_CHECKPOINT_DIR),
    }


def _stored(connect, pk: int) -> dict:
    columns = ["data_key", *Person.protected_field_names()]
    with connect() as other:
        cursor = other.cursor()
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM people_person WHERE id = {int(pk)}"  # noqa: S608
        )
        return dict(zip(columns, cursor.fetchone(), strict=True))


@pytest.mark.django_db(transaction=True)
def test_restoring_a_backup_made_before_an_anonymisation_destroys_the_key_again(
    tmp_path,
    settings,
    restore_target,  # noqa: F811
):
    person = PersonFactory(**IDENTITY)
    other = PersonFactory(given_name="Mimoza")
    identity = tmp_path / "backup-identity.txt"
    made = backup.create_backup(tmp_path / "backups", [backup.generate_identity(identity)])
    assert json.loads(made.manifest.read_text())["shred_ledger"]["entries"] == 0

    anonymise_person(person, reason="retention period ended")
    entries = shred_ledger.read()
    assert [(entry.model, entry.id) for entry in entries] == [("people.person", person.pk)]
    assert "Vjollca" not in shred_ledger.ledger_path().read_text()  # ids only

    database_url, connect = restore_target
    restored = streha(
        "restore", str(made.archive), "--identity", str(identity),
        database_url=database_url, env=_env(settings),
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert "destroyed again from the shred ledger: 1" in restored.stdout

    row = _stored(connect, person.pk)
    assert row["data_key"] == keys.SHREDDED  # no wrapped key left for the master key to open
    assert all(value in ("", None) for name, value in row.items() if name != "data_key")
    assert _stored(connect, other.pk)["data_key"] != keys.SHREDDED  # the others read on
    script = (
        "from streha.people.models import Person; from streha.audit import read_context; "
        "ctx = read_context.system('restore check'); ctx.__enter__(); "
        f"print(repr(Person.objects.get(pk={person.pk}).given_name), "
        f"Person.objects.get(pk={other.pk}).given_name)"
    )
    shown = streha("shell", "-c", script, database_url=database_url, env=_env(settings))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "'' Mimoza"


@pytest.mark.django_db(transaction=True)
def test_a_restore_without_the_ledger_it_was_made_with_is_refused(
    tmp_path,
    settings,
    restore_target,  # noqa: F811
):
    person = PersonFactory(**IDENTITY)
    anonymise_person(person, reason="retention period ended")
    identity = tmp_path / "backup-identity.txt"
    made = backup.create_backup(tmp_path / "backups", [backup.generate_identity(identity)])
    assert json.loads(made.manifest.read_text())["shred_ledger"]["entries"] == 1
    database_url, connect = restore_target

    ledger = Path(shred_ledger.ledger_path())
    kept = ledger.read_text()
    ledger.unlink()  # lost, or truncated by someone who wants an identity back
    refused = streha(
        "restore", str(made.archive), "--identity", str(identity),
        database_url=database_url, env=_env(settings),
    )  # fmt: skip
    assert refused.returncode != 0 and "shred ledger" in refused.stderr

    # A forged line (someone removing an entry and re-linking) is refused too.
    line = json.loads(kept.splitlines()[0])
    ledger.write_text(json.dumps({**line, "id": line["id"] + 1}) + "\n")
    refused = streha(
        "restore", str(made.archive), "--identity", str(identity),
        database_url=database_url, env=_env(settings),
    )  # fmt: skip
    assert refused.returncode != 0 and "not validly signed" in refused.stderr


def test_a_rolled_back_anonymisation_is_never_in_the_ledger(db, settings):
    """Appended only on commit: replaying it must never destroy a live record's key."""
    person = PersonFactory(**IDENTITY)
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        anonymise_person(person, reason="retention period ended")
        raise RuntimeError
    assert shred_ledger.read() == []
    assert Person.objects.get(pk=person.pk).data_key != keys.SHREDDED
