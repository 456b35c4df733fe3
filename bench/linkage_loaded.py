"""The 1,000,000-person goal on the real command (issue 14): the synthetic population loaded
into a Streha database, ``streha dedup run --retrain`` timed on it, beside plain Splink on the
same records exported from that database to a DataFrame.

``BENCH_LINKAGE_LOADED=1 BENCH_LINKAGE_PERSONS=N .venv/bin/python bench/linkage.py`` runs it:

1. *Load* (reused when the database already holds the N persons; a half-done load goes on
   where it stopped): ``linkage.synthetic(N, SEED)`` (the scale section's population, same
   generator and seed) as persons of their own SQLite database
   ``var/bench/linkage-loaded-<N>.sqlite3``, person ``i`` with reference ``L<seed>-<i>``.
   Each block goes through the demo generator's ``register_persons``: the protection layer's
   bulk insert (every protected field sealed by ``streha.protection`` as the system seals it,
   blind indexes hashed), the name-search entries and one audit event per person, in one
   transaction per block. No case, tip or other record: only what the dedup reads.
2. *The system*: ``/usr/bin/time -v streha dedup run --retrain`` in a subprocess on that
   database (wall, CPU, peak RSS of the whole command: reading and decrypting in one audited
   read, features, training, prediction, registration keys, storing the pairs), then
   ``streha dedup export --out FILE.csv`` (timed). The export's clusters come from *accepted*
   links only (no reviewer has decided anything after a run, so every person is its own
   cluster); F1 is therefore computed from the pairs the run stored (``CandidatePair``, at the
   run's threshold), each mapped to the two persons' references, against the truth pairs by
   reference; the export is checked to hold every reference.
3. *Plain Splink* on the same records: in a forked child, every person's identity read from
   that database exactly as the run reads them (``services.read_identities``: one audited
   system read through ``protection.bulk_open``, in memory) into the DataFrame columns, then
   ``linkage.plain_splink`` (its own timing starts at the DataFrame, as in the scale section;
   the reading is reported beside it). Peak memory is the child's ``ru_maxrss``.
4. Writes ``var/bench/linkage-loaded-<N>.json``: both sides' wall, CPU, peak MB, F1, the ratio
   wall_system / wall_plain, the load averages before and after each side, and the goal flags.

``BENCH_LINKAGE_LOADED_STEPS`` (comma list of load, system, plain; default all three) runs
only some steps (a 1M load started early, the two sides measured later, one after the other);
figures of steps not run are kept from the JSON file of the same N.
"""

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import date

import _common

