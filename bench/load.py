"""Load: many staff of several roles and the public, over HTTP, against gunicorn on PostgreSQL.

Starts a throw-away PostgreSQL cluster (``PG_BIN``, port ``BENCH_PG_PORT``, default 5451) unless
``BENCH_DATABASE_URL`` names a server (then database ``<base>_load``), loads the demo data at
``BENCH_PERSONS`` persons (default 1,000,000), serves it with ``streha serve``,
``BENCH_LOAD_WORKERS`` gunicorn workers (default 4) of ``BENCH_LOAD_THREADS`` threads each
(default 2; see the README's operations section for why), and runs the users of
bench/locustfile.py in steps of ``BENCH_LOAD_STEPS`` concurrent users (default
10,25,50,75,100,150,200,300), each held ``BENCH_LOAD_STEP_SECONDS`` (default 120) after every
user of the step has signed in. It stops at the first step with errors or p95 above 1 s: the
breaking point.

Goal (issue 17) at 50 concurrent users: 0 errors, reads' p95 <= 300 ms, writes' p95 <= 1 s.

Each step also records where the machine's CPU went (Locust itself, the gunicorn processes, the
PostgreSQL backends of the database, and everything else on the machine, from /proc) and how long
audit appends waited for and held the chain head lock (the server's /metrics, summed over its
workers): the one lock every audited request takes. ``BENCH_LOAD_DB`` names the database
(default ``load``: ``<base>_load``), so a smaller data set can be measured beside the 1M one.
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
# Near the breaking point a 30-second step's p95 rests on a handful of slow requests: seven
# 50-user steps of 30 s on one idle machine gave 470 to 1,500 ms. Two minutes hold ~2,400.
STEP_SECONDS = int(os.environ.get("BENCH_LOAD_STEP_SECONDS", "120"))
SETTLE_SECONDS = int(os.environ.get("BENCH_LOAD_SETTLE_SECONDS", "15"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_LOAD_THREADS", "2"))
DATABASE_NAME = os.environ.get("BENCH_LOAD_DB", "load")
METRICS_TOKEN = "load-bench-metrics-token-0123456789"  # a throw-away server on 127.0.0.1
TICKS = os.sysconf("SC_CLK_TCK")
P95_LIMIT_MS = 1000
GOALS = {"users": 50, "read_p95_ms": 300, "write_p95_ms": 1000, "errors": 0}


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # fields from the state on (the name may hold spaces)


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid``; 0 if it is gone."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS if fields else 0.0


def descendants(root: int) -> list[int]:
    """``root`` and every process under it (gunicorn's master, its workers, the job worker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS, sum(values[:8]) / TICKS


class CpuMeter:
    """CPU used during a step by Locust, the gunicorn processes, the database's backends, and
    the whole machine (the rest is other work on a shared machine)."""

    def __init__(self, server, database_url: str):
        self.server, self.database_url = server, database_url

    def backends(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchall()
        return [pid for (pid,) in rows]

    def snapshot(self) -> dict:
        gunicorn = descendants(self.server.process.pid) if self.server.process else []
        return {
            "locust": {os.getpid(): cpu_of(os.getpid())},
            "gunicorn": {pid: cpu_of(pid) for pid in gunicorn},
            "postgres": {pid: cpu_of(pid) for pid in self.backends()},
            "machine": machine_busy_seconds(),
        }

    def start(self) -> None:
        self.before, self.began = self.snapshot(), time.monotonic()

    def shares(self) -> dict:
        after, seconds = self.snapshot(), time.monotonic() - self.began
        used = {}
        for part in ("locust", "gunicorn", "postgres"):
            # A process started during the step counts from zero; one that ended is left out.
            used[part] = sum(
                cpu - self.before[part].get(pid, 0.0) for pid, cpu in after[part].items()
            )
        busy = after["machine"][0] - self.before["machine"][0]
        total = after["machine"][1] - self.before["machine"][1]
        used["rest of the machine"] = max(0.0, busy - sum(used.values()))
        return {
            "cores_used": {part: round(cpu / seconds, 2) for part, cpu in used.items()},
            "share_of_busy_cpu": {
                part: round(cpu / busy, 3) if busy else None for part, cpu in used.items()
            },
            "machine_busy_fraction": round(busy / total, 3) if total else None,
            "cores": os.cpu_count(),
        }


def scrape_audit_head(base: str) -> dict:
    """The audit head histograms from the server's /metrics (summed over its workers)."""
    import re
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our server
        text = response.read().decode()
    found = {}
    for kind in ("wait", "held"):
        name = f"streha_audit_head_{kind}_seconds"
        sample = re.compile(rf"^{name}_(sum|count)(?:{{[^}}]*}})? ([0-9.e+-]+)$", re.MULTILINE)
        bucket = re.compile(rf'^{name}_bucket{{[^}}]*le="([^"]+)"[^}}]*}} ([0-9.e+-]+)$', re.M)
        values = {key: float(number) for key, number in sample.findall(text)}
        found[kind] = {
            "sum": values.get("sum", 0.0),
            "count": values.get("count", 0.0),
            "buckets": {le: float(n) for le, n in bucket.findall(text)},
        }
    return found


def audit_head_figures(before: dict, after: dict, requests: int) -> dict:
    """Per step: appends, mean and p95 (bucket bound) of the wait and the hold, and the wait
    per request of the step (all requests, reads and writes, audited or not)."""
    figures = {}
    for kind in ("wait", "held"):
        count = after[kind]["count"] - before[kind]["count"]
        total = after[kind]["sum"] - before[kind]["sum"]
        p95 = None
        if count:
            bounds = sorted(after[kind]["buckets"], key=float)
            for le in bounds:
                done = after[kind]["buckets"][le] - before[kind]["buckets"].get(le, 0.0)
                if done >= 0.95 * count:
                    p95 = "over 5 s" if le == "+Inf" else round(float(le) * 1000, 1)
                    break
        figures[kind] = {
            "appends": int(count),
            "mean_ms": round(total * 1000 / count, 2) if count else None,
            "p95_ms_at_most": p95,
            "total_s": round(total, 2),
        }
    figures["wait_ms_per_request"] = (
        round(figures["wait"]["total_s"] * 1000 / requests, 2) if requests else None
    )
    return figures


def demo_persons(database_url: str) -> int:
    """How many persons of the load's demo seed (7) the database holds (0 before migrating)."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        exists = connection.execute("SELECT to_regclass('people_person')").fetchone()[0]
        if not exists:
            return 0
        return connection.execute(
            "SELECT count(*) FROM people_person WHERE reference LIKE 'D7-%%'"
        ).fetchone()[0]


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


def warm(database_url: str) -> str:
    """The database read into memory once before the ramp (``_common.warm_database``): the
    steps measure a server in its steady state, not one reading every page from disk."""
    import psycopg

    try:
        with psycopg.connect(database_url, autocommit=True) as connection:
            return _common.settle_and_warm_postgresql(connection.cursor())
    except psycopg.Error as error:
        return f"not warmed ({type(error).__name__})"


def main() -> None:
    persons = _common.persons_wanted()
    cluster = None
    if os.environ.get("BENCH_DATABASE_URL"):
        database_url = _common.database_url(DATABASE_NAME)
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
        # Every simulated member of the public posts from this machine's one address, and all
        # of them together send more tips in ten minutes than the whole line's flood threshold:
        # the proof of work would grow toward 24 bits (seconds of hashing per tip, on the same
        # two cores as the server, where real senders hash on their own phones).
        "STREHA_TIP_FLOOD_PER_10_MINUTES": "100000000",
        "STREHA_VAR_DIR": str(_common.OUT / "load-var"),
        "STREHA_METRICS_TOKEN": METRICS_TOKEN,
        "STREHA_THREADS": str(THREADS),
        # Connections kept through a whole step: the CPU of a backend that ends during a step
        # can no longer be read from /proc, so a step longer than the default age of a
        # connection (60 s) counted almost none of PostgreSQL's work.
        "STREHA_DB_CONN_MAX_AGE": str(STEP_SECONDS + SETTLE_SECONDS + 600),
    }
    server = None
    try:
        print(f"loading {persons:,} persons into {database_url.rpartition('@')[2]} ...")
        started = time.monotonic()
        _cluster.streha("migrate", "-v0", env=env)
        if demo_persons(database_url) < persons:
            _cluster.streha("demo", "--persons", str(persons), "--seed", "7", "-v0", env=env)
        else:
            # The demo's idempotent pass over every case costs minutes at 1,000,000 persons.
            print("  the persons exist already: the demo's idempotent pass is skipped")
        print(f"  ready in {time.monotonic() - started:.0f} s")
        warmed = warm(database_url)
        print(f"  {warmed}")
        server = _cluster.Server(env, WORKERS, log=_common.OUT / "load-gunicorn.log")
        server.start()
        figures = {
            "database": "postgresql",
            "database_warmed": warmed,
            "persons": persons,
            "gunicorn_workers": WORKERS,
            "gunicorn_threads": THREADS,
            "load_generator": "locust FastHttpUser (geventhttpclient), in this process",
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
        meter = CpuMeter(server, database_url)
        broke = None
        for users in STEPS:
            runner.start(users, spawn_rate=max(5, users))
            deadline = time.monotonic() + 120
            while runner.user_count < users and time.monotonic() < deadline:
                gevent.sleep(0.5)
            # Every staff user of the step has signed in (Argon2, once per user) before the
            # step is measured: sign-ins are not the work of the day.
            staff = sum(n for name, n in runner.user_classes_count.items() if name != "Public")
            while locustfile.SIGNED_IN["count"] < staff and time.monotonic() < deadline + 180:
                gevent.sleep(1)
            # The requests queued behind that burst of sign-ins are answered, and the users
            # spread over their think times, before the step is measured: the step is the
            # steady work of that many users, not the tail of their simultaneous arrival.
            gevent.sleep(SETTLE_SECONDS)
            environment.stats.reset_all()
            head_before = scrape_audit_head(server.base)
            meter.start()
            began = time.monotonic()
            gevent.sleep(STEP_SECONDS)
            step = step_figures(environment, users, time.monotonic() - began)
            step["cpu"] = meter.shares()
            step["audit_head"] = audit_head_figures(
                head_before, scrape_audit_head(server.base), step["requests"]
            )
            figures["steps"].append(step)
            print(
                f"{users:>4} users  {step['requests_per_second']:>7} req/s  "
                f"p95 {step['p95_ms']} ms (reads {step['read_p95_ms']}, writes "
                f"{step['write_p95_ms']})  errors {step['errors']}"
            )
            print(
                f"      cores used {step['cpu']['cores_used']}; audit head wait "
                f"{step['audit_head']['wait_ms_per_request']} ms per request, mean "
                f"{step['audit_head']['wait']['mean_ms']} ms per append, held "
                f"{step['audit_head']['held']['mean_ms']} ms"
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
