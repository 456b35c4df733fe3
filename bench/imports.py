"""Importing victim records at scale: ``BENCH_IMPORT_ROWS`` rows (default 100,000) of a
synthetic HTCDS CSV through the real import job, into the bench database holding
``BENCH_PERSONS`` persons (default 1,000,000), beside the demo generator's bulk insert of the
same persons as the reference.

The reference inserts the file's own persons (same names, dates, numbers) the way the demo
generator inserts its persons (``generator.register_persons``: ids, sealed fields and blind
indexes through ``streha.protection.bulk``, one audit event each, and their name-search entries,
which every person must have, ``people.name_index``). The generator's own persons
(``generate_persons``, with aliases, addresses and narratives) are timed once more.
Import and reference are timed ``BENCH_IMPORT_REPEAT`` times (default 3), alternately, so
that both see the same machine; the goal ratio is the median of the pairs' ratios. CPU seconds
of the Python process are given too (on a shared machine they vary less than wall time; on
PostgreSQL the server's own CPU is not in them).

Each measurement runs in a forked child process, so its peak memory (ru_maxrss) is its own.
Memory is measured in two more runs, on a tenth of the rows and on all of them, with SQLite's
in-process page cache kept small, to show whether the importer's memory grows with the file.
Goal (issue 12): at most 3× the bulk insert's time. Writes var/bench/imports.json, one entry
per database and number of rows.
"""

import csv
import io
import json
import os
import resource
import time
from multiprocessing import get_context

import _common

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
SEED = int(os.environ.get("BENCH_SEED", "7"))


def _day(rng, first_year: int, last_year: int) -> str:
    year, month, day = (
        rng.randrange(first_year, last_year),
        rng.randrange(1, 13),
        rng.randrange(1, 29),
    )
    return f"{year}-{month:02d}-{day:02d}"


def synthetic_csv(prefix: str, rows: int) -> bytes:
    """Rows in the import format; names from the demo generator's synthetic lists."""
    import random

    from streha.demo import names

    rng = random.Random(prefix)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    header = [
        "ext_Reference",
        "prs_FirstName",
        "prs_SecondName",
        "prs_Birthdate",
        "prs_Gender",
        "prs_Citizenship",
        "prs_IdentityNumber",
        "vic_TraffickingStatus",
        "vic_TypeOfExploitation",
        "vic_MethodsOfControl",
        "ext_RegisteredOn",
        "hte_Country",
    ]
    writer.writerow(header)
    for index in range(rows):
        female = rng.random() < 0.8
        writer.writerow(
            [
                f"{prefix}{index:07d}",
                rng.choice(names.ALBANIAN_FEMALE if female else names.ALBANIAN_MALE),
                rng.choice(names.ALBANIAN_FAMILY),
                _day(rng, 1980, 2010),
                "Feminine" if female else "Masculine",
                rng.choice(["XK", "AL", "MD", "UA"]),
                str(rng.randrange(10**9, 10**10)),
                rng.choice(["PossibleVictimOfTrafficking", ""]),
                rng.choice(["SexualExploitation", "ForcedLabour;ForcedBegging", "Servitude"]),
                rng.choice(["DebtBondage", "FalsePromises;WithholdsDocuments", ""]),
                _day(rng, 2025, 2026),
                rng.choice(["XK", "DE", "IT", ""]),
            ]
        )
    return out.getvalue().encode()


def _small_database_cache() -> None:
    """SQLite keeps its page cache (64 MB) and memory map (256 MB) inside the process, and both
    fill with the pages a run touches, more for more rows: a memory run shrinks them, so its
    peak is the importer's own memory (PostgreSQL keeps its cache in the server anyway)."""
    from django.db import connections

    options = connections["default"].settings_dict.get("OPTIONS", {})
    command = options.get("init_command")
    if command:
        import re

        command = re.sub(r"cache_size=-?\d+", "cache_size=-2048", command)
        options["init_command"] = re.sub(r"mmap_size=\d+", "mmap_size=0", command)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class _PeakRss:
    """The process's resident memory sampled every 20 ms: its peak above where it started.

    ``ru_maxrss`` cannot be reset, and a forked child may start with its parent's peak (the
    demo set-up), which hides the import's own growth; sampling measures the import alone."""

    def __enter__(self):
        import threading

        self.base = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())
        self.growth = round(self.peak - self.base, 1)


