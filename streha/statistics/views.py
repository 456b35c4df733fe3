"""Statistics pages for analysts: the year's key figures, every table, and its downloads."""

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from streha.access import policy
from streha.accounts.reauth import asks_download, require_recent_authentication
from streha.audit import services as audit
from streha.statistics import figures, filters, selectors, stored
from streha.statistics.definitions import DEFINITIONS
from streha.statistics.publication import as_csv, as_xlsx, rate_shown


def as_sdmx(published) -> str:
    """The table in its international SDMX-CSV shape (codes in ``data/eurostat.json``)."""
    from streha.statistics import exports

    if published.code in ("T01", "T02", "T03"):
        return exports.sdmx_csv([published])
    if published.code == "T06":
        return exports.justice_sdmx_csv([published])
    return exports.other_sdmx_csv(published)


# Tables with an international format (SDMX-CSV), national figures only: not offered filtered.
SDMX_TABLES = frozenset({"T01", "T02", "T03", "T04", "T06", "T09", "T16"})

DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", as_xlsx),
    "sdmx": ("text/csv; charset=utf-8", as_sdmx),
}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "sdmx": "sdmx.csv"}


def prepared_stamp(counted_at) -> str:
    """When the figures were counted, for a file name (ISO 8601 basic, UTC). SDMX-CSV has no
    place for it inside the file: an extra column would be a component the data structure
    does not define, and the file would be refused."""
    return counted_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%MZ")


def _not_counted(request, code, year, found, table_filter, filter_error):
    """A large scope whose figures for this year or filter were never counted: say so, and
    offer counting to who may (counting live here would take minutes)."""
    definition = DEFINITIONS[code]
    return render(
        request,
        "statistics/not_counted.html",
        {
            "year": year,
            "definition": definition,
            "table_filter": table_filter,
            "filter_error": filter_error,
            "may_count": stored.may_count(request.user),
            "page_title": _("%(code)s: %(title)s") % {"code": code, "title": definition.title},
        },
        status=409 if request.GET.get("format") else 200,
    )


@login_required
@require_POST
def count(request):
    """Start counting the published figures (the job page shows its progress)."""
    from streha.statistics.jobs import request_count

    _require_analyst(request)
    if not stored.may_count(request.user):
        raise Http404()
    job = request_count(request.user)
    return redirect("jobs:detail", public_id=job.public_id)


def _require_analyst(request):
    if not policy.can_see_statistics(request.user):
        raise Http404()


def _year(request) -> int:
    """The year asked for, or the current one; a year outside 1990–2100 is not a table."""
    raw = request.GET.get("year", "")
    if not raw:
        return figures.default_year()
    if not raw.isdigit() or not 1990 <= int(raw) <= 2100:
        raise Http404()
    return int(raw)


@login_required
@require_GET
def index(request):
    _require_analyst(request)
    year = _year(request)
    key_figures, found = selectors.key_figures_counted(request.user, year)
    return render(
        request,
        "statistics/index.html",
        {
            "year": year,
            "years": range(figures.default_year(), figures.default_year() - 10, -1),
            "key_figures": key_figures,
            "figures": found,
            "as_of": stored.as_of_text(found) if found.published is not None else "",
            "may_count": stored.may_count(request.user),
            "definitions": DEFINITIONS.values(),
        },
    )


