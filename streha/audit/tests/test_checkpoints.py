"""Signed checkpoints: a chain rewritten, rewound or cut short by someone who can write the
database (and so bypass triggers and recompute hashes) no longer verifies."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from streha.audit import chain, checkpoints, services
from streha.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def witness_lines():
    return checkpoints.witness().lines()


def rewrite_from(seq: int, raw_sql, *, purpose: str = "rewritten") -> None:
    """What a DBA with write access can do: change event ``seq``, recompute every later hash
    and move the head, so the chain alone verifies again."""
    events = list(AuditEvent.objects.order_by("seq"))
    prev_hash = events[seq - 2].hash if seq > 1 else chain.ZERO_HASH
    for event in events[seq - 1 :]:
        if event.seq == seq:
            event.purpose = purpose
        event.prev_hash = prev_hash
        event.hash = prev_hash = chain.hash_of(event)
        raw_sql(
            "UPDATE audit_event SET purpose = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event.purpose, event.prev_hash, event.hash, event.seq],
        )
    raw_sql("UPDATE audit_chain_head SET last_hash = %s", [prev_hash])


def test_a_checkpoint_is_signed_and_appended_outside_the_database(chain_of, settings):
    events = chain_of(3)
    assert run("checkpoint") == (0, "Checkpoint signed at event #3.\n", "")
    [line] = witness_lines()
    written = json.loads(line)
    assert (written["seq"], written["hash"]) == (3, events[-1].hash)
    assert written["prev"] == checkpoints.ZERO
    # The signing key is a file beside the witness's configuration, not in the database.
    key = checkpoints.load_signing_key()
    assert checkpoints.key_id_of(key.public_key()) == written["key_id"]
    code, out, err = run("verify")
    assert (code, err) == (0, "")
    assert out.startswith("Audit chain intact: 3 events.\nChecked against 1 signed checkpoints")


def test_nothing_is_due_until_enough_events_or_minutes(chain_of, settings, monkeypatch):
    settings.STREHA_AUDIT_CHECKPOINT_EVERY = 5
    settings.STREHA_AUDIT_CHECKPOINT_MINUTES = 10
    chain_of(2)
    first = checkpoints.periodic_checkpoint()  # the first one is always due
    assert first.seq == 2
    assert checkpoints.periodic_checkpoint() is None  # the chain did not move
    chain_of(2)
    assert checkpoints.periodic_checkpoint() is None  # 2 events, 0 minutes: not yet
    chain_of(3)
    assert checkpoints.periodic_checkpoint().seq == 7  # 5 events since the last one
    chain_of(1)
    later = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr(checkpoints.timezone, "now", lambda: later)
    assert checkpoints.periodic_checkpoint().seq == 8  # 10 minutes and the chain moved
    assert len(witness_lines()) == 3


def test_checkpoint_due_rules():
    now = timezone.now()
    latest = checkpoints.Checkpoint(10, "a" * 64, chain.utc_iso(now), "k", checkpoints.ZERO)
    assert not checkpoints.checkpoint_due(None, 0, now)
    assert checkpoints.checkpoint_due(None, 1, now)
    assert not checkpoints.checkpoint_due(latest, 10, now + timedelta(days=1))


def test_a_truncated_tail_fails_verification(chain_of, raw_sql):
    events = chain_of(5)
    checkpoints.make_checkpoint()
    # Cut events 4 and 5 and move the head back onto event 3: the links and the head agree.
    raw_sql("DELETE FROM audit_event WHERE seq > 3")
    raw_sql("DELETE FROM audit_chain_head")
    raw_sql(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 3, %s)",
        [events[2].hash],
    )
    assert services.verify_chain().ok  # the chain alone cannot tell
    code, out, err = run("verify")
    assert (code, out) == (1, "")
    assert err == "Audit chain broken at event #5: event 5 was anchored but is missing\n"


def test_a_rewound_and_rewritten_chain_fails_verification(chain_of, raw_sql):
    chain_of(5)
    checkpoints.make_checkpoint()
    rewrite_from(2, raw_sql)
    assert services.verify_chain().ok  # consistent: every hash recomputed
    code, _out, err = run("verify")
    assert code == 1
    assert err.startswith("Audit chain broken at event #5: its hash differs from the anchor")


def test_a_rewound_head_fails_even_without_rewriting_events(chain_of, raw_sql):
    events = chain_of(4)
    checkpoints.make_checkpoint()
    raw_sql("DELETE FROM audit_chain_head")
    raw_sql(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 2, %s)",
        [events[1].hash],
    )
    assert run("verify")[0] == 1


def test_a_tampered_chain_is_never_signed(chain_of, raw_sql):
    chain_of(3)
    checkpoints.make_checkpoint()
    chain_of(2)
    rewrite_from(2, raw_sql)
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.make_checkpoint(force=True)
    code, _out, err = run("checkpoint", "--force")
    assert code == 1
    assert "its hash differs from the anchor" in err
    assert len(witness_lines()) == 1


def test_a_forged_or_removed_checkpoint_is_detected(chain_of):
    chain_of(2)
    checkpoints.make_checkpoint()
    chain_of(1)
    checkpoints.make_checkpoint(force=True)
    path = checkpoints.witness().path
    first, second = path.read_text().splitlines()
    # Forged: a different hash for the same position, signature unchanged.
    forged = json.loads(first) | {"hash": "f" * 64}
    path.write_text(chain.canonical_json(forged) + "\n" + second + "\n")
    code, _out, err = run("verify")
    assert code == 1
    assert (
        err == "Audit checkpoints cannot be trusted: Checkpoint line 1 has an invalid signature.\n"
    )
    # Removed: the second line no longer follows anything.
    path.write_text(second + "\n")
    code, _out, err = run("verify")
    assert code == 1
    assert "does not follow the line before it" in err


def test_a_checkpoint_signed_by_another_key_is_refused(chain_of, settings, tmp_path):
    chain_of(2)
    checkpoints.make_checkpoint()
    settings.STREHA_AUDIT_SIGNING_KEY_FILE = str(tmp_path / "another-key.pem")
    checkpoints.load_signing_key(create=True)
    code, _out, err = run("verify")
    assert code == 1
    assert "signed with an unknown key" in err


def test_a_verifying_machine_needs_only_the_public_key(chain_of, settings, tmp_path):
    import base64

    chain_of(2)
    checkpoints.make_checkpoint()
    public = checkpoints.public_raw(checkpoints.load_signing_key().public_key())
    settings.STREHA_AUDIT_SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    settings.STREHA_AUDIT_VERIFY_KEYS = [base64.b64encode(public).decode()]
    assert run("verify")[0] == 0


def test_another_witness_can_be_configured(chain_of, settings):
    chain_of(1)
    settings.STREHA_AUDIT_WITNESS = "streha.audit.tests.test_checkpoints.MemoryWitness"
    MemoryWitness.kept = []
    checkpoints.make_checkpoint()
    assert len(MemoryWitness.kept) == 1
    assert run("verify")[0] == 0


class MemoryWitness:
    """A stand-in for a remote witness: only ``append`` and ``lines``."""

    kept: list[str] = []

    def append(self, line: str) -> None:
        self.kept.append(line)

    def lines(self) -> list[str]:
        return list(self.kept)


def test_the_checkpoint_directory_is_not_the_database(settings):
    assert connection.settings_dict["NAME"] not in settings.STREHA_AUDIT_CHECKPOINT_DIR


def test_verify_warns_when_the_last_checkpoint_is_overdue(chain_of, settings):
    settings.STREHA_AUDIT_CHECKPOINT_EVERY = 2
    chain_of(1)
    checkpoints.make_checkpoint()
    chain_of(3)
    assert "overdue" not in run("verify")[1]  # 3 events since: due, not yet overdue
    chain_of(1)
    code, out, _err = run("verify")
    assert code == 0 and "Warning: the last checkpoint is overdue" in out
