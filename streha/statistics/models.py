"""The national report PDFs made by background jobs, kept for their starter to download.

A report is a publication (every small cell suppressed before it is written), so it holds no
personal data and is stored in clear; it is tied to its job, and goes with it.
"""

from django.db import models


class ReportFile(models.Model):
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="report_file")
    file_name = models.CharField(max_length=100)
    content = models.BinaryField()
    year = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=10)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"report:{self.job_id}"


class FigureSet(models.Model):
    """One counting of the published figures for one statistics scope, stored whole.

    Pages, the API and downloads read the current set of the reader's scope instead of
    recounting hundreds of thousands of cases per request. A set holds only published cells
    (small cells already suppressed): never an exact count. It is swapped in in one
    transaction, so a counting that stops half-way leaves the previous set in place.
    """

    # "national" (the national coordinator's office: every record) or "agency-<id>".
    scope = models.CharField(max_length=40, unique=True)
    counted_at = models.DateTimeField()
    # Position of the audit chain when counting began: later writes to the records that feed
    # the tables make the set stale (``streha.statistics.stored.is_stale``).
    audit_seq = models.PositiveBigIntegerField(default=0)
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    years = models.JSONField(default=list)
    min_cell = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"figures:{self.scope}"


class PublishedFigure(models.Model):
    """One published table of a ``FigureSet``: cells as any analyst of the scope may see them,
    with its labels in every language of the system."""

    figure_set = models.ForeignKey(FigureSet, on_delete=models.CASCADE, related_name="tables")
    year = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=10)
    # The filter ("" and "": national figures of the scope).
    dimension = models.CharField(max_length=20, blank=True)
    value = models.CharField(max_length=40, blank=True)
    payload = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["figure_set", "year", "code", "dimension", "value"],
                name="statistics_one_published_table",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}:{self.year}"
