"""Possible duplicate persons, the decisions on them, and the clusters they make.

A candidate pair holds two persons, how likely the model finds them the same person, and the
comparison behind that (one match weight per compared field): never a name or a number. An
accepted pair is a *link*, not a merge: both records stay as they are, and ``PersonCluster``
(recomputed from the accepted links) ties each linked person to one cluster, which national
statistics count once. Undoing a decision reopens the pair and recomputes the clusters.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LinkageModel(models.Model):
    """One trained model: its Splink parameters (no data) and when it was trained."""

    trained_at = models.DateTimeField(_("trained"))
    # False: a run that predicted with an earlier model's parameters (copied here, with that
    # model's training date) instead of training again.
    trained = models.BooleanField(default=True)
    parameters = models.JSONField()
    persons = models.PositiveIntegerField(default=0)
    pairs = models.PositiveIntegerField(default=0)
    threshold = models.FloatField(default=0.5)
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-trained_at", "-pk"]
        verbose_name = _("linkage model")

    def __str__(self) -> str:
        return f"model {self.pk}"


class PairStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    SAME = "same", _("Same person")
    DIFFERENT = "different", _("Different persons")
    UNSURE = "unsure", _("Not sure")


DECIDED = (PairStatus.SAME, PairStatus.DIFFERENT)


class CandidatePair(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # person_a has the smaller primary key: one row per pair.
    person_a = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(LinkageModel, on_delete=models.SET_NULL, null=True, related_name="+")
    match_probability = models.FloatField(_("match probability"))
    match_weight = models.FloatField(_("match weight"))
    # {comparison name: match weight}: >0 the field agreed (how strongly), <0 it disagreed.
    comparison = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=12, choices=PairStatus.choices, default=PairStatus.PENDING
    )
    found_at = models.DateTimeField(_("found"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-match_probability", "pk"]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="linkage_one_pair"),
            models.CheckConstraint(
                condition=models.Q(person_a__lt=models.F("person_b")), name="linkage_pair_order"
            ),
        ]
        indexes = [models.Index(fields=["status", "-match_probability"])]

    def __str__(self) -> str:
        return str(self.public_id)


class PairDecision(models.Model):
    """A reviewer's decision on a pair, with the reasons; kept when undone (history)."""

    pair = models.ForeignKey(CandidatePair, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=12, choices=PairStatus.choices)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.pair_id}:{self.decision}"


class PersonCluster(models.Model):
    """The cluster of a linked person (persons without accepted links have no row: each is
    its own cluster). ``cluster`` is the smallest person id of the cluster, an opaque number."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    cluster = models.PositiveBigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.person_id}->{self.cluster}"


class BlockingKey(models.Model):
    """A blind index of one blocking key of a person (``fast.stored_keys``: the names, the
    date of birth, a document number, initials with the year...), so that the check at
    registration finds the few persons worth scoring with one indexed lookup instead of
    scoring everyone. ``key`` is the leading bits of a keyed hash (``services.key_of``):
    equal keys can be found, but the key cannot be turned back into a name without the
    index key. Rebuilt by every deduplication run; a registration adds its person's keys."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    key = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key", "person"], name="linkage_key_person")]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.key}"


class KeyDigest(models.Model):
    """A 64-bit digest of the registration keys the last run wrote for a person
    (``services.keys_digest``: a function of those stored ``BlockingKey`` values only, so it
    tells nothing the keys do not). A later run compares its own keys' digests with these and
    rewrites only the keys of persons whose digest changed, is missing (registered since, whose
    keys the registration check wrote) or who left the run (anonymised, deleted). Whoever
    writes a person's ``BlockingKey`` rows outside a run deletes its digest."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    digest = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.person_id}:{self.digest}"


class NameFrequency(models.Model):
    """How many persons carry a name (its keyed hash, never the name): the term frequencies of
    the stored model, counted by the last deduplication run, so the check at registration
    weighs a rare name's agreement more than a common one's, as the run did. The row with
    ``key = 0`` of a column ``<name>:all`` holds the number of persons with any value."""

    column = models.CharField(max_length=40)
    key = models.BigIntegerField()
    persons = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["column", "key"], name="linkage_one_frequency")
        ]

    def __str__(self) -> str:
        return f"{self.column}:{self.key}={self.persons}"