@login_required
@require_GET
@require_recent_authentication(on_read=asks_download)
def table(request, code: str):
    _require_analyst(request)
    if code not in DEFINITIONS:
        raise Http404()
    year = _year(request)
    filter_error = ""
    try:
        table_filter = filters.parse(request.GET, code)
    except ValidationError as exc:
        table_filter, filter_error = None, " ".join(exc.messages)
    found = stored.figures_for(request.user, code, year, table_filter)
    if found.published is None:
        return _not_counted(request, code, year, found, table_filter, filter_error)
    published = found.published
    published.as_of = stored.as_of_text(found)
    download = request.GET.get("format", "")
    if download == "sdmx" and (code not in SDMX_TABLES or table_filter is not None):
        filter_error = _(
            "SDMX files hold the national figures of tables with an international format only."
        )
    if download in DOWNLOADS and not filter_error:
        content_type, make = DOWNLOADS[download]
        details = {
            "year": year,
            "rows": len(published.rows),
            "format": download,
            "counted_at": found.counted_at.isoformat(),
        }
        if table_filter is not None:
            details["filter"] = {table_filter.dimension: table_filter.value}
        audit.record(
            request.user,
            audit.Action.EXPORT,
            object_type="statistics.table",
            object_id=code,
            purpose="statistics download",
            request=request,
            details=details,
        )
        name = f"{code}-{year}"
        if table_filter is not None:
            name += f"-{table_filter.dimension}-{table_filter.value}"
        if download == "sdmx":
            name += f"-prepared-{prepared_stamp(found.counted_at)}"
        response = HttpResponse(make(published), content_type=content_type)
        response["Last-Modified"] = http_date(found.counted_at.timestamp())
        response["Content-Disposition"] = f'attachment; filename="{name}.{EXTENSIONS[download]}"'
        return response
    bars = _bars(published)
    return render(
        request,
        "statistics/table.html",
        {
            "year": year,
            "published": published,
            "definition": published.table.definition,
            "figures": found,
            "may_count": stored.may_count(request.user),
            "rate": rate_shown(published) if code == "T16" else None,
            "bars": bars,
            "chart_height": len(bars) * 28 + 8,
            "sdmx": code in SDMX_TABLES and table_filter is None,
            "filter_choices": filters.choices(code),
            "table_filter": table_filter,
            "filter_error": filter_error,
            "filter_query": f"&{table_filter.query}" if table_filter is not None else "",
            "not_applicable": filters.NOT_APPLICABLE.get(code, ""),
            "tips_no_agency": filters.TIPS_NO_AGENCY if code in ("TIP1", "TIP2") else "",
            "page_title": _("%(code)s: %(title)s")
            % {"code": code, "title": published.table.definition.title},
        },
        status=400 if filter_error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report(request):
    """The national annual report: asking for it starts a background job (counting and
    typesetting take seconds); its page shows the progress and links to the PDF."""
    from streha.statistics.jobs import request_report

    _require_analyst(request)
    year = figures.default_year()
    error = ""
    if request.method == "POST":
        raw = request.POST.get("year", "")
        if raw.isdigit() and 1990 <= int(raw) <= 2100:
            job = request_report(request.user, int(raw))
            return redirect("jobs:detail", public_id=job.public_id)
        error = _("A year between 1990 and 2100.")
    else:
        raw = request.GET.get("year", "")
        if raw.isdigit() and 1990 <= int(raw) <= 2100:
            year = int(raw)
    return render(
        request,
        "statistics/report.html",
        {
            "year": year,
            "years": range(figures.default_year(), figures.default_year() - 10, -1),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def report_download(request, public_id):
    """The PDF a report job made, for the analyst who started it (asked again: a role may
    have been withdrawn since); every download is audited."""
    from streha.jobs import selectors as job_selectors
    from streha.statistics.jobs import JOB_KIND
    from streha.statistics.models import ReportFile

    _require_analyst(request)
    job = job_selectors.job_for(request.user, public_id)
    if job.kind != JOB_KIND or job.started_by_id != request.user.pk:
        raise Http404()
    report_file = ReportFile.objects.filter(job=job).first()
    if report_file is None:
        raise Http404()
    audit.record(
        request.user,
        audit.Action.EXPORT,
        object_type="statistics.report",
        object_id=f"national-{report_file.year}",
        purpose="national report (PDF)",
        request=request,
        details={
            "year": report_file.year,
            "job": str(job.public_id),
            "format": "pdf",
            "language": report_file.language,
        },
    )
    response = HttpResponse(bytes(report_file.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report_file.file_name}"'
    return response


def _bars(published) -> list[dict]:
    """Row totals as horizontal bars (SVG attributes, no inline style: the CSP forbids it).
    Hidden totals get no bar, so the chart never shows what the table withholds."""
    totals = [(row[0], row[published.chart_column]) for row in published.body]
    largest = max((value for _label, value in totals if isinstance(value, int)), default=0)
    bars = []
    for i, (label, value) in enumerate(totals):
        width = 0 if not isinstance(value, int) or not largest else round(300 * value / largest)
        bars.append({"label": label, "value": value, "width": width, "y": i * 28})
    return bars