GOAL_RATIO = 1.2
GOAL_PEAK_MB = 4096
STEPS = set(
    filter(None, os.environ.get("BENCH_LINKAGE_LOADED_STEPS", "load,system,plain").split(","))
)
BLOCK = 5_000


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _release_memory() -> None:
    """Give the generated columns' memory back before the plain Splink child is forked."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _resident_mb() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20)


def reference(seed: int, index: int) -> str:
    return f"L{seed}-{index:07d}"


def persons_of(columns: dict, start: int, end: int, owners, weights, creators) -> list:
    """Persons ``start..end-1`` of the synthetic columns, as the system's ``Person`` (not
    saved). The owner agency is drawn per person from the demo's registering weights (a
    deterministic cycle, no random state)."""
    from streha.people.models import Gender, Person

    cycle = [owner for owner, weight in zip(owners, weights, strict=True) for _ in range(weight)]
    sexes = {"feminine": Gender.FEMININE, "masculine": Gender.MASCULINE}
    built = []
    for i in range(start, end):
        dob = columns["date_of_birth"][i]
        year = columns["birth_year"][i]
        owner = cycle[i % len(cycle)]
        built.append(
            Person(
                reference=reference(SEED, i),
                owner_agency=owner,
                created_by=creators.get(owner.pk),
                given_name=columns["given_name"][i] or "",
                family_name=columns["family_name"][i] or "",
                date_of_birth=date.fromisoformat(dob) if dob else None,
                birth_year=int(year) if year else None,
                gender=sexes.get(columns["sex"][i], Gender.UNKNOWN),
                citizenship=columns["citizenship"][i] or "",
                personal_number=columns["personal_number"][i] or "",
                passport_number=columns["passport_number"][i] or "",
                phone=columns["phone"][i] or "",
            )
        )
    return built


def load(columns: dict, n: int) -> dict:
    """Persons ``0..n-1`` in the database, block by block (each block one transaction, so a
    load stopped half-way resumes at the first missing block)."""
    from streha.demo.generator import REGISTERING, ensure_agencies_and_staff, register_persons
    from streha.people.models import Person

    prefix = f"L{SEED}-"
    existing = Person.objects.filter(reference__startswith=prefix).count()
    started = time.perf_counter()
    if existing >= n:
        return {"persons": existing, "loaded_now": 0, "seconds": 0.0}
    agencies, staff = ensure_agencies_and_staff()
    owners = [agencies[code] for code in REGISTERING]
    weights = list(REGISTERING.values())
    creators = {user.agency_id: user for user in staff.values() if user.agency_id}
    first = existing - existing % BLOCK
    if first != existing:  # a block half in: cannot happen (one transaction), say so
        raise SystemExit(f"{existing} persons: not a whole number of blocks of {BLOCK}")
    for start in range(first, n, BLOCK):
        end = min(start + BLOCK, n)
        register_persons(persons_of(columns, start, end, owners, weights, creators))
        if (end // BLOCK) % 20 == 0 or end == n:
            rate = (end - first) / max(1e-9, time.perf_counter() - started)
            _common.say(f"loaded {end} of {n} persons ({rate:.0f}/s, load {_load()[0]})")
    return {
        "persons": Person.objects.filter(reference__startswith=prefix).count(),
        "loaded_now": n - existing,
        "seconds": round(time.perf_counter() - started, 1),
        "load_after": _load(),
    }


def truth_by_reference(truth: set) -> set:
    return {(reference(SEED, a), reference(SEED, b)) for a, b in truth}


def stored_pairs_by_reference() -> set:
    """The pairs the last run stored (no identity: two person ids each), as reference pairs."""
    from streha.linkage.models import CandidatePair
    from streha.people.models import Person

    refs = dict(Person.objects.values_list("pk", "reference"))
    return {
        tuple(sorted((refs[a], refs[b])))
        for a, b in CandidatePair.objects.values_list("person_a_id", "person_b_id").iterator(
            chunk_size=20_000
        )
    }


def timed_command(args: list[str]) -> dict:
    """``streha <args>`` under ``/usr/bin/time -v``: wall, CPU and peak RSS of the command."""
    streha = os.path.join(os.path.dirname(sys.executable), "streha")
    before = _load()
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - this project's own command, fixed arguments
        ["/usr/bin/time", "-v", streha, *args],
        capture_output=True,
        text=True,
        cwd=str(_common.ROOT),
    )
    wall = time.perf_counter() - started
    report = done.stderr

    def field(label: str) -> str:
        found = re.search(rf"^\s*{re.escape(label)}: (.+)$", report, re.MULTILINE)
        return found.group(1).strip() if found else ""

    user, system = (
        float(field("User time (seconds)") or 0),
        float(field("System time (seconds)") or 0),
    )
    return {
        "command": "streha " + " ".join(args),
        "exit_code": done.returncode,
        "output": done.stdout.strip()[-300:],
        "error": "" if done.returncode == 0 else report.strip()[-600:],
        "seconds": round(wall, 1),
        "elapsed_by_time": field("Elapsed (wall clock) time (h:mm:ss or m:ss)"),
        "cpu_seconds": round(user + system, 1),
        "peak_mb": round(int(field("Maximum resident set size (kbytes)") or 0) / 1024),
        "load_before": before,
        "load_after": _load(),
    }


def system_side(truth_refs: set, n: int) -> dict:
    import csv

    run = timed_command(["dedup", "run", "--retrain"])
    _common.say(f"system: {run}")
    from streha.jobs.models import Job
    from streha.linkage import jobs

    # The job's own figures: seconds reading, scoring, storing, and the rows storing wrote
    # (a re-run writes only what changed: ``services._store``).
    last = Job.objects.filter(kind=jobs.KIND).order_by("-pk").first()
    run["job_result"] = (last.result or {}) if last else {}
    found = stored_pairs_by_reference()
    out = _common.OUT / f"linkage-loaded-{n}-export.csv"
    export = timed_command(["dedup", "export", "--out", str(out)])
    with open(out, encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    exported = {row[0] for row in rows}
    in_clusters = len({row[1] for row in rows})
    out.unlink(missing_ok=True)  # references and cluster numbers only, but not kept
    from linkage import scores

    from streha.linkage.services import clusters_from_links

    # Were every stored pair accepted by a reviewer, the clusters the export would then hold
    # (``clusters_from_links``, as after each decision): pairs within a cluster.
    members: dict = {}
    for ref, cluster in clusters_from_links(found).items():
        members.setdefault(cluster, []).append(ref)
    largest = max((len(refs) for refs in members.values()), default=0)
    in_same = (
        {(a, b) for refs in members.values() for a in refs for b in refs if a < b}
        if largest <= 2000  # a chained giant cluster would not fit in memory as pairs
        else set()
    )
    return {
        "dedup_run": run,
        **scores(found, truth_refs),
        "if_every_pair_accepted_cluster_pairs": {
            **scores(in_same, truth_refs),
            "largest_cluster": largest,
        },
        "f1_basis": "pairs stored by the run (CandidatePair, match probability >= threshold) "
        "by reference, against the truth pairs by reference",
        "export": {
            **{k: export[k] for k in ("command", "exit_code", "seconds", "load_after")},
            "rows": len(rows),
            "every_reference_exported": all(reference(SEED, i) in exported for i in range(n)),
            "clusters": in_clusters,
            "clusters_basis": "accepted links only (no review after the run)",
        },
    }


def plain_reading_and_splink(truth_refs: set) -> dict:
    """In a forked child: read the records from the database as the run does, then plain
    Splink on them."""
    from linkage import plain_splink

    from streha.linkage import services
    from streha.people.models import Person

    started, cpu = time.perf_counter(), time.process_time()
    columns = services.read_identities("bench: export for plain Splink")
    read_seconds = time.perf_counter() - started
    read_cpu = time.process_time() - cpu
    refs = dict(Person.objects.values_list("reference", "pk"))
    truth = {tuple(sorted((refs[a], refs[b]))) for a, b in truth_refs}
    result = plain_splink([columns], truth)
    return {
        **result,
        "export_to_dataframe_seconds": round(read_seconds, 1),
        "export_to_dataframe_cpu_seconds": round(read_cpu, 1),
        "persons": len(columns["unique_id"]),
    }


def run(n: int, seed: int) -> None:
    global SEED
    SEED = seed
    import linkage

    name = f"linkage-loaded-{n}"
    _common.setup(name)
    path = _common.OUT / f"{name}.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures.update(
        {
            "persons": n,
            "seed": seed,
            "database": os.environ["DATABASE_URL"].rsplit("/", 1)[-1],
            "goal": f"streha dedup run wall <= {GOAL_RATIO}x plain Splink's, peak <= 4 GB, "
            "F1 >= plain Splink's",
        }
    )
    _common.say(f"generating {n} synthetic records (seed {seed})")
    columns, truth = linkage.synthetic(n, seed)
    truth_refs = truth_by_reference(truth)
    figures["true_pairs"] = len(truth_refs)
    if "load" in STEPS:
        before = _load()
        figures["load"] = {**load(columns, n), "load_before": before}
        _common.say(f"load: {figures['load']}")
        path.write_text(json.dumps(figures, indent=1))
    del columns
    _release_memory()
    from django.db import connections

    if "system" in STEPS:
        connections.close_all()
        figures["system"] = system_side(truth_refs, n)
        _common.say(f"system: { {k: v for k, v in figures['system'].items()} }")
        path.write_text(json.dumps(figures, indent=1))
    if "plain" in STEPS:
        connections.close_all()  # the child opens its own
        before = _load()
        parent_mb = _resident_mb()
        plain, peak = linkage.in_child(plain_reading_and_splink, truth_refs)
        figures["plain_splink"] = {
            **plain,
            "peak_mb": round(peak),
            # The forked child's peak counts the pages it shares with this process at the
            # fork (the truth pairs, Django): at most this much of peak_mb is not its own.
            "parent_resident_mb_at_fork": parent_mb,
            "duckdb_memory_limit": linkage.PLAIN_MEMORY or "DuckDB's default (80 % of memory)",
            "load_before": before,
            "load_after": _load(),
        }
        _common.say(f"plain: {figures['plain_splink']}")
    system, plain = figures.get("system", {}), figures.get("plain_splink", {})
    run_figures = system.get("dedup_run", {})
    if run_figures.get("seconds") and plain.get("seconds"):
        ratio = run_figures["seconds"] / plain["seconds"]
        figures["ratio_wall_system_to_plain"] = round(ratio, 2)
        figures["ratio_cpu_system_to_plain"] = round(
            run_figures["cpu_seconds"] / plain["cpu_seconds"], 2
        )
        figures["goals_met"] = {
            "time": ratio <= GOAL_RATIO,
            "peak_memory": 0 < run_figures["peak_mb"] <= GOAL_PEAK_MB,
            "f1": system.get("f1", 0) >= plain.get("f1", 1),
        }
    path.write_text(json.dumps(figures, indent=1))
    print(path.read_text())


SEED = 7
