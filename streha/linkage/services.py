"""Writes of the linkage app: the deduplication run, decisions on pairs, and the clusters.

The run reads every person's identity through the protection layer inside ONE audited system
read (how many persons, and why), hands the features to ``engine`` (an in-memory DuckDB that
never spills to disk), and stores only what the model says about pairs: probabilities and
match weights per field. Decisions are links, never merges: both records stay, and the
clusters are recomputed from the accepted links after every decision and every undo.
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.audit import read_context
from streha.audit import services as audit
from streha.linkage import engine, fast
from streha.linkage.models import (
    DECIDED,
    BlockingKey,
    CandidatePair,
    KeyDigest,
    LinkageModel,
    NameFrequency,
    PairDecision,
    PairStatus,
    PersonCluster,
)
from streha.people.models import Person
from streha.protection import bulk_open

MIN_REASON = 5
READ_CHUNK = 2000
Progress = Callable[[int, int], None]


class LinkageUnavailable(ValidationError):
    """Splink/DuckDB are not installed (the optional extra ``linkage``)."""


def memory_limit() -> str:
    return str(getattr(settings, "STREHA_LINKAGE_MEMORY_LIMIT", "3GB"))


def threshold() -> float:
    return float(getattr(settings, "STREHA_LINKAGE_THRESHOLD", 0.5))


def identity_of(person: Person) -> engine.Identity:
    return engine.Identity(
        person_id=person.pk,
        given_name=person.given_name or "",
        family_name=person.family_name or "",
        date_of_birth=person.date_of_birth,
        birth_year=person.birth_year,
        sex=person.gender or "",
        citizenship=person.citizenship or "",
        personal_number=person.personal_number or "",
        passport_number=person.passport_number or "",
        phone=person.phone or "",
    )


def identities_of(persons) -> list[engine.Identity]:
    """``identity_of`` for every person of ``persons`` (a queryset), opened by the protection
    layer's bulk open: the caller is inside an audited system read."""
    return [
        engine.Identity(
            person_id=pk,
            given_name=given or "",
            family_name=family or "",
            date_of_birth=dob,
            birth_year=year,
            sex=sex or "",
            citizenship=citizenship or "",
            personal_number=personal or "",
            passport_number=passport or "",
            phone=phone or "",
        )
        for pk, given, family, dob, year, sex, citizenship, personal, passport, phone in (
            bulk_open.open_rows(persons, IDENTITY_FIELDS)
        )
    ]


def read_identities(reason: str, *, actor: User | None = None, progress: Progress | None = None):
    """Every person's identity as ``engine.RAW`` columns, decrypted in memory inside one
    audited system read. Columns of plain strings, not one object per person: the features
    are computed from them in DuckDB (``engine.load_features``). The fields are opened by the
    protection layer's bulk open (only these columns, no model instances, each record's data
    key unwrapped once): the same values as reading each person, at a fraction of the cost."""
    persons = Person.objects.filter(anonymised_at__isnull=True).order_by("pk")
    total = persons.count()
    columns: dict[str, list] = {name: [] for name in engine.RAW}
    purpose = f"{reason} ({total} persons)"
    with read_context.system(purpose, actor=actor):
        rows = bulk_open.open_rows(persons, IDENTITY_FIELDS, chunk_size=READ_CHUNK)
        for read, row in enumerate(rows, start=1):
            _append_identity(columns, row)
            if progress is not None and read % READ_CHUNK == 0:
                progress(read, total)
    return columns


# The person's fields ``read_identities`` reads, in the order ``_append_identity`` takes them.
IDENTITY_FIELDS = (
    "pk",
    "given_name",
    "family_name",
    "date_of_birth",
    "birth_year",
    "gender",
    "citizenship",
    "personal_number",
    "passport_number",
    "phone",
)


def _append_identity(columns: dict[str, list], row: tuple) -> None:
    pk, given, family, dob, year, sex, citizenship, personal, passport, phone = row
    columns["unique_id"].append(pk)
    columns["given_name"].append(given or None)
    columns["family_name"].append(family or None)
    columns["date_of_birth"].append(dob.isoformat() if dob else None)
    columns["birth_year"].append(str(year) if year else None)
    columns["sex"].append(sex or None)
    columns["citizenship"].append(citizenship or None)
    columns["personal_number"].append(personal or None)
    columns["passport_number"].append(passport or None)
    columns["phone"].append(phone or None)


