"""Job records: one row per piece of long work run by the background worker.

The queue itself belongs to django-tasks (its database backend by default); this record is what
people see: who started the job, what kind it is, its state, its progress, and its outcome. It
never holds personal data: parameters, results and errors are counts, codes and opaque ids.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


class Job(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=60, db_index=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        verbose_name=_("started by"),
    )
    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The starter's language: messages written by the job (reports, errors) are in it.
    language = models.CharField(max_length=10, blank=True)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=JobState.choices, default=JobState.QUEUED
    )
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), null=True, blank=True)
    # What a rerun needs to carry on where the last attempt stopped (written with each batch).
    checkpoint = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Set once the kind's clean-up has run (e.g. an uploaded file deleted): no rerun after it.
    cleaned_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [
            models.Index(fields=["started_by", "-created_at"]),
            models.Index(fields=["state", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.public_id}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def percent(self) -> int:
        if self.state == JobState.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))
