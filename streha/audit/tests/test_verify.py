"""Verification: an intact chain passes, and every kind of direct tampering is found and named.

Tampering goes around the ORM and the triggers with raw SQL, as a database administrator could.
"""

import pytest

from streha.audit import chain, services
from streha.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

N = 30


@pytest.fixture
def events(chain_of):
    return chain_of(N)


def test_an_intact_chain_verifies(events):
    report = services.verify_chain()
    assert report == services.ChainReport(True, N, None, "", events[-1].hash)


@pytest.mark.parametrize("batch_size", [1, 7, N, 5000])
def test_batches_of_any_size_walk_the_same_chain(events, batch_size):
    assert services.verify_chain(batch_size=batch_size).checked == N


def test_an_empty_log_verifies():
    assert services.verify_chain() == services.ChainReport(True, 0)


def test_editing_an_event_breaks_the_chain_at_that_event(events, raw_sql):
    raw_sql("UPDATE audit_event SET purpose = %s WHERE seq = %s", ["nothing to see", 12])
    report = services.verify_chain(batch_size=5)
    assert (report.ok, report.first_broken_seq, report.checked) == (False, 12, 11)
    assert "hash mismatch" in report.reason


@pytest.mark.parametrize(
    "column, value",
    [
        ("actor_username", "someone.else"),
        ("object_id", "00000000-0000-4000-8000-999999999999"),
        ("break_glass", True),
        ("details", '{"n": 99}'),
        ("field_groups", '["contact"]'),
        ("occurred_at", "2020-01-01 00:00:00"),
    ],
)
def test_editing_any_column_is_detected(events, raw_sql, column, value):
    raw_sql(f"UPDATE audit_event SET {column} = %s WHERE seq = 20", [value])  # noqa: S608
    assert services.verify_chain().first_broken_seq == 20


def test_editing_and_rehashing_an_event_breaks_the_link_to_the_next(events, raw_sql):
    forged = AuditEvent.objects.get(seq=12)
    forged.purpose = "nothing to see"
    raw_sql(
        "UPDATE audit_event SET purpose = %s, hash = %s WHERE seq = 12",
        [forged.purpose, chain.hash_of(forged)],
    )
    report = services.verify_chain()
    assert report.first_broken_seq == 13
    assert "does not follow event 12" in report.reason


def test_deleting_an_event_breaks_the_chain_after_the_gap(events, raw_sql):
    raw_sql("DELETE FROM audit_event WHERE seq = 12")
    report = services.verify_chain()
    assert (report.ok, report.first_broken_seq, report.reason) == (False, 13, "event 12 missing")


def test_deleting_several_events_names_the_range(events, raw_sql):
    raw_sql("DELETE FROM audit_event WHERE seq BETWEEN 5 AND 7")
    report = services.verify_chain()
    assert (report.first_broken_seq, report.reason) == (8, "events 5 to 7 missing")


def test_deleting_the_first_event_is_detected(events, raw_sql):
    raw_sql("DELETE FROM audit_event WHERE seq = 1")
    report = services.verify_chain()
    assert (report.first_broken_seq, report.reason) == (2, "event 1 missing")


def test_deleting_the_last_event_is_detected_by_the_head(events, raw_sql):
    raw_sql("DELETE FROM audit_event WHERE seq = %s", [N])
    report = services.verify_chain()
    assert report.first_broken_seq == N
    assert report.reason.startswith(f"event {N} missing")


def test_deleting_the_last_events_and_rewinding_the_head_needs_an_anchor(events, raw_sql):
    anchor = {N: events[-1].hash}
    raw_sql("DELETE FROM audit_event WHERE seq > 25")
    raw_sql("UPDATE audit_chain_head SET last_seq = 25, last_hash = %s", [events[24].hash])
    assert services.verify_chain().ok  # a consistent truncation: only an anchor reveals it
    report = services.verify_chain(anchors=anchor)
    assert (report.ok, report.first_broken_seq) == (False, N)


@pytest.mark.parametrize("first, second", [(10, 20), (10, 11), (1, N)])
def test_swapping_two_events_is_detected_at_the_first(events, raw_sql, first, second):
    # Three steps: seq is unique, so one of them parks at a free value first.
    raw_sql("UPDATE audit_event SET seq = 1000000 WHERE seq = %s", [first])
    raw_sql("UPDATE audit_event SET seq = %s WHERE seq = %s", [first, second])
    raw_sql("UPDATE audit_event SET seq = %s WHERE seq = 1000000", [second])
    report = services.verify_chain()
    assert (report.ok, report.first_broken_seq) == (False, first)


def test_an_event_inserted_past_the_head_is_detected(events, raw_sql):
    forged = AuditEvent(
        seq=N + 1,
        occurred_at=events[-1].occurred_at,
        action=Action.READ,
        object_type="people.person",
        object_id="forged",
        field_groups=[],
        details={},
        prev_hash=events[-1].hash,
    )
    forged.hash = chain.hash_of(forged)
    AuditEvent.objects.bulk_create([forged])  # a well-formed event, but the head was not moved
    report = services.verify_chain()
    assert (report.ok, report.first_broken_seq) == (False, N + 1)
    assert "not recorded in the chain head" in report.reason


def test_a_head_that_disagrees_with_the_last_event_is_detected(events, raw_sql):
    # Same position, other hash (the forward-only trigger would refuse; raw_sql drops it).
    raw_sql("UPDATE audit_chain_head SET last_hash = %s", ["f" * 64])
    report = services.verify_chain()
    assert (report.ok, report.first_broken_seq) == (False, N)


def test_a_rewritten_chain_passes_without_an_anchor_and_fails_with_one(events, raw_sql):
    """The chain's limit, stated as a test: recomputing every later hash escapes the links, not
    an anchor kept outside the database."""
    anchor = {20: events[19].hash}
    previous = events[10].hash  # event 11, left as it was
    for event in AuditEvent.objects.filter(seq__gte=12).order_by("seq"):
        if event.seq == 12:
            event.purpose = "rewritten"
        event.prev_hash = previous
        event.hash = previous = chain.hash_of(event)
        raw_sql(
            "UPDATE audit_event SET purpose = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event.purpose, event.prev_hash, event.hash, event.seq],
        )
    raw_sql("UPDATE audit_chain_head SET last_hash = %s", [previous])
    assert services.verify_chain().ok
    report = services.verify_chain(anchors=anchor)
    assert (report.ok, report.first_broken_seq) == (False, 20)
    assert "anchor" in report.reason


def test_a_missing_head_is_reported(events, raw_sql):
    raw_sql("DELETE FROM audit_chain_head")
    report = services.verify_chain()
    assert (report.ok, report.first_broken_seq) == (False, N)
    assert "head" in report.reason


def test_events_appended_after_verification_started_are_not_false_alarms(events, monkeypatch):
    # Simulate a commit landing between the walk and the head check.
    real_head = services.chain_head
    appended = []

    def head_after_an_append():
        if not appended:
            appended.append(services.record(None, Action.READ))
        return real_head()

    monkeypatch.setattr(services, "chain_head", head_after_an_append)
    report = services.verify_chain()
    assert (report.ok, report.checked) == (True, N + 1)
