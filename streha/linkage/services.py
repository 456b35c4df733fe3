"""Writes of the linkage app: the deduplication run, decisions on pairs, and the clusters.

The run reads every person's identity through the protection layer inside ONE audited system
read (how many persons, and why), hands the features to ``engine`` (an in-memory DuckDB that
never spills to disk), and stores only what the model says about pairs: probabilities and
match weights per field. Decisions are links, never merges: both records stay, and the
clusters are recomputed from the accepted links after every decision and every undo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.audit import read_context
from streha.audit import services as audit
from streha.linkage import engine
from streha.linkage.models import (
    DECIDED,
    CandidatePair,
    LinkageModel,
    PairDecision,
    PairStatus,
    PersonCluster,
)
from streha.people.models import Person

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


def read_identities(reason: str, *, actor: User | None = None, progress: Progress | None = None):
    """Every person's model features, decrypted in memory inside one audited system read."""
    persons = Person.objects.filter(anonymised_at__isnull=True).order_by("pk")
    total = persons.count()
    rows: list[dict] = []
    purpose = f"{reason} ({total} persons)"
    with read_context.system(purpose, actor=actor):
        for person in persons.iterator(chunk_size=READ_CHUNK):
            rows.append(engine.features(identity_of(person)))
            if progress is not None and len(rows) % READ_CHUNK == 0:
                progress(len(rows), total)
    return rows


def run_deduplication(
    *, actor: User | None = None, reason: str = "deduplication run", progress=None, job=None
) -> LinkageModel:
    """Train the model on every person, score the candidate pairs and store them.

    Decided pairs keep their decision; pending pairs the model no longer proposes are dropped.
    """
    try:
        import duckdb
        import splink  # noqa: F401
    except ImportError as exc:
        raise LinkageUnavailable(
            _("Finding duplicates needs the optional 'linkage' extra (Splink and DuckDB).")
        ) from exc
    rows = read_identities(reason, actor=actor, progress=progress)
    limit = threshold()
    if len(rows) < 2:
        parameters, pairs = {}, []
    else:
        try:
            parameters, pairs = engine.run(rows, threshold=limit, memory_limit=memory_limit())
        except duckdb.OutOfMemoryException as exc:
            # The limit is what keeps identities off the disk (no spill): stop, write nothing.
            raise LinkageUnavailable(
                _("The run needs more memory than it may use (STREHA_LINKAGE_MEMORY_LIMIT).")
            ) from exc
    del rows
    return _store(parameters, pairs, job=job, limit=limit)


@transaction.atomic
def _store(parameters: dict, pairs, *, job, limit: float) -> LinkageModel:
    model = LinkageModel.objects.create(
        trained_at=timezone.now(),
        parameters=parameters,
        persons=Person.objects.filter(anonymised_at__isnull=True).count(),
        pairs=len(pairs),
        threshold=limit,
        job=job,
    )
    existing = {(p.person_a_id, p.person_b_id): p for p in CandidatePair.objects.all()}
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
        else:
            pair.model, pair.match_probability, pair.match_weight = model, probability, weight
            pair.comparison = vector
            changed.append(pair)
    CandidatePair.objects.bulk_create(new, batch_size=2000)
    CandidatePair.objects.bulk_update(
        changed, ["model", "match_probability", "match_weight", "comparison"], batch_size=2000
    )
    stale = [p.pk for key, p in existing.items() if key not in seen and p.status == "pending"]
    CandidatePair.objects.filter(pk__in=stale).delete()
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