def reusable_model(persons: int) -> LinkageModel | None:
    """The stored model a run may predict with instead of training again: the latest one
    that was trained on at least half as many persons as there are now (a model trained on
    a small register knows too few names and spellings)."""
    model = LinkageModel.objects.exclude(parameters={}).order_by("-trained_at", "-pk").first()
    if model is None or model.persons * 2 < persons:
        return None
    return model


def scaled_parameters(model: LinkageModel, persons: int) -> dict:
    """The stored parameters with λ (the probability that two random records are the same
    person) rescaled to the register's size now: duplicates grow with the persons, pairs
    with their square, so λ shrinks as 1/persons."""
    parameters = dict(model.parameters)
    key = "probability_two_random_records_match"
    if key in parameters and model.persons > 1 and persons > 1:
        parameters[key] = parameters[key] * (model.persons - 1) / (persons - 1)
    return parameters


def run_deduplication(
    *,
    actor: User | None = None,
    reason: str = "deduplication run",
    progress=None,
    job=None,
    retrain: bool = False,
    full_rewrite: bool = False,
) -> LinkageModel:
    """Score the candidate pairs of every person and store them; train the model first when
    asked (``retrain``) or when no stored model fits (``reusable_model``).

    Decided pairs keep their decision; pending pairs the model no longer proposes are dropped.
    Only what changed is written (``_store``); ``full_rewrite`` rewrites every key and pair.
    The returned model carries ``timings`` (seconds reading, scoring, storing): reading
    includes decryption, which plain Splink on a DataFrame does not pay.
    """
    try:
        import duckdb
        import splink  # noqa: F401
    except ImportError as exc:
        raise LinkageUnavailable(
            _("Finding duplicates needs the optional 'linkage' extra (Splink and DuckDB).")
        ) from exc
    started = time.perf_counter()
    columns = read_identities(reason, actor=actor, progress=progress)
    read_at = time.perf_counter()
    persons = len(columns["unique_id"])
    stored = None if retrain else reusable_model(persons)
    limit = threshold()
    outcome = engine.Outcome(model={}, pairs=[], trained=False)
    registration_keys = RegistrationKeys()
    if persons >= 2:
        try:
            outcome = engine.run(
                engine.raw_frame(columns),
                threshold=limit,
                memory_limit=memory_limit(),
                model=scaled_parameters(stored, persons) if stored else None,
                features_sink=registration_keys,
                training_persons=int(getattr(settings, "STREHA_LINKAGE_TRAINING_PERSONS", 0)),
            )
        except duckdb.OutOfMemoryException as exc:
            # The limit is what keeps identities off the disk (no spill): stop, write nothing.
            raise LinkageUnavailable(
                _("The run needs more memory than it may use (STREHA_LINKAGE_MEMORY_LIMIT).")
            ) from exc
    del columns
    scored_at = time.perf_counter()
    model = _store(
        outcome,
        persons=persons,
        trained_at=timezone.now() if outcome.trained or stored is None else stored.trained_at,
        job=job,
        limit=limit,
        registration_keys=registration_keys,
        full_rewrite=full_rewrite,
    )
    model.timings = {
        "read_and_decrypt": round(read_at - started, 2),
        "score": round(scored_at - read_at, 2),
        "registration_keys": round(registration_keys.seconds, 2),
        "store": round(time.perf_counter() - scored_at, 2),
        "score_phases": outcome.timings,
    }
    return model


def key_bits() -> int:
    """Bits kept of each registration key's hash (``STREHA_LINKAGE_KEY_BITS``, default 14).

    Few on purpose, as the blind indexes' 12: at a national register's size every key value
    shares its hash with a dozen other values (names, dates, numbers of any kind), so someone
    holding the table (even with the index root) cannot count who shares a surname or a birth
    date, nor confirm a guess for one person. Each collision costs a candidate to score; a real
    duplicate shares several keys and is ranked first (``_candidates_by_keys``)."""
    return max(10, min(int(getattr(settings, "STREHA_LINKAGE_KEY_BITS", 14)), 62))