def _import_child(prefix: str, rows: int, memory_run: bool, pipe) -> None:
    if memory_run:
        _small_database_cache()
    from streha.accounts.models import Agency
    from streha.imports import services
    from streha.jobs.models import Job
    from streha.jobs.services import execute_job

    content = synthetic_csv(prefix, rows)
    import gc

    gc.collect()
    agency = (
        Agency.objects.get(code="ngo-shelter")
        if Agency.objects.filter(code="ngo-shelter").exists()
        else Agency.objects.order_by("pk").first()
    )
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), _cpu()
    # Keeping the upload (sealing the file) is the web request's work; the job's memory is
    # sampled from when it starts: decrypting the file, then reading and writing its rows.
    job = services.start_import(None, agency, content, file_name="bench.csv")
    with _PeakRss() as sampled:
        execute_job(str(job.public_id))
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    job = Job.objects.get(pk=job.pk)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pipe.send(
        {
            "rows": rows,
            "file_mb": round(len(content) / 1e6, 2),
            "state": job.state,
            "created": job.result.get("created"),
            "rejected": job.result.get("rejected"),
            "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2),
            "rows_per_second": round(rows / elapsed),
            "peak_rss_mb": round(peak / 1024, 1),
            "rss_growth_mb": round((peak - base) / 1024, 1),
            "sampled_rss_growth_mb": sampled.growth,
        }
    )


def _same_rows_child(prefix: str, rows: int, pipe) -> None:
    """The reference: the file's persons, built from its rows without validation and inserted
    as the demo generator inserts its persons, with their name-search entries."""
    from datetime import date

    from django.db import transaction

    from streha.accounts.models import Agency
    from streha.demo import generator
    from streha.imports.htcds import GENDERS
    from streha.people.models import Person

    content = synthetic_csv(prefix, rows)
    agency = (
        Agency.objects.get(code="ngo-shelter")
        if Agency.objects.filter(code="ngo-shelter").exists()
        else Agency.objects.order_by("pk").first()
    )
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), _cpu()
    reader = csv.DictReader(io.StringIO(content.decode()))
    created = 0
    while True:
        block = []
        for row in reader:
            birth = date.fromisoformat(row["prs_Birthdate"])
            block.append(
                Person(
                    reference="R" + row["ext_Reference"],
                    owner_agency=agency,
                    given_name=row["prs_FirstName"],
                    family_name=row["prs_SecondName"],
                    date_of_birth=birth,
                    birth_year=birth.year,
                    gender=GENDERS[row["prs_Gender"]],
                    citizenship=row["prs_Citizenship"],
                    personal_number=row["prs_IdentityNumber"],
                )
            )
            if len(block) == generator.BLOCK:
                break
        if not block:
            break
        with transaction.atomic():
            # With their name-search entries: the generator writes them itself now.
            created += generator.register_persons(block)
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pipe.send(
        {
            "rows": created,
            "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2),
            "rows_per_second": round(created / elapsed) if created else None,
            "rss_growth_mb": round((peak - base) / 1024, 1),
        }
    )


def _bulk_child(seed: int, rows: int, pipe) -> None:
    from streha.demo import generator

    agencies, staff = generator.ensure_agencies_and_staff()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), _cpu()
    created, _total = generator.generate_persons(seed, rows, agencies, staff)
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pipe.send(
        {
            "rows": created,
            "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2),
            "rows_per_second": round(created / elapsed) if created else None,
            "rss_growth_mb": round((peak - base) / 1024, 1),
        }
    )


def in_child(target, *args) -> dict:
    from django.db import connections

    connections.close_all()
    context = get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child))
    process.start()
    result = parent.recv()
    process.join()
    return result


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None


