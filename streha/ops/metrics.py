"""Prometheus metrics beyond what django-prometheus measures per request.

django-prometheus counts requests, latencies, responses and exceptions by view and method. This
module adds what an operator of Streha watches: sign-in failures and lock-outs (counters fed by
signals, summed over worker processes when ``PROMETHEUS_MULTIPROC_DIR`` is set), and, read from
the database at scrape time, the audit chain length, the accounts locked out now, the job queue
(depth and age of its oldest waiting job) and the age of the worker heartbeat and the last audit
checkpoint where those sources exist. Labels never carry a username or any value from a request.
"""

import os

from django.apps import apps
from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

SIGN_IN_FAILURES = Counter("streha_sign_in_failures", "Failed staff sign-in attempts.")
LOCKOUTS = Counter("streha_lockouts", "Staff accounts locked out after repeated failures.")


def _on_login_failed(sender, **kwargs):
    SIGN_IN_FAILURES.inc()


def _on_locked_out(sender, **kwargs):
    LOCKOUTS.inc()


def connect_signals() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_login_failed

    user_login_failed.connect(_on_login_failed, dispatch_uid="streha.ops.login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="streha.ops.locked_out")


class StrehaCollector:
    """Gauges read from the database when Prometheus scrapes (one process answers them)."""

    def collect(self):
        from axes.models import AccessAttempt

        from streha.audit.models import AuditChainHead
        from streha.ops import health

        head = AuditChainHead.objects.filter(pk=AuditChainHead.SINGLETON_ID).first()
        yield GaugeMetricFamily(
            "streha_audit_chain_length",
            "Events in the audit hash chain.",
            value=head.last_seq if head else 0,
        )
        yield GaugeMetricFamily(
            "streha_locked_out_accounts",
            "Accounts locked out now.",
            value=AccessAttempt.objects.filter(
                failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
            ).count(),
        )
        if apps.is_installed("django_tasks_db"):
            waiting = apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(
                status="READY"
            )
            figures = waiting.aggregate(oldest=Min("enqueued_at"))
            yield GaugeMetricFamily(
                "streha_job_queue_depth", "Jobs waiting to run.", value=waiting.count()
            )
            oldest = figures["oldest"]
            yield GaugeMetricFamily(
                "streha_job_queue_oldest_age_seconds",
                "Age of the oldest waiting job.",
                value=(timezone.now() - oldest).total_seconds() if oldest else 0,
            )
        for name, metric in (
            ("job_worker", "streha_job_worker_heartbeat_age_seconds"),
            ("audit_checkpoint", "streha_audit_checkpoint_age_seconds"),
        ):
            age = health.source_age_seconds(name)
            if age is not None:
                yield GaugeMetricFamily(metric, f"Seconds since the {name} last reported.", age)


def exposition() -> bytes:
    """The text the scraper reads: process metrics (summed over workers) and the gauges above."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(StrehaCollector())
    return generate_latest(registry) + generate_latest(database)