# Name frequencies belong to no person, so their keys need not collide; their counts must be
# exact for the stored model's term-frequency weights to be the run's.
FREQUENCY_KEY_BITS = 32


def key_hasher(bits: int | None = None) -> Callable[[str, str], int]:
    """``(kind, plaintext key) -> int``: a blind index from the protection layer's keyed hash
    (its own key, derived from the index root for this purpose), ``bits`` long (default
    ``key_bits()``)."""
    from streha.protection import crypto, keys

    field_key = crypto.field_index_key(keys.keyring().index_key, "linkage:registration-keys")
    bits = bits or key_bits()

    # ``crypto.truncated_index``'s value, with the keyed state set up once for all the keys.
    truncated = crypto.truncated_hasher(field_key, bits)

    def hashed(kind: str, text: str) -> int:
        return truncated(f"{kind}\x1f{text}")

    return hashed


class RegistrationKeys:
    """Collects, from a run's feature rows, every person's registration keys (hashed at once;
    two compact integer arrays) and the name frequencies (plaintext counts in memory only,
    hashed when stored)."""

    def __init__(self):
        self.hashed = key_hasher()
        self.frequency_hashed = key_hasher(FREQUENCY_KEY_BITS)
        self.persons = array("q")
        self.keys = array("q")
        self.seen = array("q")  # every person of the run, with keys or without
        self.counts: dict[str, Counter] = {column: Counter() for column in engine.TF_COLUMNS}
        self.seconds = 0.0

    def __call__(self, rows: list[dict]) -> None:
        started = time.perf_counter()
        hashed, persons, keys, seen = self.hashed, self.persons, self.keys, self.seen
        for row in rows:
            person = row["unique_id"]
            seen.append(person)
            for kind, text in fast.stored_keys(row):
                persons.append(person)
                keys.append(hashed(kind, text))
            for column, counter in self.counts.items():
                value = row.get(column)
                if value:
                    counter[value] += 1
        self.seconds += time.perf_counter() - started

    def frequencies(self) -> dict[tuple[str, int], int]:
        rows: Counter = Counter()
        for column, counter in self.counts.items():
            rows[(f"{column}:all", 0)] = sum(counter.values())
            for value, persons in counter.items():
                rows[(column, self.frequency_hashed(f"tf:{column}", value))] += persons
        return rows


# splitmix64's finaliser: spreads each 14-bit key over 64 bits before the keys are summed.
_MIX_ADD, _MIX_1, _MIX_2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1
# A person's digest also mixes in how many keys it has (a salt keeps "no key" away from 0).
_COUNT_SALT = 0x5EED


def _mix(value: int) -> int:
    z = (value + _MIX_ADD) & _MASK64
    z = ((z ^ (z >> 30)) * _MIX_1) & _MASK64
    z = ((z ^ (z >> 27)) * _MIX_2) & _MASK64
    return z ^ (z >> 31)


def key_digest(keys: Iterable[int]) -> int:
    """The digest of one person's registration keys (a multiset: order does not matter, a
    repeated key counts twice): the 64-bit sum of each key mixed, plus the mixed count, as a
    signed 64-bit integer. ``keys_digests`` computes the same for a whole run at once."""
    total, count = 0, 0
    for key in keys:
        total += _mix(key)
        count += 1
    total = (total + _mix(count + _COUNT_SALT)) & _MASK64
    return total - (1 << 64) if total >= 1 << 63 else total


def _mix_array(values):
    import numpy as np

    z = values + np.uint64(_MIX_ADD)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX_1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX_2)
    return z ^ (z >> np.uint64(31))


@dataclass
class RunKeys:
    """A run's registration keys grouped by person (NumPy arrays): ``persons``/``keys`` sorted
    by person; ``ids`` every person of the run (sorted, unique) and ``digests`` their
    ``key_digest``; ``starts``/``ends`` each id's slice of ``keys``."""

    persons: object
    keys: object
    ids: object
    digests: object
    starts: object
    ends: object


