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
