"""The import pages: upload, the dry run's progress and report, confirm, the final report,
the column mapping."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from streha.accounts.models import Agency
from streha.accounts.reauth import require_recent_authentication
from streha.imports import exports, htcds_export, selectors, services
from streha.imports.forms import ExportForm, HtcdsExportForm, MappingForm, UploadForm
from streha.jobs import selectors as job_selectors
from streha.jobs.models import JobState
from streha.jobs.views import POLL_SECONDS


def _agencies(user):
    agencies = Agency.objects.filter(is_active=True).order_by("name")
    allowed = [agency.pk for agency in agencies if services.may_import(user, agency)]
    if not allowed:
        raise Http404
    return agencies.filter(pk__in=allowed)


@login_required
def upload(request):
    """Keep the file and start its dry run (a job): the rows are not checked in the request."""
    agencies = _agencies(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        try:
            checked = services.check_upload(
                request.user,
                form.cleaned_data["agency"],
                form.cleaned_data["upload"].read(),
                file_name=form.cleaned_data["upload"].name or "",
                profile=form.cleaned_data["profile"],
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            return redirect("imports:check", public_id=checked.dry_run_job.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/upload.html", {"form": form}, status=status)


@login_required
def check(request, public_id):
    """The dry run's live progress (htmx polls this page), then its report and the button
    that starts the real import."""
    job = selectors.dry_run_for(request.user, public_id)
    checked = selectors.upload_awaiting_confirmation(job)
    status, error = 200, ""
    if request.method == "POST":
        if checked is None:
            raise Http404
        try:
            real_run = services.confirm_import(request.user, checked)
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            status, error = 400, " ".join(exc.messages)
        else:
            return redirect("jobs:detail", public_id=real_run.public_id)
    done = job.state == JobState.SUCCEEDED
    context = {
        "job": job,
        "upload": checked,
        "report": services.Report(**job.result) if done else None,
        "dry_run": True,
        "error": error,
        "poll_seconds": POLL_SECONDS,
    }
    template = "imports/_check.html" if request.htmx else "imports/check.html"
    return render(request, template, context, status=status)


@login_required
def report(request, public_id):
    job = job_selectors.job_for(request.user, public_id)
    if job.kind != services.JOB_KIND or not job.result:
        raise Http404
    return render(
        request,
        "imports/report.html",
        {"job": job, "report": services.Report(**job.result), "dry_run": False},
    )


@login_required
def mapping(request):
    agencies = _agencies(request.user)
    agency = get_object_or_404(agencies, code=request.GET.get("agency", ""))
    saved = services.saved_mapping(agency)
    extra = [name for name in request.GET.getlist("header") if name][:50]
    form = MappingForm(request.POST or None, initial=MappingForm.initial_from(saved, extra))
    if request.method == "POST" and form.is_valid():
        services.remember_mapping(
            request.user, agency, form.cleaned_data["headers"], form.cleaned_data["values"]
        )
        return redirect("imports:upload")
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/mapping.html", {"form": form, "agency": agency}, status=status)


def _file_response(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_recent_authentication
def export(request):
    """Export a work list: small lists download at once, large ones become a job."""
    lists = exports.lists_for(request.user)
    if not lists:
        raise Http404
    # A list page's "Export" link names the list and its filters: the form starts with them.
    initial = {key: value for key, value in request.GET.items() if key in ExportForm.base_fields}
    form = ExportForm(request.POST or None, lists=lists, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        filters = {k: v for k, v in data.items() if k not in ("work_list", "format") and v}
        try:
            outcome = exports.request_export(
                request.user, data["work_list"], data["format"], filters
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            if isinstance(outcome, tuple):
                content, name, content_type, _count = outcome
                return _file_response(content, name, content_type)
            return redirect("jobs:detail", public_id=outcome.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/export.html", {"form": form}, status=status)


@login_required
@require_recent_authentication(on_read=True)
def export_download(request, public_id):
    job = job_selectors.job_for(request.user, public_id)
    if job.kind not in (exports.JOB_KIND, htcds_export.JOB_KIND):
        raise Http404
    exports.purge_export_files()
    try:
        export_file = exports.take_export_file(request.user, job)
    except (PermissionDenied, ValidationError) as exc:
        raise Http404 from exc
    return _file_response(export_file.content, export_file.file_name, export_file.content_type)


@login_required
@require_recent_authentication
def htcds(request):
    """The national HTCDS export, as a job; identities only under an agreement (policy)."""
    if not htcds_export.may_export(request.user, identities=False):
        raise Http404
    form = HtcdsExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        identities = form.cleaned_data["identities"]
        if htcds_export.may_export(request.user, identities=identities):
            job = htcds_export.request_export(request.user, identities=identities)
            return redirect("jobs:detail", public_id=job.public_id)
        form.add_error(
            "identities",
            _(
                "Only the national coordinator's supervisors and administrators may include "
                "identities."
            ),
        )
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/htcds_export.html", {"form": form}, status=status)