def keys_digests(collected: RegistrationKeys) -> RunKeys:
    """Every person's ``key_digest`` of the run's keys, vectorised (7 million keys in about a
    second): sorted by person, mixed, summed by a wrapping cumulative sum."""
    import numpy as np

    persons = np.frombuffer(collected.persons, dtype=np.int64)
    keys = np.frombuffer(collected.keys, dtype=np.int64)
    order = np.argsort(persons, kind="stable")
    persons, keys = persons[order], keys[order]
    ids = np.unique(np.frombuffer(collected.seen, dtype=np.int64))
    starts = np.searchsorted(persons, ids, side="left")
    ends = np.searchsorted(persons, ids, side="right")
    with np.errstate(over="ignore"):
        sums = np.zeros(len(keys) + 1, dtype=np.uint64)
        np.cumsum(_mix_array(keys.astype(np.uint64)), dtype=np.uint64, out=sums[1:])
        counts = (ends - starts).astype(np.uint64) + np.uint64(_COUNT_SALT)
        digests = (sums[ends] - sums[starts]) + _mix_array(counts)
    return RunKeys(persons, keys, ids, digests.view(np.int64), starts, ends)


def _stored_digests():
    """(person ids, digests) stored by the last run, sorted by person: one streamed read."""
    import numpy as np

    quote = connection.ops.quote_name
    table = quote(KeyDigest._meta.db_table)
    ids, digests = array("q"), array("q")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('person_id')}, {quote('digest')} FROM {table} "  # noqa: S608
            f"ORDER BY {quote('person_id')}"
        )
        while rows := cursor.fetchmany(50_000):
            for person, digest in rows:
                ids.append(person)
                digests.append(digest)
    return np.frombuffer(ids, dtype=np.int64), np.frombuffer(digests, dtype=np.int64)


# Above this share of the run's persons changed (a new index key, other key bits, a first
# run), every key is rewritten in one sweep instead of person by person.
FULL_REWRITE_SHARE = 0.5
_IN_CHUNK = 900  # ids per ``IN (...)`` (under every backend's parameter limit)


