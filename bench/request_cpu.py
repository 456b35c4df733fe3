"""Where the CPU of one request goes on the common path (issue 17): a profile, not a timing test.

Runs pages in this process through Django's full stack (every middleware, the session, the
base template, the context processors, the audit of reads) with a signed-in case worker and
the public, under cProfile, and prints for each part of the common path its share of the
process CPU per request (the profiled parts, and the whole request without the profiler, which
inflates Python-heavy code about twofold). The database is the bench database
(``BENCH_PERSONS``, default 3,000; ``BENCH_DATABASE_URL`` for PostgreSQL) or ``DATABASE_URL``
when set. CPU is
``time.process_time`` (this process only: the database server's CPU is not in it), so the
figures are what one gunicorn worker spends per request. Writes var/bench/request_cpu.json.
"""

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

os.environ.setdefault("BENCH_PERSONS", "3000")
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "60"))
TOP = 25  # functions listed by their own CPU

# Parts of the common path, by the function that does each (cumulative CPU of the first match).
PARTS = {
    "whole request (Django handler)": ("django/core/handlers/base.py", "get_response"),
    "session load": ("django/contrib/sessions/backends/db.py", "load"),
    "session save": ("django/contrib/sessions/backends/db.py", "save"),
    "user from session (auth)": ("django/contrib/auth/__init__.py", "get_user"),
    "language (LocaleMiddleware)": ("django/middleware/locale.py", "process_request"),
    "CSRF check": ("django/middleware/csrf.py", "process_view"),
    "CSP header": ("csp/middleware.py", "process_response"),
    "prometheus (before+after)": ("django_prometheus/middleware.py", "process_response"),
    "template rendering": ("django/template/base.py", "render"),
    "context processor shell (navigation)": ("streha/web/context_processors.py", "shell"),
    "audit append (chain)": ("streha/audit/services.py", "_append"),
    "audit chain hash": ("streha/audit/chain.py", "hash_of"),
    "deferred reads release": ("streha/audit/services.py", "release"),
    "database driver (psycopg/sqlite execute)": ("django/db/backends/utils.py", "_execute"),
    "decryption (protection)": ("streha/protection/crypto.py", "open_sealed"),
}


def unprofiled_cpu_ms(client, pages: list[str]) -> float:
    """CPU milliseconds per request without the profiler (cProfile inflates Python-heavy code)."""
    cpu = time.process_time()
    for _ in range(REQUESTS):
        for path in pages:
            client.get(path)
    return (time.process_time() - cpu) * 1000 / (REQUESTS * len(pages))


def profile_pages(client, pages: list[str]) -> tuple[pstats.Stats, float, float, int]:
    for path in pages:  # warm: templates compiled, connections open
        client.get(path)
    profiler = cProfile.Profile(time.process_time)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    profiler.enable()
    for _ in range(REQUESTS):
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return pstats.Stats(profiler), cpu, wall, REQUESTS * len(pages)


def shares(stats: pstats.Stats, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request for each part (the first function matching its name)."""
    found = {}
    for part, (file_end, function) in PARTS.items():
        total = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
            if filename.endswith(file_end) and name == function:
                total = max(total, ct)
        found[part] = round(total * 1000 / requests, 2)
    return found


def main() -> None:
    _common.setup("request_cpu")
    _common.ensure_demo(_common.persons_wanted())
    from django.db import connection
    from django.test import Client

    from streha.accounts.models import User
    from streha.cases.models import Case

    worker = User.objects.get(username="shelter.worker")
    staff = Client()
    staff.force_login(worker)
    case = Case.objects.filter(owner_agency_id=worker.agency_id).order_by("pk").first()
    runs = {
        "public page (/learn/)": (Client(), ["/learn/"]),
        "staff home (/)": (staff, ["/"]),
        "case list": (staff, ["/cases/"]),
        "case page": (staff, [f"/cases/{case.public_id}/"] if case else ["/cases/"]),
    }
    figures = {"database": connection.vendor, "requests_each": REQUESTS, "pages": {}}
    for label, (client, pages) in runs.items():
        stats, cpu, wall, requests = profile_pages(client, pages)
        part = shares(stats, requests)
        plain = unprofiled_cpu_ms(client, pages)
        print(f"\n{label}: {plain:.1f} ms CPU per request without the profiler")
        figures["pages"][label] = {
            "cpu_ms_per_request_unprofiled": round(plain, 2),
            "cpu_ms_per_request": round(cpu * 1000 / requests, 2),
            "wall_ms_per_request": round(wall * 1000 / requests, 2),
            "parts_cpu_ms": part,
        }
        per_request = (cpu * 1000 / requests, wall * 1000 / requests)
        print(f"{label}: {per_request[0]:.1f} ms CPU, {per_request[1]:.1f} ms wall (profiled)")
        for name, ms in sorted(part.items(), key=lambda item: -item[1]):
            print(f"  {ms:>7.2f} ms  {name}")
        top = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:TOP]
        figures["pages"][label]["top_own_cpu_ms"] = {
            f"{Path(filename).name}:{line} {name}": round(tt * 1000 / requests, 3)
            for (filename, line, name), (_cc, _nc, tt, _ct, _callers) in top
        }
        for where, ms in figures["pages"][label]["top_own_cpu_ms"].items():
            print(f"      own {ms:>7.3f} ms  {where}")
    print("\nwritten:", _common.write("request_cpu", figures))


if __name__ == "__main__":
    main()
