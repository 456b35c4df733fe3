"""Audited pages read at once by several processes: does the audit chain serialise them?

Each of N processes (its own database connection, as gunicorn's workers) signs in as a case
worker and reads case pages (and the audited shell) in a loop for ``BENCH_CONTENTION_SECONDS``
(default 10), timing also how long each append holds the chain head (from taking it to the
commit that frees it). Measured twice on the same data:

- ``in_view``: every read event appended inside the view's transaction, as before the
  redesign (the chain head stays locked until the page's transaction commits);
- ``deferred``: read events appended after the view's transaction, in their own short one
  (``streha.audit.services``, "Reads"), as now.

Pages per second, median and p95 for each N (``BENCH_CONTENTION_PROCESSES``, default 1,2,4,8)
and the ratio deferred / in_view go to var/bench/audit_contention.json. Meant for PostgreSQL
(``BENCH_DATABASE_URL``), where the head lock is what serialises; on SQLite every transaction
takes the single writer lock (BEGIN IMMEDIATE) anyway. ``BENCH_PERSONS`` defaults to 3,000 here.
"""

import multiprocessing
import os
import platform
import time

import _common

SEED = 7
SECONDS = float(os.environ.get("BENCH_CONTENTION_SECONDS", "10"))
PROCESSES = [int(n) for n in os.environ.get("BENCH_CONTENTION_PROCESSES", "1,2,4,8").split(",")]
MODES = ("in_view", "deferred")


def prepare() -> dict:
    os.environ.setdefault("BENCH_PERSONS", "3000")
    _common.setup("audit_contention")
    from streha.accounts.models import Role
    from streha.cases.models import Case
    from streha.people.models import Person

    _common.ensure_demo(_common.persons_wanted(), seed=SEED)
    _common.ensure_cases(SEED)
    user, _count, cases = _common.busiest_case_worker([Role.CASE_WORKER])
    cases = list(cases.values_list("public_id", flat=True)[:200])
    from django.db import connection

    context = {
        "user_id": user.pk,
        "cases": [str(public_id) for public_id in cases],
        "persons": Person.objects.count(),
        "cases_total": Case.objects.count(),
        "database": connection.vendor,
    }
    connection.close()  # the children open their own
    return context


def reader(mode: str, context: dict, number: int, ready, go, results) -> None:
    """One process: sign in, wait for the common start, read pages until the time is up."""
    _common.setup("audit_contention")
    from django.conf import settings
    from django.test import Client

    from streha.accounts.models import User
    from streha.audit import read_context

    settings.ROOT_URLCONF = "_urls"
    held = _time_the_head_lock()
    if mode == "in_view":
        read_context.SAFE_METHODS = frozenset()  # every request appends its reads at once
    client = Client()
    client.force_login(User.objects.get(pk=context["user_id"]))
    cases = context["cases"]
    urls = [f"/cases/{cases[(number * 7 + i) % len(cases)]}/" for i in range(len(cases))]
    for url in urls[:3] + ["/_audited_shell/"]:  # warm: caches, session renewal
        assert client.get(url).status_code == 200
    samples = {"case_page": [], "audited_shell": []}
    held.clear()
    ready.put(number)
    go.wait()
    end, i = time.monotonic() + SECONDS, 0
    while time.monotonic() < end:
        name, url = ("audited_shell", "/_audited_shell/") if i % 4 == 3 else ("case_page", urls[i])
        started = time.perf_counter()
        response = client.get(url)
        samples[name].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        i = (i + 1) % len(urls)
    samples["head_held"] = list(held)
    results.put(samples)


def _time_the_head_lock() -> list[float]:
    """Milliseconds from taking the chain head (``services._locked_head``) to the commit that
    frees it, for every append of this process."""
    from django.db import transaction

    from streha.audit import services

    held, locked_head = [], services._locked_head

    def timed_locked_head():
        head = locked_head()
        started = time.perf_counter()
        transaction.on_commit(lambda: held.append((time.perf_counter() - started) * 1000))
        return head

    services._locked_head = timed_locked_head
    return held


def run(mode: str, processes: int, context: dict) -> dict:
    ctx = multiprocessing.get_context("spawn")
    results, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    children = [
        ctx.Process(target=reader, args=(mode, context, number, ready, go, results))
        for number in range(processes)
    ]
    for child in children:
        child.start()
    for _ in children:  # every process set up and warmed before the clock starts
        ready.get(timeout=600)
    go.set()
    collected = [results.get(timeout=SECONDS + 300) for _ in children]
    for child in children:
        child.join(60)
        assert child.exitcode == 0, f"a reader failed (exit code {child.exitcode})"
    figures = {"processes": processes}
    for name in ("case_page", "audited_shell", "head_held"):
        samples = [ms for one in collected for ms in one[name]]
        figures[name] = {"requests": len(samples), **_common.summary(samples)}
    total = sum(figures[name]["requests"] for name in ("case_page", "audited_shell"))
    figures["pages_per_second"] = round(total / SECONDS, 1)
    return figures


def main() -> None:
    context = prepare()
    figures = {
        "database": context["database"],
        "persons": context["persons"],
        "cases": context["cases_total"],
        "seconds_per_step": SECONDS,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared: figures are noisy)",
        "modes": {mode: [] for mode in MODES},
    }
    for processes in PROCESSES:
        for mode in MODES:
            figures["modes"][mode].append(run(mode, processes, context))
    rows, ratios = [], []
    for before, after in zip(*(figures["modes"][mode] for mode in MODES), strict=True):
        ratio = round(after["pages_per_second"] / before["pages_per_second"], 2)
        ratios.append({"processes": before["processes"], "throughput_deferred_vs_in_view": ratio})
        for mode, one in zip(MODES, (before, after), strict=True):
            rows.append(
                (
                    one["processes"],
                    mode,
                    one["pages_per_second"],
                    one["case_page"]["median_ms"],
                    one["case_page"]["p95_ms"],
                    one["audited_shell"]["p95_ms"],
                    one["head_held"]["median_ms"],
                )
            )
    figures["ratios"] = ratios
    headers = (
        "processes",
        "read events",
        "pages/s",
        "case median ms",
        "case p95 ms",
        "shell p95",
        "head held median ms",
    )
    print(_common.table(rows, headers))
    for one in ratios:
        print(
            f"{one['processes']} processes: throughput deferred / in view = "
            f"{one['throughput_deferred_vs_in_view']}"
        )
    print("written:", _common.write("audit_contention", figures))


if __name__ == "__main__":
    main()
