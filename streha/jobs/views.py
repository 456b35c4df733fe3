"""The starter's job pages: a list, and one job with its live progress bar (htmx polling)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from streha.jobs import registry, selectors, services
from streha.jobs.models import JobState

POLL_SECONDS = 1


def _context(job) -> dict:
    kind = registry.kinds().get(job.kind)
    result_url = ""
    if kind is not None and kind.result_url_name and job.state == JobState.SUCCEEDED:
        try:
            result_url = reverse(kind.result_url_name, args=[job.public_id])
        except NoReverseMatch:
            result_url = ""
    return {
        "job": job,
        "kind_label": kind.label if kind is not None else job.kind,
        "result_url": result_url,
        "poll_seconds": POLL_SECONDS,
        "can_rerun": job.state == JobState.FAILED and job.cleaned_up_at is None,
    }


@login_required
def job_list(request):
    services.expire_stale_jobs()
    jobs = list(selectors.jobs_visible_to(request.user)[:100])
    kinds = registry.kinds()
    rows = [(job, kinds[job.kind].label if job.kind in kinds else job.kind) for job in jobs]
    return render(request, "jobs/list.html", {"rows": rows})


@login_required
def job_detail(request, public_id):
    job = selectors.job_for(request.user, public_id)
    template = "jobs/_progress.html" if request.htmx else "jobs/detail.html"
    return render(request, template, _context(job))


def _act(request, public_id, action) -> object:
    job = selectors.job_for(request.user, public_id)
    try:
        action(request.user, job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("jobs:detail", public_id=job.public_id)


@login_required
@require_POST
def job_cancel(request, public_id):
    return _act(request, public_id, services.cancel_job)


@login_required
@require_POST
def job_rerun(request, public_id):
    return _act(request, public_id, services.rerun_job)


@login_required
@require_POST
def job_discard(request, public_id):
    return _act(request, public_id, services.discard_job)
