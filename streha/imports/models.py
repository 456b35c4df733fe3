"""What an import keeps: the uploaded file (encrypted, until its job is over), which source
record became which person and case (idempotence), and each agency's column mapping."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from streha.protection.fields import ProtectedBinaryField, ProtectedCharField
from streha.protection.models import ProtectedModel


class ImportUpload(ProtectedModel):
    """An uploaded file, encrypted: checked by a dry-run job, then used by its import job, and
    deleted when that job is over (or, never imported, after ``UNCONFIRMED_HOURS``).

    The dry run's report is that job's result: the dry run writes nothing else."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    job = models.OneToOneField(
        "jobs.Job", on_delete=models.CASCADE, null=True, blank=True, related_name="upload"
    )
    dry_run_job = models.OneToOneField(
        "jobs.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checked_upload",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    profile = models.CharField(max_length=20, default="htcds")
    file_name = ProtectedCharField(max_length=255, blank=True)
    content = ProtectedBinaryField()
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"upload:{self.job_id}"


class ImportUploadChunk(models.Model):
    """One sealed chunk of an upload's file (``streha.protection.chunks``): the job reads the
    file chunk by chunk, so its plaintext is never whole in memory (CSV). ``content`` above
    stays empty for an upload kept in chunks."""

    upload = models.ForeignKey(ImportUpload, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    sealed = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upload", "index"], name="one_chunk_per_position")
        ]

    def __str__(self) -> str:
        return f"upload-chunk:{self.upload_id}:{self.index}"


class ImportedRecord(models.Model):
    """One source record (``ext_Agency``, ``ext_Reference``) and what it became.

    ``fingerprint`` is a keyed hash of the row's values, so an unchanged row is recognised
    without keeping its content."""

    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    source_reference = models.CharField(max_length=64)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    fingerprint = models.CharField(max_length=64)
    last_job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "source_reference"], name="one_record_per_source_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}:{self.pk}"


class ImportMapping(models.Model):
    """An agency's remembered mapping: its column headers and codes to HTCDS ones."""

    agency = models.OneToOneField(
        "accounts.Agency", on_delete=models.CASCADE, related_name="import_mapping"
    )
    headers = models.JSONField(_("columns"), default=dict, blank=True)
    values = models.JSONField(_("values"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"mapping:{self.agency_id}"


class ExportFile(ProtectedModel):
    """A large export made by a background job, encrypted until its starter downloads it
    (then deleted) or ``STREHA_EXPORT_KEEP_HOURS`` pass."""

    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="export_file")
    file_name = models.CharField(max_length=100)
    content_type = models.CharField(max_length=100)
    content = ProtectedBinaryField()
    rows = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"export:{self.job_id}"
