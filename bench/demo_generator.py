"""How fast `streha demo` makes persons and cases (encrypted, blind-indexed, audited), beside
the floor: building the same persons in memory without sealing or saving them.

Wall-clock rates depend on what else the machine runs; the CPU rates (seconds of this process's
CPU, ``time.process_time``) measure the generator's own cost and are comparable between runs on
a shared machine. On PostgreSQL the server's CPU is not included in them. The rerun must create
nothing (the generator is idempotent)."""

import os
import random
import time
from datetime import date

import _common


def _timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _rate(count, seconds):
    return round(count / seconds) if count and seconds else None


def main() -> None:
    _common.setup("demo_generator")
    from django.db import connection

    from streha.accounts.models import Role
    from streha.cases.demo import generate_cases
    from streha.demo import generator
    from streha.people.models import Person

    wanted = _common.persons_wanted()
    load_before = os.getloadavg()[0]
    agencies, staff = generator.ensure_agencies_and_staff()
    before = Person.objects.filter(reference__startswith="D11-").count()
    (created, total), p_wall, p_cpu = _timed(
        lambda: generator.generate_persons(11, wanted, agencies, staff)
    )
    creators = {
        user.agency_id: user
        for user in staff.values()
        if user.agency_id and user.has_role(Role.CASE_WORKER, Role.INVESTIGATOR, Role.SUPERVISOR)
    }
    persons = Person.objects.filter(reference__startswith="D11-")
    (cases_created, cases_total), c_wall, c_cpu = _timed(
        lambda: generate_cases(11, persons, creators=creators)
    )
    (again, _), rerun_wall, _ = _timed(
        lambda: generator.generate_persons(11, wanted, agencies, staff)
    )
    (cases_again, _), _, _ = _timed(lambda: generate_cases(11, persons, creators=creators))

    owners = [agencies[code] for code in generator.REGISTERING]
    weights = list(generator.REGISTERING.values())
    sample = min(wanted, 50_000)
    rng = random.Random(0)
    floor_started = time.process_time()
    for index in range(sample):
        generator._build_person(rng, index, 11, owners, weights, {}, date(2026, 1, 1))
    floor_per_person = (time.process_time() - floor_started) / sample

    figures = {
        "database": connection.vendor,
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
        "persons": total,
        "created_this_run": created,
        "already_there": before,
        "seconds": round(p_wall, 2),
        "persons_per_second": _rate(created, p_wall),
        "persons_per_cpu_second": _rate(created, p_cpu),
        "cases": cases_total,
        "cases_created_this_run": cases_created,
        "cases_seconds": round(c_wall, 2),
        "cases_per_second": _rate(cases_created, c_wall),
        "cases_per_cpu_second": _rate(cases_created, c_cpu),
        "rerun_created": again + cases_again,
        "rerun_seconds": round(rerun_wall, 2),
        "floor_persons_per_cpu_second": round(1 / floor_per_person),
        "ratio_to_floor_cpu": (round(p_cpu / created / floor_per_person, 2) if created else None),
    }
    rows = [(key, value) for key, value in figures.items()]
    print(_common.table(rows, ("figure", "value")))
    print("written:", _common.write("demo_generator", figures))
    if again or cases_again:
        raise SystemExit("the rerun created records: the generator is not idempotent")


if __name__ == "__main__":
    main()
