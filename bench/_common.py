"""Shared set-up for benchmarks: a dedicated database filled by the demo generator.

``BENCH_PERSONS`` sets the scale (default 1,000,000). By default the database is a SQLite file in
var/bench/; with ``BENCH_DATABASE_URL`` (``postgres://user@host:port/base``) each benchmark uses
its own PostgreSQL database ``base_<name>``, created when missing. Either is reused between runs
(the generator is idempotent), so only the first run pays for the data.

A data set opens only with the master keys it was written with (its blind indexes too): when
``var/bench/<name>-master-keys.json`` exists (a copy of the key file of the machine that
generated it, kept beside a copied data set), it is used instead of the development key file.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"


def database_url(name: str) -> str:
    """The benchmark database for ``name``: SQLite under var/bench/, or PostgreSQL by URL."""
    base = os.environ.get("BENCH_DATABASE_URL", "")
    if not base:
        return f"sqlite:///{OUT / (name + '.sqlite3')}"
    server, _, database = base.rstrip("/").rpartition("/")
    target = f"{database}_{name}".replace("-", "_")
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{target}"')
    return f"{server}/{target}"


def setup(name: str = "bench") -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", database_url(name))
    keys = OUT / f"{name}-master-keys.json"
    if keys.exists():
        os.environ.setdefault("STREHA_MASTER_KEY_FILE", str(keys))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "streha.settings")
    os.environ.setdefault("STREHA_LOG_LEVEL", "WARNING")
    # Measure what production runs: no debug (no query log, no template debugging).
    os.environ.setdefault("STREHA_DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def persons_wanted() -> int:
    return int(os.environ.get("BENCH_PERSONS", "1000000"))


def ensure_demo(persons: int, seed: int = 7) -> None:
    from django.core.management import call_command

    call_command("demo", persons=persons, seed=seed, verbosity=0)


def ensure_cases(seed: int = 7, progress=None) -> None:
    """The demo's victim cases for the persons of ``seed`` (idempotent; a copied data set may
    lack some), each opened by a demo staff member of its agency."""
    from streha.accounts.models import User
    from streha.cases.demo import generate_cases
    from streha.people.models import Person

    staff = {
        u.agency_id: u for u in User.objects.filter(username__contains=".").exclude(agency=None)
    }
    persons = Person.objects.filter(reference__startswith=f"D{seed}-")
    generate_cases(seed, persons, creators=staff, progress=progress)


def busiest(users, records, agency_field: str):
    """The first of ``users`` in the agency holding the most of ``records`` (``agency_field``
    naming the record's agency), and that many: the heaviest lists a benchmark can read."""
    from django.db.models import Count

    top = (
        records.filter(**{f"{agency_field}__in": users.values("agency")})
        .values(agency_field)
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    return users.filter(agency_id=top[agency_field]).first(), top["n"]


def busiest_case_worker(roles) -> tuple:
    """The user with one of ``roles`` in the agency owning the most victim cases, that
    agency's case count, and its cases newest first (a queryset to slice)."""
    from streha.accounts.models import User
    from streha.cases.models import Case

    workers = User.objects.filter(role_grants__role__in=list(roles))
    user, count = busiest(workers, Case.objects.all(), "owner_agency")
    return user, count, Case.objects.filter(owner_agency_id=user.agency_id).order_by("-pk")


def timed(function, repeat: int) -> list[float]:
    """Milliseconds for each of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def say(message: str) -> None:
    """A progress line, at once (a long run at 1,000,000 persons shows where it is)."""
    print(
        f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", file=sys.stderr, flush=True
    )


def warm_database() -> str:
    """Read the whole database once, before measuring, so that the figures are those of a server
    in its steady state (its database in memory: 3.8 GB at 1,000,000 persons on a machine of
    24 GB) and not of its first minutes after a restart, when every case or name measured for the
    first time is read from disk. Says what it did (it is written beside the figures).

    PostgreSQL: first what autovacuum has done on a server in its steady state
    (``settle_postgresql``), then ``pg_prewarm`` in its ``read`` mode (into the operating
    system's cache, which holds any size; the server's own buffers then fill during the warm-up
    calls), if the extension can be created; otherwise nothing is warmed and it says so.
    SQLite: the file is read once."""
    from django.db import DatabaseError, connection

    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                return settle_and_warm_postgresql(cursor)
        except DatabaseError as error:
            return f"not warmed ({type(error).__name__})"
    path = Path(str(connection.settings_dict["NAME"]))
    if not path.is_file():
        return "not warmed (not a file)"
    size = 0
    with path.open("rb") as database:
        while chunk := database.read(8 << 20):
            size += len(chunk)
    return f"file read once ({size >> 20:,} MB)"


def settle_postgresql(cursor, tables: tuple[str, ...] = ()) -> str:
    """``VACUUM (ANALYZE)`` of the database (or of ``tables``), through an autocommit cursor:
    what autovacuum has done on a server in its steady state (visibility maps set, so an index
    answers alone; planner statistics current). A data set just generated, or a server whose
    statistics were lost by an unclean stop, has neither until autovacuum comes round: at
    1,000,000 persons a search read 6,351 table rows for what the index holds (16 ms, 10 ms
    once vacuumed)."""
    named = ", ".join('"' + table.replace('"', '""') + '"' for table in tables)
    cursor.execute(f"VACUUM (ANALYZE) {named}".rstrip())
    return "vacuumed and analysed"


def settle_and_warm_postgresql(cursor) -> str:
    """What ``warm_database`` does on PostgreSQL, through any autocommit DB-API cursor
    (bench/load.py has no Django connection of its own), and what it says it did."""
    return f"{settle_postgresql(cursor)}; {warm_postgresql(cursor)}"


def warm_postgresql(cursor) -> str:
    """``warm_database`` on PostgreSQL, through any DB-API cursor (bench/load.py has no Django
    connection of its own): every table and index of the schema read into the system's cache."""
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    cursor.execute(
        "SELECT coalesce(sum(pg_prewarm(c.oid::regclass, 'read')), 0)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 't', 'm')"
    )
    return f"pg_prewarm read {cursor.fetchone()[0]:,} blocks"


def round_robin(functions: dict, requests: int, warm: int = 20) -> dict[str, list[float]]:
    """Milliseconds per call of each function, taken in turn ``requests`` times after ``warm``
    calls each: round robin, so that every page and its references see the same machine (a
    background job, a WAL checkpoint) rather than one of them a quieter minute."""
    for name, function in functions.items():  # warm caches and connections
        say(f"warming {name} ({warm} calls)")
        timed(function, warm)
    samples = {name: [] for name in functions}
    step = max(1, requests // 10)
    for done in range(requests):
        for name, function in functions.items():
            samples[name] += timed(function, 1)
        if (done + 1) % step == 0:
            say(f"measured {done + 1} / {requests} rounds")
    return samples


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3)}


def write(name: str, figures: dict) -> Path:
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2))
    return path


def table(rows: list[tuple], headers: tuple) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [line.format(*headers), line.format(*("-" * w for w in widths))]
        + [line.format(*row) for row in rows]
    )
