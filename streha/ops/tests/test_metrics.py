import re

import pytest

from streha.accounts.models import Role
from streha.audit import services as audit

TOKEN = "metrics-token-for-tests-0123456789"


def value(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{name}{labels} not in the metrics"
    return float(match[1])


@pytest.fixture
def scrape(client, settings):
    settings.STREHA_METRICS_TOKEN = TOKEN

    def get() -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        return response.content.decode()

    return get


@pytest.mark.django_db
def test_metrics_are_hidden_without_the_token(client, settings):
    settings.STREHA_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    settings.STREHA_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 404


@pytest.mark.django_db
def test_requests_latencies_and_errors_by_view(client, scrape, make_user, agency):
    client.force_login(make_user(Role.CASE_WORKER, agency=agency))
    labels = '{method="GET",view="people:list"}'
    before = scrape()
    count_before = (
        value(before, "django_http_requests_latency_seconds_by_view_method_count", labels)
        if "people:list" in before
        else 0
    )
    assert client.get("/persons/").status_code == 200
    after = scrape()
    assert (
        value(after, "django_http_requests_latency_seconds_by_view_method_count", labels)
        == count_before + 1
    )
    assert "django_http_responses_total_by_status_view_method_total" in after
    assert "django_http_exceptions_total_by_view_total" in after or (
        "# TYPE django_http_exceptions_total_by_view counter" in after
    )


@pytest.mark.django_db
def test_audit_chain_length(scrape, make_user, agency):
    user = make_user(Role.CASE_WORKER, agency=agency)
    before = value(scrape(), "streha_audit_chain_length")
    audit.record(user, audit.Action.READ, object_type="ops.test")
    audit.record(user, audit.Action.READ, object_type="ops.test")
    assert value(scrape(), "streha_audit_chain_length") == before + 2
    assert before + 2 == audit.chain_head().last_seq


@pytest.mark.django_db
def test_sign_in_failures_and_lockouts(client, scrape, settings, make_user, agency):
    settings.AXES_FAILURE_LIMIT = 3
    make_user(Role.CASE_WORKER, agency=agency, username="metrics.user")
    before = scrape()
    failures = value(before, "streha_sign_in_failures_total")
    lockouts = value(before, "streha_lockouts_total")
    assert value(before, "streha_locked_out_accounts") == 0
    for _ in range(3):
        client.post("/accounts/login/", {"login": "metrics.user", "password": "wrong-password"})
    after = scrape()
    assert value(after, "streha_sign_in_failures_total") == failures + 3
    assert value(after, "streha_lockouts_total") == lockouts + 1
    assert value(after, "streha_locked_out_accounts") == 1
    assert "metrics.user" not in after


@pytest.mark.django_db
def test_job_queue_depth_and_age(scrape, monkeypatch, make_user, agency):
    """The queue is read through ``_waiting_jobs``; here a stand-in queryset of two rows."""
    from datetime import timedelta

    from django.utils import timezone

    from streha.accounts.models import User
    from streha.ops import metrics

    for name in ("queued.one", "queued.two"):
        make_user(Role.CASE_WORKER, agency=agency, username=name)
    User.objects.filter(username="queued.one").update(
        date_joined=timezone.now() - timedelta(hours=1)
    )
    monkeypatch.setattr(
        metrics,
        "_waiting_jobs",
        lambda: (User.objects.filter(username__startswith="queued."), "date_joined"),
    )
    text = scrape()
    assert value(text, "streha_job_queue_depth") == 2
    assert 3600 <= value(text, "streha_job_queue_oldest_age_seconds") < 3700
