"""Statistics pages for analysts: the year's key figures, every table, and its downloads."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from streha.access import policy
from streha.accounts.reauth import asks_download, require_recent_authentication
from streha.audit import services as audit
from streha.statistics import figures, selectors
from streha.statistics.definitions import DEFINITIONS
from streha.statistics.publication import as_csv, as_xlsx, publish, rate_shown

DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", as_xlsx),
}


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
    return render(
        request,
        "statistics/index.html",
        {
            "year": year,
            "years": range(figures.default_year(), figures.default_year() - 10, -1),
            "key_figures": selectors.key_figures(request.user, year),
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
    found = figures.table(
        policy.cases_for_statistics(request.user),
        code,
        year,
        tips=policy.tips_for_statistics(request.user),
        criminal_cases=selectors.criminal_cases_for_statistics(request.user),
    )
    published = publish(found)
    download = request.GET.get("format", "")
    if download in DOWNLOADS:
        content_type, make = DOWNLOADS[download]
        audit.record(
            request.user,
            audit.Action.EXPORT,
            object_type="statistics.table",
            object_id=code,
            purpose="statistics download",
            request=request,
            details={"year": year, "rows": len(published.rows), "format": download},
        )
        response = HttpResponse(make(published), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{code}-{year}.{download}"'
        return response
    bars = _bars(published)
    return render(
        request,
        "statistics/table.html",
        {
            "year": year,
            "published": published,
            "definition": found.definition,
            "rate": rate_shown(published) if code == "T16" else None,
            "bars": bars,
            "chart_height": len(bars) * 28 + 8,
            "page_title": _("%(code)s: %(title)s")
            % {"code": code, "title": found.definition.title},
        },
    )


@login_required
@require_GET
def report_pdf(request):
    """The national annual report of the year as a PDF in the reader's language, made from
    the analyst's scope with every small cell suppressed (it is a publication), audited."""
    from streha.statistics.pdf import annual_report

    _require_analyst(request)
    year = _year(request)
    tables = figures.national_tables(
        policy.cases_for_statistics(request.user),
        year,
        tips=policy.tips_for_statistics(request.user),
        criminal_cases=selectors.criminal_cases_for_statistics(request.user),
    )
    published = [publish(table) for table in tables]
    audit.record(
        request.user,
        audit.Action.EXPORT,
        object_type="statistics.report",
        object_id=f"national-{year}",
        purpose="national report (PDF)",
        request=request,
        details={"year": year, "tables": len(published), "format": "pdf"},
    )
    content = annual_report(published, year, made_on=timezone.localdate())
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="national-report-{year}.pdf"'
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
