"""Load: many staff of several roles and the public, over HTTP, against gunicorn on PostgreSQL.

Starts a throw-away PostgreSQL cluster (``PG_BIN``, port ``BENCH_PG_PORT``, default 5451) unless
``BENCH_DATABASE_URL`` names a server (then database ``<base>_load``), loads the demo data at
``BENCH_PERSONS`` persons (default 1,000,000), serves it with ``streha serve`` and
``BENCH_LOAD_WORKERS`` gunicorn workers (default 4), and runs the users of bench/locustfile.py in
steps of ``BENCH_LOAD_STEPS`` concurrent users (default 10,25,50,75,100,150,200,300), each held
``BENCH_LOAD_STEP_SECONDS`` (default 30) after every user of the step has signed in. It stops at
the first step with errors or p95 above 1 s: the breaking point.

Goal (issue 17) at 50 concurrent users: 0 errors, reads' p95 <= 300 ms, writes' p95 <= 1 s.
The tip line's anti-abuse timer and per-address rate limit are relaxed for the run (every
simulated member of the public comes from 127.0.0.1). Writes var/bench/load.json.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.stats import StatsEntry  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cluster  # noqa: E402
import _common  # noqa: E402
import locustfile  # noqa: E402

STEPS = [
    int(n) for n in os.environ.get("BENCH_LOAD_STEPS", "10,25,50,75,100,150,200,300").split(",")
]
STEP_SECONDS = int(os.environ.get("BENCH_LOAD_STEP_SECONDS", "30"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "4"))
P95_LIMIT_MS = 1000
GOALS = {"users": 50, "read_p95_ms": 300, "write_p95_ms": 1000, "errors": 0}


def group(stats, prefix: str) -> StatsEntry:
    entry = StatsEntry(stats, prefix, "")
    for (name, _method), one in stats.entries.items():
        if name.startswith(prefix):
            entry.extend(one)
    return entry


def step_figures(env, users: int, seconds: float) -> dict:
    stats = env.stats
    reads, writes, total = group(stats, "READ"), group(stats, "WRITE"), stats.total
    by_name = {
        name: {
            "requests": one.num_requests,
            "failures": one.num_failures,
            "p95_ms": one.get_response_time_percentile(0.95),
        }
        for (name, _method), one in sorted(stats.entries.items())
    }
    return {
        "users": users,
        "seconds": round(seconds, 1),
        "requests": total.num_requests,
        "requests_per_second": round(total.num_requests / seconds, 1),
        "errors": total.num_failures,
        "p95_ms": total.get_response_time_percentile(0.95),
        "read_p95_ms": reads.get_response_time_percentile(0.95) if reads.num_requests else None,
        "write_p95_ms": writes.get_response_time_percentile(0.95) if writes.num_requests else None,
        "reads": reads.num_requests,
        "writes": writes.num_requests,
        "by_request": by_name,
        "error_kinds": {str(e.error)[:120]: e.occurrences for e in stats.errors.values()},
    }


def main() -> None:
    persons = _common.persons_wanted()
    cluster = None
    if os.environ.get("BENCH_DATABASE_URL"):
        database_url = _common.database_url("load")
    else:
        cluster = _cluster.Cluster(int(os.environ.get("BENCH_PG_PORT", "5451"))).init()
        cluster.start()
        database_url = cluster.createdb()
    env = {
        "DATABASE_URL": database_url,
        "STREHA_DEBUG": "0",
        "STREHA_LOG_LEVEL": "WARNING",
        "STREHA_TIP_MIN_SECONDS": "0",
        "STREHA_TIP_RATE_PER_HOUR": "100000000",
        "STREHA_VAR_DIR": str(_common.OUT / "load-var"),
    }
    server = None
    try:
        print(f"loading {persons:,} persons into {database_url.rpartition('@')[2]} ...")
        started = time.monotonic()
        _cluster.streha("migrate", "-v0", env=env)
        _cluster.streha("demo", "--persons", str(persons), "--seed", "7", "-v0", env=env)
        print(f"  ready in {time.monotonic() - started:.0f} s")
        server = _cluster.Server(env, WORKERS, log=_common.OUT / "load-gunicorn.log")
        server.start()
        figures = {
            "database": "postgresql",
            "persons": persons,
            "gunicorn_workers": WORKERS,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
            "goals": GOALS,
            "steps": [],
        }
        environment = Environment(
            user_classes=[
                locustfile.CaseWorker,
                locustfile.Investigator,
                locustfile.HotlineOperator,
                locustfile.Public,
            ],
            host=server.base,
        )
        runner = environment.create_local_runner()
        broke = None
        for users in STEPS:
            runner.start(users, spawn_rate=max(5, users))
            deadline = time.monotonic() + 120
            while runner.user_count < users and time.monotonic() < deadline:
                gevent.sleep(0.5)
            # Sign-ins (Argon2) of the new users settle before the step is measured.
            signing_in = environment.stats.get("WRITE sign in", "POST")
            while time.monotonic() < deadline:
                before = signing_in.num_requests
                gevent.sleep(3)
                if signing_in.num_requests == before:
                    break
            environment.stats.reset_all()
            began = time.monotonic()
            gevent.sleep(STEP_SECONDS)
            step = step_figures(environment, users, time.monotonic() - began)
            figures["steps"].append(step)
            print(
                f"{users:>4} users  {step['requests_per_second']:>7} req/s  "
                f"p95 {step['p95_ms']} ms (reads {step['read_p95_ms']}, writes "
                f"{step['write_p95_ms']})  errors {step['errors']}"
            )
            _common.write("load", figures)
            if step["errors"] or step["p95_ms"] > P95_LIMIT_MS:
                broke = step
                break
        runner.quit()
        at_goal = next((s for s in figures["steps"] if s["users"] == GOALS["users"]), None)
        held = [s for s in figures["steps"] if not s["errors"] and s["p95_ms"] <= P95_LIMIT_MS]
        figures["held"] = (
            {k: held[-1][k] for k in ("users", "requests_per_second", "p95_ms")} if held else None
        )
        figures["breaking_point"] = (
            {k: broke[k] for k in ("users", "requests_per_second", "p95_ms", "errors")}
            if broke
            else None
        )
        figures["goal_met_at_50_users"] = bool(
            at_goal
            and at_goal["errors"] == 0
            and (at_goal["read_p95_ms"] or 0) <= GOALS["read_p95_ms"]
            and (at_goal["write_p95_ms"] or 0) <= GOALS["write_p95_ms"]
        )
        print("held:", figures["held"], " breaking point:", figures["breaking_point"])
        print("written:", _common.write("load", figures))
    finally:
        if server:
            server.stop()
        if cluster:
            cluster.destroy()


if __name__ == "__main__":
    main()