def main() -> None:
    import statistics

    _common.setup("imports")
    from django.db import connection

    from streha.imports.models import ImportedRecord
    from streha.people.models import Person

    persons = _common.persons_wanted()
    if Person.objects.filter(reference__startswith=f"D{SEED}-").count() < persons:
        # The whole demo only while persons are missing (as bench/pages.py does): its
        # idempotent pass over every case costs minutes at 1,000,000 persons, on a copied set
        # it had not finished after 25 minutes.
        _common.say(f"{persons:,} persons: making the data set (only the first run does)")
        _common.ensure_demo(persons, seed=SEED)
    run = ImportedRecord.objects.values("source_reference").count()
    repeat = int(os.environ.get("BENCH_IMPORT_REPEAT", "3"))
    pairs = []
    for index in range(repeat):
        prefix = f"BI{run}-{index}-"
        # The same file content (same rows) for both: synthetic_csv depends on the prefix.
        imported = in_child(_import_child, prefix, ROWS, False)
        reference = in_child(_same_rows_child, prefix, ROWS)
        pairs.append(
            {
                "import": imported,
                "bulk_insert_reference": reference,
                "ratio": _ratio(imported["seconds"], reference["seconds"]),
                "cpu_ratio": _ratio(imported["cpu_seconds"], reference["cpu_seconds"]),
            }
        )
    prefix = f"BI{run}-"
    if os.environ.get("BENCH_IMPORT_MEMORY_RUNS", "1") == "0":
        # Timing only (a loaded machine): no memory runs, no demo generator reference.
        ratio = statistics.median(pair["ratio"] for pair in pairs)
        cpu_ratio = statistics.median(pair["cpu_ratio"] for pair in pairs)
        figures = {
            "database": connection.vendor,
            "persons_in_database": persons,
            "rows": ROWS,
            "runs": pairs,
            "ratio_to_bulk_insert": ratio,
            "cpu_ratio_to_bulk_insert": cpu_ratio,
            "goal_ratio": 3,
        }
        print(json.dumps(figures, indent=1))
        _keep(connection.vendor, figures)
        return
    # Memory: the same import at a tenth and at the full size, with SQLite's in-process cache
    # kept small (see _small_database_cache); flat memory means both peaks are about equal.
    small = in_child(_import_child, prefix + "S", max(1, ROWS // 10), True)
    memory_full = in_child(_import_child, prefix + "M", ROWS, True)
    # More sizes on request (BENCH_IMPORT_MEMORY_ROWS=5000,20000,100000): peak RSS per size.
    memory_sizes = {
        int(size): in_child(_import_child, f"{prefix}X{size}-", int(size), True)
        for size in filter(None, os.environ.get("BENCH_IMPORT_MEMORY_ROWS", "").split(","))
    }
    # The demo generator's own persons: a fresh seed, so it really inserts ROWS persons.
    seed = 1000 + run % 1000 + ROWS % 997
    while Person.objects.filter(reference__startswith=f"D{seed}-").exists():
        seed += 1  # a seed already generated would insert nothing
    demo_bulk = in_child(_bulk_child, seed, ROWS)
    ratio = statistics.median(pair["ratio"] for pair in pairs)
    cpu_ratio = statistics.median(pair["cpu_ratio"] for pair in pairs)
    full = pairs[0]["import"]
    figures = {
        "database": connection.vendor,
        "persons_in_database": persons,
        "rows": ROWS,
        "runs": pairs,
        "import_tenth_memory_run": small,
        "import_full_memory_run": memory_full,
        "import_memory_runs_by_rows": memory_sizes,
        "demo_generator_bulk_insert": demo_bulk,
        "ratio_to_bulk_insert": ratio,
        "cpu_ratio_to_bulk_insert": cpu_ratio,
        "ratio_to_demo_generator_bulk_insert": _ratio(
            statistics.median(pair["import"]["seconds"] for pair in pairs), demo_bulk["seconds"]
        ),
        "goal_ratio": 3,
    }
    rows = [
        ("runs (import, then reference)", repeat),
        ("import seconds", " ".join(str(p["import"]["seconds"]) for p in pairs)),
        ("reference seconds", " ".join(str(p["bulk_insert_reference"]["seconds"]) for p in pairs)),
        ("ratio per run", " ".join(str(p["ratio"]) for p in pairs)),
        ("ratio, median (goal ≤ 3)", ratio),
        ("CPU ratio per run", " ".join(str(p["cpu_ratio"]) for p in pairs)),
        ("CPU ratio, median", cpu_ratio),
        ("import rows/s (first run)", full["rows_per_second"]),
        ("demo generator's persons: seconds", demo_bulk["seconds"]),
        ("ratio to the demo generator's persons", figures["ratio_to_demo_generator_bulk_insert"]),
        ("import peak RSS growth MB, timed run", full["rss_growth_mb"]),
        ("memory run: RSS growth MB (rows/10)", small["rss_growth_mb"]),
        ("memory run: RSS growth MB (rows)", memory_full["rss_growth_mb"]),
        ("memory run: sampled peak growth MB (rows/10)", small["sampled_rss_growth_mb"]),
        ("memory run: sampled peak growth MB (rows)", memory_full["sampled_rss_growth_mb"]),
        *(
            (f"memory run: sampled peak growth MB ({size} rows)", run["sampled_rss_growth_mb"])
            for size, run in memory_sizes.items()
        ),
        ("file MB", full["file_mb"]),
    ]
    print(_common.table(rows, ("figure", "value")))
    _keep(connection.vendor, figures)


def _keep(vendor: str, figures: dict) -> None:
    # One file for every database and size measured: the latest figures of each are kept.
    path = _common.OUT / "imports.json"
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        kept = {}
    if not isinstance(kept, dict) or "import" in kept:
        kept = {}  # the former layout (one run, no database named)
    kept[f"{vendor}, {figures['persons_in_database']} persons, {ROWS} rows"] = figures
    print("written:", _common.write("imports", kept))


if __name__ == "__main__":
    main()
