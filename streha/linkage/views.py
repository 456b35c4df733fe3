"""Duplicate review pages. Thin: selectors read (and audit), services write (and audit)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from streha.access import policy
from streha.accounts.views import add_service_errors
from streha.jobs.services import start_job
from streha.linkage import jobs, presentation, selectors, services
from streha.linkage.forms import DecisionForm
from streha.linkage.models import PairStatus


@login_required
def queue(request):
    if not policy.can_see_duplicate_queue(request.user):
        raise Http404
    status = request.GET.get("status", "open")
    if status != "open" and status not in PairStatus.values:
        status = "open"
    result = selectors.review_queue(request.user, status=status, page=request.GET.get("page", 1))
    context = {
        "queue": result,
        "status": status,
        "statuses": [("open", _("Open")), *PairStatus.choices],
        "can_run": policy.can_run_deduplication(request.user),
        "model": selectors.current_model() if policy.can_run_deduplication(request.user) else None,
    }
    return render(request, "linkage/queue.html", context)


@login_required
@require_POST
def run(request):
    if not policy.can_run_deduplication(request.user):
        raise Http404
    job = start_job(jobs.KIND, request.user, {})
    messages.success(request, _("The search for duplicates has started."))
    return redirect("jobs:detail", public_id=job.public_id)


@login_required
def pair(request, public_id):
    found = selectors.read_pair(request.user, public_id, request=request)
    form = DecisionForm(request.POST or None, initial={"expected_version": found.version})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.decide_pair(request.user, found, **form.cleaned_data, request=request)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Decision recorded."))
                return redirect("linkage:pair", public_id=public_id)
        status = 400
    context = {
        "pair": found,
        "persons": (found.person_a, found.person_b),
        "rows": presentation.comparison_rows(found),
        "form": form,
        "decisions": found.decisions.select_related("decided_by", "undone_by"),
        "decided": found.status in (PairStatus.SAME, PairStatus.DIFFERENT),
    }
    return render(request, "linkage/pair.html", context, status=status)


@login_required
@require_POST
def undo(request, public_id):
    found = selectors.read_pair(request.user, public_id, request=request)
    try:
        services.undo_decision(request.user, found, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Decision undone."))
    return redirect("linkage:pair", public_id=public_id)
