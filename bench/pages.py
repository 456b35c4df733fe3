"""Case pages at scale: the case list (filtered, paged), the case page and case search (POST,
blind index), each beside two references measured in the same run: the floor (an empty Django
view) and the "audited shell" (the signed-in base template and the one durable audit event every
read of protected data must write: the true floor of an audited page).

Goals (issue 17): every page's p95 <= 2x the audited shell's p95; and flat with scale: each page's
p95 at ``BENCH_PERSONS`` persons (default 1,000,000; 0.3x as many cases) within 1.25x its p95 at
``BENCH_SMALL_PERSONS`` (default 3,000). Each scale has its own database (SQLite under var/bench/
or, with ``BENCH_DATABASE_URL``, PostgreSQL) and is measured in its own process. Requests go round
robin over the references and the pages; beside the goal's three pages, the person list, "my
work" (the home page), the task list and the referral inbox are measured the same way
(``BENCH_PAGES=issue``: the three alone). Writes var/bench/pages.json (and pages-<N>.json per
scale) with the database vendor, ``audited_shell_p95_ms`` and each page's ratio to both references.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from itertools import count

import _common

SHELL_GOAL = 2.0
SCALE_GOAL = 1.25

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
SEED = int(os.environ.get("BENCH_SEED", "7"))


def measure(persons: int) -> None:
    os.environ["BENCH_PERSONS"] = str(persons)
    _common.setup(f"pages-{persons}")
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "_urls"
    from streha.accounts.models import Role
    from streha.cases.models import Case, Status
    from streha.people.models import Person

    wanted = _common.persons_wanted()
    demo_persons = Person.objects.filter(reference__startswith=f"D{SEED}-")
    if demo_persons.count() < wanted:
        # The whole demo (persons, tips, criminal cases): only while persons are missing, since
        # its idempotent pass over every case costs minutes at 1,000,000 persons.
        _common.say(f"{persons:,} persons: making the data set (only the first run does)")
        _common.ensure_demo(wanted, seed=SEED)
    _common.say("making sure the cases exist")
    _common.ensure_cases(
        SEED, progress=lambda done, total: _common.say(f"cases: {done:,} / {total:,}")
    )
    _common.say("choosing the user and the search terms")
    # The busiest agency that has a case worker or investigator among the demo staff.
    user, agency_cases, cases = _common.busiest_case_worker([Role.CASE_WORKER, Role.INVESTIGATOR])
    cases = list(cases.select_related("person")[:REQUESTS])
    from streha.audit import read_context

    # The benchmark's own search terms: decrypted inside one audited system read.
    with read_context.system("benchmark: search terms"):
        names = [f"{c.person.given_name} {c.person.family_name}" for c in cases[:REQUESTS]]
    client = Client()
    client.force_login(user)
    statuses = ["", *Status.values]
    ticks = count()

    def case_list():
        i = next(ticks)
        status = statuses[i % len(statuses)]
        response = client.get(f"/cases/?status={status}&page={1 + i % 5}")
        assert response.status_code == 200, response.status_code

    def case_detail():
        response = client.get(f"/cases/{cases[next(ticks) % len(cases)].public_id}/")
        assert response.status_code == 200, response.status_code

    def search():
        response = client.post("/cases/", {"q": names[next(ticks) % len(names)]})
        assert response.status_code == 200, response.status_code

    def person_list():
        response = client.get(f"/persons/?page={1 + next(ticks) % 5}")
        assert response.status_code == 200, response.status_code

    def my_work():
        assert client.get("/").status_code == 200

    def task_list():
        assert client.get("/cases/tasks/").status_code == 200

    def referral_inbox():
        assert client.get("/cases/referrals/").status_code == 200

    def floor():
        assert client.get("/_floor/").status_code == 200

    def audited_shell():
        assert client.get("/_audited_shell/").status_code == 200

    pages = {"case_list": case_list, "case_detail": case_detail, "search": search}
    # The other pages of a case worker's day (issue 17's load mix), measured the same way
    # (``BENCH_PAGES=issue`` for the three pages of the goal alone).
    if os.environ.get("BENCH_PAGES", "all") != "issue":
        pages |= {
            "person_list": person_list,
            "my_work": my_work,
            "task_list": task_list,
            "referral_inbox": referral_inbox,
        }
    references = {"floor": floor, "audited_shell": audited_shell}
    if QUERIES:
        show_queries({**references, **pages})
        return
    if AREAS:
        show_areas(persons, {"audited_shell": audited_shell, **pages})
        return
    _common.say(f"measuring {REQUESTS} rounds of each page and reference")
    # CPU milliseconds of this process per request beside the wall time (issue 17's load: on
    # two saturated cores every ms of CPU per request counts; the database server's CPU, on
    # PostgreSQL, is not in it).
    cpu: dict[str, list[float]] = {}

    def with_cpu(name, function):
        def run():
            started = time.process_time()
            function()
            cpu.setdefault(name, []).append((time.process_time() - started) * 1000)

        return run

    everything = {name: with_cpu(name, f) for name, f in {**references, **pages}.items()}
    _common.say("warming the database")
    warmed = _common.warm_database()
    _common.say(warmed)
    samples = _common.round_robin(everything, REQUESTS)
    cpu = {name: values[-REQUESTS:] for name, values in cpu.items()}  # without the warm-up
    floor_figures = _common.summary(samples["floor"])
    shell_figures = _common.summary(samples["audited_shell"])
    from django.db import connection

    figures = {
        "database": connection.vendor,
        "database_warmed": warmed,
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "requests": REQUESTS,
        "user_agency_cases": agency_cases,
        "floor_median_ms": floor_figures["median_ms"],
        "floor_p95_ms": floor_figures["p95_ms"],
        "audited_shell_median_ms": shell_figures["median_ms"],
        "audited_shell_p95_ms": shell_figures["p95_ms"],
        "audited_shell_cpu_median_ms": round(statistics.median(cpu["audited_shell"]), 3),
        "pages": {
            name: {
                **_common.summary(samples[name]),
                "cpu_median_ms": round(statistics.median(cpu[name]), 3),
            }
            for name in pages
        },
    }
    rows = [
        ("floor", floor_figures["median_ms"], floor_figures["p95_ms"], "", "", ""),
        (
            "audited shell",
            shell_figures["median_ms"],
            shell_figures["p95_ms"],
            round(shell_figures["p95_ms"] / floor_figures["p95_ms"], 1),
            "",
            figures["audited_shell_cpu_median_ms"],
        ),
    ]
    for name, result in figures["pages"].items():
        result["p95_vs_floor"] = round(result["p95_ms"] / floor_figures["p95_ms"], 1)
        result["p95_vs_audited_shell"] = round(result["p95_ms"] / shell_figures["p95_ms"], 2)
        result["audited_shell_goal_met"] = result["p95_vs_audited_shell"] <= SHELL_GOAL
        rows.append(
            (
                name,
                result["median_ms"],
                result["p95_ms"],
                result["p95_vs_floor"],
                result["p95_vs_audited_shell"],
                result["cpu_median_ms"],
            )
        )
    headers = (
        "page",
        "median ms",
        "p95 ms",
        "p95 / floor",
        "p95 / audited shell (goal <= 2)",
        "CPU ms (median)",
    )
    print(f"{connection.vendor}, {figures['persons']:,} persons, {figures['cases']:,} cases")
    print(_common.table(rows, headers))
    print("written:", _common.write(f"pages-{persons}", figures))


QUERIES = sys.argv[1:2] == ["--queries"]
AREAS = sys.argv[1:2] == ["--areas"]


def show_areas(persons: int, pages: dict) -> None:
    """``--areas N``: where each page's time goes by area of code (``_areas``), and what its
    median would be if the ORM cost nothing, beside the audited shell's median. The medians
    are taken without the profiler, round robin (``BENCH_PROFILE_ROUNDS`` rounds, default
    60); the shares under cProfile, page by page. Writes
    var/bench/page-areas-<database>-<N>.json."""
    import cProfile
    import pstats

    import _areas
    from django.db import connection

    rounds = int(os.environ.get("BENCH_PROFILE_ROUNDS", "60"))
    _common.say(_common.warm_database())
    medians = {
        name: _common.summary(samples)["median_ms"]
        for name, samples in _common.round_robin(pages, rounds).items()
    }
    shell = medians["audited_shell"]
    figures = {"database": connection.vendor, "persons": persons, "rounds": rounds, "pages": {}}
    rows = []
    for name, page in pages.items():
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(rounds):
            page()
        profile.disable()
        shares = _areas.areas_of(pstats.Stats(profile))
        ceiling = _areas.without_orm(medians[name], shares)
        page_figures = figures["pages"][name] = {
            "median_ms": medians[name],
            "median_vs_audited_shell": round(medians[name] / shell, 2),
            "without_orm_ms": ceiling,
            "without_orm_vs_audited_shell": round(ceiling / shell, 2),
            "shares": shares,
        }
        rows.append(
            (
                name,
                medians[name],
                page_figures["median_vs_audited_shell"],
                round(100 * shares.get(_areas.ORM, 0.0), 1),
                ceiling,
                page_figures["without_orm_vs_audited_shell"],
            )
        )
    headers = (
        "page",
        "median ms",
        "/ shell",
        "ORM % of profile",
        "median without ORM",
        "/ shell (goal <= 2)",
    )
    print(f"{connection.vendor}, {persons:,} persons, {rounds} rounds")
    print(_common.table(rows, headers))
    print("written:", _common.write(f"page-areas-{connection.vendor}-{persons}", figures))


def show_queries(pages: dict) -> None:
    """``--queries N``: each page's queries with their time (Django's ``execute_wrapper``, the
    database's answer included), after a few warm-up calls, and the page's top functions under
    cProfile (``BENCH_PROFILE_ROUNDS`` calls, default 20; ``BENCH_PROFILE_SORT``, default
    cumulative). Nothing measured for the goal."""
    import cProfile
    import pstats
    from io import StringIO

    from django.db import connection

    rounds = int(os.environ.get("BENCH_PROFILE_ROUNDS", "20"))
    wanted = os.environ.get("BENCH_QUERY_PAGES", "")
    for name, page in pages.items():
        if wanted and name not in wanted.split(","):
            continue
        for _ in range(5):
            page()
        log: list[tuple[float, str]] = []

        def timing(execute, sql, params, many, context, log=log):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                log.append(((time.perf_counter() - started) * 1000, sql))

        with connection.execute_wrapper(timing):
            started = time.perf_counter()
            page()
            wall = (time.perf_counter() - started) * 1000
        print(f"== {name}: {len(log)} queries, {sum(t for t, _ in log):.1f} ms of {wall:.1f} ms")
        for elapsed, sql in log:
            print(f"  {elapsed:7.2f} ms  {sql[:220]}")
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(rounds):
            page()
        profile.disable()
        out = StringIO()
        limit = os.environ.get("BENCH_PROFILE_FILTER", "")
        order = os.environ.get("BENCH_PROFILE_SORT", "cumulative")
        stats = pstats.Stats(profile, stream=out).sort_stats(order)
        stats.print_stats(*([limit] if limit else []), 45)
        print(out.getvalue())


def main() -> None:
    """Each scale in its own process (one database per process), then the comparison."""
    small = int(os.environ.get("BENCH_SMALL_PERSONS", "3000"))
    large = _common.persons_wanted()
    results = {}
    for persons in dict.fromkeys([small, large]):
        subprocess.run(  # noqa: S603 - this script, our interpreter
            [sys.executable, __file__, "--measure", str(persons)], check=True
        )
        results[persons] = json.loads((_common.OUT / f"pages-{persons}.json").read_text())
    figures = dict(results[large])
    figures["goals"] = {"p95_vs_audited_shell": SHELL_GOAL, "flat_with_scale": SCALE_GOAL}
    figures["flat_with_scale"] = {
        "small_persons": results[small]["persons"],
        "large_persons": results[large]["persons"],
        "pages": {},
    }
    rows = []
    for name, result in results[large]["pages"].items():
        before = results[small]["pages"][name]["p95_ms"]
        ratio = round(result["p95_ms"] / before, 2)
        figures["flat_with_scale"]["pages"][name] = {
            "p95_small_ms": before,
            "p95_large_ms": result["p95_ms"],
            "ratio": ratio,
            "goal_met": ratio <= SCALE_GOAL,
        }
        rows.append((name, before, result["p95_ms"], ratio))
    figures["by_scale"] = {str(persons): results[persons] for persons in results}
    headers = (
        "page",
        f"p95 ms at {results[small]['persons']:,}",
        f"p95 ms at {results[large]['persons']:,}",
        f"ratio (goal <= {SCALE_GOAL})",
    )
    print(_common.table(rows, headers))
    print("written:", _common.write("pages", figures))


if __name__ == "__main__":
    if sys.argv[1:2] in (["--measure"], ["--queries"], ["--areas"]):
        measure(int(sys.argv[2]))
    else:
        main()
