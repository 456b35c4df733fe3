"""Pages for auditors. Thin: the access policy scopes, selectors read, services write.

Everyone who is not an auditor gets 404 on every page here, so the pages' existence reveals
nothing. Looking at the audit log is not itself audited (it shows no personal data beyond
opaque ids); the break-glass page is, because its justifications may name the person.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from streha.access import policy
from streha.audit import reasons, selectors, services
from streha.audit.forms import BreakGlassReviewForm, ConsultationReasonForm, EventFilterForm


def _require_auditor(request) -> None:
    if not policy.can_audit(request.user):
        raise Http404


@login_required
def index(request):
    _require_auditor(request)
    events = selectors.visible_events(request.user)
    form = EventFilterForm(request.GET or None)
    if form.is_bound:
        if form.is_valid():
            events = selectors.filter_events(events, **form.cleaned_data)
        else:
            events = events.none()
    page = selectors.page_of(events, request.GET.get("page"))
    return render(request, "audit/index.html", {"form": form, "page": page})


@login_required
def person(request, public_id):
    _require_auditor(request)
    page = selectors.page_of(
        selectors.events_about_person(request.user, public_id), request.GET.get("page")
    )
    context = {
        "page": page,
        "public_id": public_id,
        "reference": selectors.person_reference(public_id),
    }
    return render(request, "audit/person.html", context)


@login_required
def user(request, user_id: int):
    _require_auditor(request)
    events = selectors.events_by_user(request.user, user_id)
    context = {
        "page": selectors.page_of(events, request.GET.get("page")),
        "actor_id": user_id,
        "username": selectors.recorded_username(events),
    }
    return render(request, "audit/user.html", context)


@login_required
def break_glass(request):
    _require_auditor(request)
    review = selectors.break_glass_review(request.user, request.GET.get("page"), request=request)
    context = {
        "pending": review.pending,
        "reviewed": review.reviewed,
        "form": BreakGlassReviewForm(),
    }
    return render(request, "audit/break_glass.html", context)


@login_required
@require_POST
def break_glass_review(request, pk: int):
    _require_auditor(request)
    grant = get_object_or_404(policy.break_glass_grants_visible_to(request.user), pk=pk)
    form = BreakGlassReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a review note before marking the access reviewed."))
        return redirect("audit:break_glass")
    try:
        services.review_break_glass(
            request.user, grant, note=form.cleaned_data["note"], request=request
        )
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    else:
        messages.success(request, _("Break-glass access marked as reviewed."))
    return redirect("audit:break_glass")


@login_required
@require_POST
def consultation_reason(request):
    """Remember the reason chosen for a record for this session, then go back to the page."""
    form = ConsultationReasonForm(request.POST)
    if not form.is_valid():
        return render(request, "audit/consultation_reason.html", {"form": form}, status=400)
    person = form.cleaned_data["person"]
    reasons.remember(request, person, f"code:{form.cleaned_data['code']}")
    back = form.cleaned_data["next"]
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts=None) and back.startswith("/"):
        return redirect(back)
    return redirect("people:detail", public_id=person)