def _insert_rows(model, column: str, persons, values) -> int:
    """Insert (person, value) rows of ``model`` (registration keys, key digests) from two
    NumPy arrays, 20,000 to a statement: no model instances for millions of rows."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({quote('person_id')}, {quote(column)}) VALUES (%s, %s)"  # noqa: S608
    step = 20_000
    with connection.cursor() as cursor:
        for start in range(0, len(values), step):
            cursor.executemany(
                sql,
                list(
                    zip(
                        persons[start : start + step].tolist(),
                        values[start : start + step].tolist(),
                        strict=True,
                    )
                ),
            )
    return len(values)


def _delete_of_persons(model, ids: list[int]) -> None:
    for start in range(0, len(ids), _IN_CHUNK):
        model.objects.filter(person_id__in=ids[start : start + _IN_CHUNK]).delete()


def _write_registration_keys(collected: RegistrationKeys, *, full: bool = False) -> dict:
    """Make the stored registration keys the run's, writing only what changed.

    Each person's keys are compared by digest (``keys_digests`` against ``KeyDigest``): the
    keys of persons whose digest changed or is missing are deleted and written again, those
    of persons no longer in the run (anonymised, deleted) deleted; the others are not
    touched. When more than half the persons changed (a new index key or key length changes
    every key), when nothing is stored yet, or with ``full``, every key is rewritten. Persons
    registered after the run read the register keep the keys their registration wrote. Name
    frequencies are compared row by row. Returns what was written (counted in tests, reported
    by the job)."""
    import numpy as np

    run = keys_digests(collected)
    stored_ids, stored_digests = _stored_digests()
    if len(stored_ids):
        at = np.minimum(np.searchsorted(stored_ids, run.ids), len(stored_ids) - 1)
        same = (stored_ids[at] == run.ids) & (stored_digests[at] == run.digests)
    else:
        same = np.zeros(len(run.ids), dtype=bool)
    changed = run.ids[~same]
    full = full or not len(stored_ids) or len(changed) > FULL_REWRITE_SHARE * len(run.ids)
    if full:
        BlockingKey.objects.all().delete()  # nothing refers to these rows: one DELETE
        KeyDigest.objects.all().delete()
        written = _insert_rows(BlockingKey, "key", run.persons, run.keys)
        _insert_rows(KeyDigest, "digest", run.ids, run.digests)
        persons_rewritten, gone = len(run.ids), []
    else:
        gone = stored_ids[~np.isin(stored_ids, run.ids)].tolist()
        touched = changed.tolist() + gone
        _delete_of_persons(BlockingKey, touched)
        _delete_of_persons(KeyDigest, touched)
        picked = np.isin(run.persons, changed)
        written = _insert_rows(BlockingKey, "key", run.persons[picked], run.keys[picked])
        _insert_rows(KeyDigest, "digest", changed, run.digests[~same])
        persons_rewritten = len(changed)
    return {
        "keys_rewrite": "full" if full else "changed persons",
        "persons_rewritten": persons_rewritten,
        "persons_removed": len(gone),
        "keys_written": written,
        "frequencies": _write_frequencies(collected.frequencies()),
    }


def _write_frequencies(frequencies: dict[tuple[str, int], int]) -> dict:
    """Make ``NameFrequency`` the run's counts: insert new rows, update changed counts,
    delete rows of names no person carries any more."""
    stored = {
        (column, key): (pk, persons)
        for pk, column, key, persons in NameFrequency.objects.values_list(
            "pk", "column", "key", "persons"
        )
    }
    new, changed = [], []
    for (column, key), persons in frequencies.items():
        found = stored.pop((column, key), None)
        if found is None:
            new.append(NameFrequency(column=column, key=key, persons=persons))
        elif found[1] != persons:
            changed.append(NameFrequency(pk=found[0], column=column, key=key, persons=persons))
    NameFrequency.objects.bulk_create(new, batch_size=5000)
    NameFrequency.objects.bulk_update(changed, ["persons"], batch_size=2000)
    gone = [pk for pk, _persons in stored.values()]
    for start in range(0, len(gone), _IN_CHUNK):
        NameFrequency.objects.filter(pk__in=gone[start : start + _IN_CHUNK]).delete()
    return {"inserted": len(new), "updated": len(changed), "deleted": len(gone)}


def _same_scores(pair: CandidatePair, probability: float, weight: float, vector: dict) -> bool:
    """The stored scores equal the run's (floats within 1e-9: a retrained model's sums may
    differ in the last bits, which no page or export shows)."""
    return (
        math.isclose(pair.match_probability, probability, rel_tol=1e-9, abs_tol=1e-12)
        and math.isclose(pair.match_weight, weight, rel_tol=1e-9, abs_tol=1e-9)
        and pair.comparison == vector
    )


@transaction.atomic
def _store(
    outcome: engine.Outcome,
    *,
    persons: int,
    trained_at,
    job,
    limit: float,
    registration_keys: RegistrationKeys | None = None,
    full_rewrite: bool = False,
):
    """Store the run's model, pairs and registration keys, in one transaction.

    A pair already stored keeps its row untouched when the run scores it the same (it keeps
    the model that gave it these scores); a pair scored differently is updated with the new
    model; new pairs are inserted; pending pairs the run no longer proposes are deleted
    (decided ones are never lost). ``model.writes`` says how many rows each step wrote."""
    pairs = outcome.pairs
    writes: dict = {}
    if registration_keys is not None and outcome.model:
        writes["registration_keys"] = _write_registration_keys(registration_keys, full=full_rewrite)
    model = LinkageModel.objects.create(
        trained_at=trained_at,
        trained=outcome.trained,
        parameters=outcome.model,
        persons=persons,
        pairs=len(pairs),
        threshold=limit,
        job=job,
    )
    existing = {
        (p.person_a_id, p.person_b_id): p
        for p in CandidatePair.objects.only(
            "pk",
            "person_a_id",
            "person_b_id",
            "status",
            "match_probability",
            "match_weight",
            "comparison",
        )
    }
    seen = set()
    new, changed = [], []
    for left, right, probability, weight, vector in pairs:
        key = (left, right)
        seen.add(key)
        pair = existing.get(key)
        if pair is None:
            new.append(
                CandidatePair(
                    person_a_id=left,
                    person_b_id=right,
                    model=model,
                    match_probability=probability,
                    match_weight=weight,
                    comparison=vector,
                )
            )
        elif not full_rewrite and _same_scores(pair, probability, weight, vector):
            continue
        else:
            pair.model, pair.match_probability, pair.match_weight = model, probability, weight
            pair.comparison = vector
            changed.append(pair)
    CandidatePair.objects.bulk_create(new, batch_size=5000)
    CandidatePair.objects.bulk_update(
        changed, ["model", "match_probability", "match_weight", "comparison"], batch_size=2000
    )
    stale = [p.pk for key, p in existing.items() if key not in seen and p.status == "pending"]
    for start in range(0, len(stale), 5000):
        CandidatePair.objects.filter(pk__in=stale[start : start + 5000]).delete()
    writes["pairs"] = {
        "inserted": len(new),
        "updated": len(changed),
        "unchanged": len(seen) - len(new) - len(changed),
        "deleted": len(stale),
    }
    model.writes = writes
    return model


# --- Review ------------------------------------------------------------------------------------


def _require_review(actor: User, pair: CandidatePair) -> None:
    policy.require(policy.can_review_pair(actor, pair))


@transaction.atomic
def decide_pair(
    actor: User,
    pair: CandidatePair,
    *,
    decision: str,
    reason: str,
    expected_version: int | None = None,
    request=None,
) -> CandidatePair:
    """Same person, different persons, or not sure, with the reviewer's reasons (audited)."""
    _require_review(actor, pair)
    pair = CandidatePair.objects.select_for_update().get(pk=pair.pk)
    if decision not in PairStatus.values or decision == PairStatus.PENDING:
        raise ValidationError({"decision": _("Choose same person, different or not sure.")})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": _("Give the reasons for the decision.")})
    if expected_version is not None and expected_version != pair.version:
        raise ValidationError(_("Someone else decided on this pair meanwhile; reload it."))
    if pair.status in DECIDED:
        raise ValidationError(_("This pair is already decided; undo the decision first."))
    PairDecision.objects.create(pair=pair, decision=decision, reason=reason, decided_by=actor)
    pair.status = decision
    pair.version += 1
    pair.save(update_fields=["status", "version", "updated_at"])
    recompute_clusters()
    audit.record(
        actor,
        audit.Action.REVIEW,
        obj=pair,
        field_groups=["identity"],
        purpose="duplicate review",
        request=request,
        details={"decision": decision},
        subjects=[pair.person_a_id, pair.person_b_id],
    )
    return pair


