"""The audit chain head's wait and hold times reach /metrics (bench/load.py reads them)."""

import pytest

from streha.accounts.models import Role
from streha.audit import head_timing
from streha.audit import services as audit
from streha.ops.tests.test_metrics import TOKEN, value


@pytest.fixture
def scrape(client, settings):
    settings.STREHA_METRICS_TOKEN = TOKEN

    def get() -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        return response.content.decode()

    return get


@pytest.mark.django_db
def test_each_append_records_its_wait_and_after_the_commit_its_hold(
    scrape, make_user, agency, django_capture_on_commit_callbacks
):
    user = make_user(Role.CASE_WORKER, agency=agency)
    before = scrape()
    waits = value(before, "streha_audit_head_wait_seconds_count")
    holds = value(before, "streha_audit_head_held_seconds_count")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        audit.record(user, audit.Action.READ, object_type="ops.test")
        audit.record(user, audit.Action.READ, object_type="ops.test")
    between = scrape()
    assert value(between, "streha_audit_head_wait_seconds_count") == waits + 2
    # The hold ends with the commit: nothing is counted for a transaction not yet committed.
    assert value(between, "streha_audit_head_held_seconds_count") == holds
    assert len(pending) == 2
    for callback in pending:
        callback()
    after = scrape()
    assert value(after, "streha_audit_head_held_seconds_count") == holds + 2
    assert value(after, "streha_audit_head_wait_seconds_sum") >= value(
        before, "streha_audit_head_wait_seconds_sum"
    )


def test_wait_is_measured_from_the_moment_the_lock_was_asked_for(monkeypatch):
    observed = []
    monkeypatch.setattr(head_timing.HEAD_WAIT, "observe", observed.append)
    monkeypatch.setattr(head_timing.transaction, "on_commit", lambda callback: None)
    monkeypatch.setattr(head_timing.time, "perf_counter", lambda: 10.25)
    head_timing.locked(asked_at=10.0)
    assert observed == [0.25]
