"""The national annual report as a background job: several seconds of counting and typesetting
run by the worker, not inside a request; the starter follows it on the job page (live progress
bar, cancel) and downloads the PDF from there (``views.report_download``, audited)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.access import policy
from streha.jobs.registry import job_kind
from streha.jobs.services import JobContext, JobError, start_job
from streha.statistics import figures, selectors
from streha.statistics.definitions import DEFINITIONS
from streha.statistics.models import ReportFile
from streha.statistics.publication import publish

JOB_KIND = "statistics.national_report"


def request_report(user, year: int):
    """Queue the year's national report for ``user`` (an analyst), in their language."""
    return start_job(JOB_KIND, user, {"year": year})


def _may_start(user, params) -> bool:
    return policy.can_see_statistics(user)


def file_name(year: int, language: str) -> str:
    return f"national-report-{year}-{language}.pdf"


@job_kind(
    JOB_KIND,
    label=gettext_lazy("National report (PDF)"),
    may_start=_may_start,
    result_url_name="statistics:report_download",
)
def run_national_report(ctx: JobContext) -> dict:
    """Count every table from the starter's analyst scope (asked again now: the starter may
    have lost the role since), suppress, typeset; progress after each table and each page."""
    from streha.statistics.pdf import annual_report

    user = ctx.starter(policy.can_see_statistics)
    year = ctx.params.get("year")
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        raise JobError(_("A year between 1990 and 2100."))
    total = 2 * len(DEFINITIONS)  # each table counted, then each typeset
    tick = ctx.step_counter(total)

    tables = figures.national_tables(
        policy.cases_for_statistics(user),
        year,
        tips=policy.tips_for_statistics(user),
        criminal_cases=selectors.criminal_cases_for_statistics(user),
        tick=tick,
    )
    published = [publish(table) for table in tables]
    content = annual_report(published, year, made_on=timezone.localdate(), tick=tick)
    language = ctx.job.language
    with transaction.atomic():
        ReportFile.objects.create(
            job=ctx.job,
            file_name=file_name(year, language),
            content=content,
            year=year,
            language=language,
        )
        ctx.progress(total, total)
    return {"year": year, "tables": len(published), "bytes": len(content)}


COUNT_KIND = "statistics.count_figures"


def request_count(user, years: list[int] | None = None):
    """Queue a count of the published figures, started from the statistics pages."""
    return start_job(COUNT_KIND, user, {"years": years or []})


def _may_count(user, params) -> bool:
    from streha.statistics.stored import may_count

    return may_count(user)


@job_kind(COUNT_KIND, label=gettext_lazy("Count the published figures"), may_start=_may_count)
def run_count_figures(ctx: JobContext) -> dict:
    """Count every scope's published figures and swap them in (``stored.count_figures``);
    started from a page, the starter is asked again whether they may; started by the schedule
    (``streha statistics count``), it works for nobody and stores only published cells."""
    from streha.statistics import stored

    if not ctx.params.get("scheduled"):
        ctx.starter(stored.may_count)
    years = ctx.params.get("years") or stored.offered_years()
    if not isinstance(years, list) or not all(
        isinstance(y, int) and 1990 <= y <= 2100 for y in years
    ):
        raise JobError(_("A year between 1990 and 2100."))
    tick = ctx.step_counter(len(stored.scopes_to_count()) * len(set(years)))

    def heartbeat() -> None:  # renew the lease between tables, stop if cancelled
        ctx.raise_if_cancelled()
        ctx.heartbeat()

    return stored.count_figures(years, job=ctx.job, tick=tick, heartbeat=heartbeat)