@transaction.atomic
def undo_decision(actor: User, pair: CandidatePair, *, request=None) -> CandidatePair:
    """Reopen a decided pair: the link (if any) is undone and the clusters recomputed."""
    _require_review(actor, pair)
    pair = CandidatePair.objects.select_for_update().get(pk=pair.pk)
    last = pair.decisions.filter(undone_at__isnull=True).order_by("-decided_at", "-pk").first()
    if last is None:
        raise ValidationError(_("There is no decision to undo."))
    last.undone_at = timezone.now()
    last.undone_by = actor
    last.save(update_fields=["undone_at", "undone_by"])
    pair.status = PairStatus.PENDING
    pair.version += 1
    pair.save(update_fields=["status", "version", "updated_at"])
    recompute_clusters()
    audit.record(
        actor,
        audit.Action.REVIEW,
        obj=pair,
        purpose="duplicate review undone",
        request=request,
        details={"undone": last.decision},
        subjects=[pair.person_a_id, pair.person_b_id],
    )
    return pair


def clusters_from_links(links: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Person id -> cluster id (the smallest id of its connected component)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for left, right in links:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {person: find(person) for person in parent}


@transaction.atomic
def recompute_clusters() -> int:
    """Rewrite ``PersonCluster`` from the accepted links; returns the number of clusters."""
    links = CandidatePair.objects.filter(status=PairStatus.SAME).values_list(
        "person_a_id", "person_b_id"
    )
    clusters = clusters_from_links(links)
    PersonCluster.objects.all().delete()
    PersonCluster.objects.bulk_create(
        [PersonCluster(person_id=p, cluster=c) for p, c in clusters.items()], batch_size=5000
    )
    return len(set(clusters.values()))


def pprl_rows(secret: bytes, *, reason: str, actor: User | None = None):
    """Pseudonyms and schema rows of every person, decrypted in one audited system read."""
    from streha.linkage import pprl

    persons = Person.objects.filter(anonymised_at__isnull=True).order_by("pk")
    total = persons.count()
    pseudonyms, rows = [], []
    with read_context.system(f"{reason} ({total} persons)", actor=actor):
        for person in persons.iterator(chunk_size=READ_CHUNK):
            pseudonyms.append(pprl.pseudonym(secret, person.reference))
            rows.append(pprl.pii_row(identity_of(person)))
    return pseudonyms, rows


# --- Matching at registration ------------------------------------------------------------------

REGISTRATION_CANDIDATES = 200


def _candidates_by_keys(person: Person, row: dict) -> list[int]:
    """Persons sharing a registration key with ``row`` (the new person's model columns),
    those sharing most keys first, capped: one indexed lookup, nothing decrypted."""
    hashed = key_hasher()
    probes = sorted({hashed(kind, text) for kind, text in fast.probe_keys(row)})
    if not probes:
        return []
    found = (
        BlockingKey.objects.filter(key__in=probes, person__anonymised_at__isnull=True)
        .exclude(person_id=person.pk)
        .values("person_id")
        .annotate(shared=Count("pk"))
        .order_by("-shared", "person_id")
    )
    return [entry["person_id"] for entry in found[:REGISTRATION_CANDIDATES]]


def _candidates_by_person_indexes(person: Person) -> list[int]:
    """Before any run has stored registration keys: the same (short, colliding) blind index
    of the full name or a document number, or the same year of birth, sex and citizenship
    (the most recent first, capped)."""
    from django.db.models import Q

    others = Person.objects.filter(anonymised_at__isnull=True).exclude(pk=person.pk)
    by_index = Q()
    for index in ("name_index", "personal_number_index", "passport_number_index"):
        value = getattr(person, index, "")
        if value:
            by_index |= Q(**{index: value})
    ids = list(others.filter(by_index).values_list("pk", flat=True)[:REGISTRATION_CANDIDATES])
    if person.birth_year:
        alike = others.filter(
            birth_year=person.birth_year, gender=person.gender, citizenship=person.citizenship
        ).order_by("-pk")
        ids += list(alike.values_list("pk", flat=True)[: REGISTRATION_CANDIDATES - len(ids)])
    return list(dict.fromkeys(ids))


def _remember_keys(person: Person, row: dict) -> None:
    """The new person's registration keys, so that the next registration finds it too."""
    hashed = key_hasher()
    BlockingKey.objects.filter(person_id=person.pk).delete()
    # These keys are the registration's, not a run's: the next run rewrites them.
    KeyDigest.objects.filter(person_id=person.pk).delete()
    BlockingKey.objects.bulk_create(
        [
            BlockingKey(person_id=person.pk, key=hashed(kind, text))
            for kind, text in fast.stored_keys(row)
        ]
    )


_compiled: tuple[str, fast.Compiled] | None = None
_compiled_lock = threading.Lock()


def compiled(model: LinkageModel) -> fast.Compiled:
    """This process's compiled model: built at the first check, rebuilt when a newer model is
    stored (a run trains or rescales one), never per check."""
    global _compiled
    key = f"{model.pk}:{model.trained_at.isoformat() if model.trained_at else ''}"
    with _compiled_lock:
        if _compiled is None or _compiled[0] != key:
            _compiled = (key, fast.Compiled(model.parameters))
        return _compiled[1]


def frequencies(rows: list[dict], columns: Iterable[str]) -> Callable[[str, str | None], float]:
    """``frequency(column, value)`` for the values of ``rows``: the share of the persons of the
    last run with that value (``NameFrequency``), None for a value that run did not see."""
    hashed = key_hasher(FREQUENCY_KEY_BITS)
    wanted: dict[tuple[str, str], int] = {}
    for row in rows:
        for column in columns:
            value = row.get(column)
            if value:
                wanted[(column, value)] = hashed(f"tf:{column}", value)
    stored = {
        (f.column, f.key): f.persons
        for f in NameFrequency.objects.filter(key__in=sorted(set(wanted.values())))
    }
    totals = dict(
        NameFrequency.objects.filter(column__endswith=":all", key=0).values_list(
            "column", "persons"
        )
    )

    def frequency(column: str, value: str | None) -> float | None:
        if not value or (column, value) not in wanted:
            return None
        persons = stored.get((column, wanted[(column, value)]))
        total = totals.get(f"{column}:all")
        if not persons or not total:
            return None
        return persons / total

    return frequency


NAMES_OF_OUTPUT = {column: name for name, column in engine.OUTPUT_NAMES.items()}


def score_against(person: Person, candidate_ids: list[int], model: LinkageModel, row=None):
    """``[(candidate id, probability, weight, vector)]`` above the model's threshold, scored
    in Python with the stored model's parameters (``fast.Compiled``), the name frequencies
    of the last run, and no DuckDB or Splink SQL."""
    scorer = compiled(model)
    new = row or engine.features(identity_of(person))
    candidates = [
        engine.features(identity)
        for identity in identities_of(Person.objects.filter(pk__in=candidate_ids).order_by("pk"))
    ]
    frequency = frequencies([new, *candidates], scorer.tf_columns())
    found = []
    for other in candidates:
        probability, weight, vector = scorer.score(new, other, frequency)
        if probability >= model.threshold:
            readable = {NAMES_OF_OUTPUT.get(k, k): round(v, 3) for k, v in vector.items()}
            found.append((other["unique_id"], probability, weight, readable))
    return found


@dataclass(frozen=True)
class RegistrationCheck:
    in_scope: list  # persons the registering user may see: shown, with their reference
    elsewhere: bool  # a match outside the user's scope exists: only that, and whom to ask


def check_registration(actor: User, person: Person) -> RegistrationCheck:
    """Possible existing records of a person just registered, checked at once.

    Candidates come from one indexed lookup of the person's registration keys (blind indexes
    of the blocking keys the last run stored, ``BlockingKey``), never from scoring everyone;
    they are scored in Python with the stored model's parameters inside one audited system
    read. Each match becomes a pending pair in the review queue. Without a trained model (or
    without the ``linkage`` extra) only exact name and document-number matches are found.
    """
    from streha.protection.search import exact

    model = LinkageModel.objects.exclude(parameters={}).order_by("-trained_at", "-pk").first()
    try:
        import splink  # noqa: F401
    except ImportError:
        model = None
    found: list[tuple[int, float, float, dict]] = []
    with read_context.system("registration match check", actor=actor, obj=person):
        row = engine.features(identity_of(person))
        if model is not None and BlockingKey.objects.exists():
            candidates = _candidates_by_keys(person, row)
            _remember_keys(person, row)
        else:
            candidates = _candidates_by_person_indexes(person)
        if not candidates:
            return RegistrationCheck(in_scope=[], elsewhere=False)
        if model is not None:
            found = score_against(person, candidates, model, row)
        else:
            pool = Person.objects.filter(pk__in=candidates)
            exact_ids: set[int] = set()
            for index, field in (
                ("name_index", f"{person.given_name} {person.family_name}"),
                ("personal_number_index", person.personal_number),
                ("passport_number_index", person.passport_number),
            ):
                if field and field.strip():
                    exact_ids |= set(exact(pool, index, field).values_list("pk", flat=True))
            found = [(pk, 1.0, 0.0, {}) for pk in sorted(exact_ids)]
    for other, probability, weight, vector in found:
        a, b = sorted((person.pk, other))
        CandidatePair.objects.get_or_create(
            person_a_id=a,
            person_b_id=b,
            defaults={
                "model": model,
                "match_probability": probability,
                "match_weight": weight,
                "comparison": vector,
            },
        )
    matches = Person.objects.filter(pk__in=[pk for pk, *_ in found]).select_related("owner_agency")
    in_scope = [p for p in matches if policy.registration_match_in_scope(actor, p)]
    return RegistrationCheck(in_scope=in_scope, elsewhere=len(in_scope) < len(found))
