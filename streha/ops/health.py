"""Health and readiness checks for the proxy and the orchestrator.

``/healthz`` says only that the process answers. ``/readyz`` says whether it should be sent
traffic: the database answers, every migration is applied, the master keys are loaded, and (where
a source exists) the job worker's heartbeat and the last signed audit checkpoint are recent.

The last two are *pluggable*: ``STREHA_READINESS_SOURCES`` maps a check name to the dotted path
of a callable returning the time of the last heartbeat/checkpoint (an aware ``datetime``) or
``None`` if there has never been one. A source whose module is not installed is reported as
``skipped``, so readiness never depends on a part of the system that is not deployed; a source
that exists but is silent for longer than its limit makes the instance not ready.
Details never carry data or secrets: only what an operator needs to find the fault.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.module_loading import import_string

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class CheckResult:
    status: str
    detail: str = ""

    def as_dict(self) -> dict:
        return (
            {"status": self.status, "detail": self.detail}
            if self.detail
            else {"status": self.status}
        )


# Migrations are never un-applied under a running process: once they are all applied, the answer
# is kept, so the probe does not load the migration graph every few seconds.
_migrations_applied = False


def check_database() -> CheckResult:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return CheckResult(FAILED, f"database unreachable ({type(error).__name__})")
    return CheckResult(OK)


def check_migrations() -> CheckResult:
    global _migrations_applied
    if _migrations_applied:
        return CheckResult(OK)
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # noqa: BLE001
        return CheckResult(FAILED, f"migration state unknown ({type(error).__name__})")
    if plan:
        return CheckResult(FAILED, f"{len(plan)} migration(s) not applied")
    _migrations_applied = True
    return CheckResult(OK)


def check_master_keys() -> CheckResult:
    from streha.protection import keys

    try:
        ring = keys.keyring()
        data_key = keys.new_key()
        key_id, blob = ring.wrap_bound(data_key, "streha/readyz")
        if ring.unwrap_bound(key_id, blob, "streha/readyz") != data_key:
            return CheckResult(FAILED, "master key round trip failed")
    except Exception as error:  # noqa: BLE001
        return CheckResult(FAILED, f"master keys not loaded ({type(error).__name__})")
    return CheckResult(OK)


def _load_source(name: str) -> Callable[[], datetime | None] | None:
    path = settings.STREHA_READINESS_SOURCES.get(name)
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError:
        return None


def recent(name: str, max_age: timedelta) -> Callable[[], CheckResult]:
    """A check that the pluggable source ``name`` reported within ``max_age``."""

    def check() -> CheckResult:
        source = _load_source(name)
        if source is None:
            return CheckResult(SKIPPED, "no source installed")
        try:
            last = source()
        except ImportError:
            return CheckResult(SKIPPED, "no source installed")
        except Exception as error:  # noqa: BLE001
            return CheckResult(FAILED, f"source failed ({type(error).__name__})")
        if last is None:
            return CheckResult(FAILED, "never reported")
        age = timezone.now() - last
        if age > max_age:
            return CheckResult(FAILED, f"last reported {int(age.total_seconds())} s ago")
        return CheckResult(OK, f"last reported {max(0, int(age.total_seconds()))} s ago")

    return check


def source_age_seconds(name: str) -> float | None:
    """Seconds since the source last reported; None when it is absent, failing or silent."""
    source = _load_source(name)
    if source is None:
        return None
    try:
        last = source()
    except Exception:  # noqa: BLE001
        return None
    return None if last is None else max(0.0, (timezone.now() - last).total_seconds())


def readiness_checks() -> dict[str, Callable[[], CheckResult]]:
    return {
        "database": check_database,
        "migrations": check_migrations,
        "master_keys": check_master_keys,
        "job_worker": recent(
            "job_worker", timedelta(seconds=settings.STREHA_WORKER_HEARTBEAT_MAX_SECONDS)
        ),
        "audit_checkpoint": recent(
            "audit_checkpoint", timedelta(seconds=settings.STREHA_AUDIT_CHECKPOINT_MAX_SECONDS)
        ),
    }


def readiness() -> tuple[bool, dict[str, CheckResult]]:
    results = {}
    needs_database = ("migrations", "job_worker", "audit_checkpoint")
    for name, check in readiness_checks().items():
        database_down = results.get("database", CheckResult(OK)).status == FAILED
        if database_down and name in needs_database:
            results[name] = CheckResult(SKIPPED, "database unreachable")
            continue
        results[name] = check()
    return all(r.status != FAILED for r in results.values()), results
