"""Hotline pages: the triage queue, a tip, phone calls, campaign pages and figures."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.views import add_service_errors
from streha.tips import selectors, services
from streha.tips.forms import (
    CampaignPageForm,
    PhoneCallForm,
    PoliceReportForm,
    ReplyForm,
    TriageForm,
    VictimCaseForm,
)
from streha.tips.models import CampaignPage, Category, ConversionKind, TipStatus


@login_required
def tip_queue(request):
    if not (
        policy.is_hotline_operator(request.user)
        or request.user.has_role(*policy.TIP_ROLES_OF_ASSIGNED_AGENCY)
    ):
        raise Http404
    status = request.GET.get("status", "open")
    page = Paginator(selectors.queue(request.user, status=status), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request, "tips/queue.html", {"page": page, "status": status, "statuses": TipStatus.choices}
    )


@login_required
def tip_detail(request, public_id):
    tip = selectors.read_tip(request.user, public_id, request=request)
    can_triage = policy.can_triage_tips(request.user)
    field_groups = policy.role_field_groups(request.user)
    forms = {
        "triage": TriageForm(
            initial={
                "category": tip.category,
                "status": tip.status,
                "assigned_agency": tip.assigned_agency_id,
            }
        ),
        "reply": ReplyForm(),
        ConversionKind.POLICE_REPORT: PoliceReportForm(),
        ConversionKind.VICTIM_CASE: VictimCaseForm(
            field_groups=field_groups,
            initial={"is_child": tip.child_involved or tip.category == Category.CHILD_TRAFFICKING},
        ),
    }
    status = 200
    if request.method == "POST":
        if not can_triage:
            raise Http404
        action = request.POST.get("action")
        if action == "convert":
            action = request.POST.get("kind", ConversionKind.POLICE_REPORT)
        form_class = {
            "triage": TriageForm,
            "reply": ReplyForm,
            ConversionKind.POLICE_REPORT: PoliceReportForm,
            ConversionKind.VICTIM_CASE: VictimCaseForm,
        }.get(action)
        if form_class is None:
            raise Http404
        extra = {"field_groups": field_groups} if form_class is VictimCaseForm else {}
        form = forms[action] = form_class(request.POST, **extra)
        status = 400
        if form.is_valid():
            try:
                if action == "triage":
                    services.triage(request.user, tip, request=request, **form.cleaned_data)
                elif action == "reply":
                    services.reply(request.user, tip, form.cleaned_data["body"], request=request)
                elif action == ConversionKind.POLICE_REPORT:
                    services.convert(
                        request.user,
                        tip,
                        kind=ConversionKind.POLICE_REPORT,
                        reference=form.cleaned_data["reference"],
                        request=request,
                    )
                else:
                    services.convert(
                        request.user,
                        tip,
                        kind=ConversionKind.VICTIM_CASE,
                        request=request,
                        **form.service_arguments(),
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                # Said on the form, not on a bare error page: e.g. a role that may triage tips
                # but not open victim cases.
                form.add_error(None, str(error) or _("You are not allowed to do this."))
                status = 403
            else:
                if action == ConversionKind.VICTIM_CASE:
                    messages.success(
                        request,
                        _("Victim case %(reference)s was opened from this tip.")
                        % {"reference": tip.converted_to},
                    )
                else:
                    messages.success(request, _("Saved."))
                return redirect("tips:detail", public_id=tip.public_id)
        # The page shows the tip as stored, not as the refused attempt left it in memory.
        tip.refresh_from_db()
    context = {
        "tip": tip,
        "forms": forms,
        "can_triage": can_triage,
        "can_open_cases": services.can_open_case_from_tip(request.user),
        "case_url": selectors.case_url(request.user, tip),
        "thread": tip.messages.all(),
    }
    return render(request, "tips/detail.html", context, status=status)


@login_required
def phone_call(request):
    if not policy.can_triage_tips(request.user):
        raise Http404
    form = PhoneCallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tip = services.log_phone_call(request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Call logged in the queue."))
            return redirect("tips:detail", public_id=tip.public_id)
    return render(request, "tips/phone.html", {"form": form})


@login_required
def campaign(request):
    if not policy.can_edit_campaign(request.user):
        raise Http404
    figures = (
        selectors.campaign_figures() if policy.can_see_campaign_figures(request.user) else None
    )
    return render(
        request, "tips/campaign.html", {"pages": CampaignPage.objects.all(), "figures": figures}
    )


@login_required
def campaign_edit(request, slug):
    if not policy.can_edit_campaign(request.user):
        raise Http404
    page = get_object_or_404(CampaignPage, slug=slug)
    form = CampaignPageForm(request.POST or None, instance=page)
    if request.method == "POST" and form.is_valid():
        services.save_campaign_page(request.user, page, **form.cleaned_data)
        messages.success(request, _("Page saved. It is live now."))
        return redirect("tips:campaign")
    return render(request, "tips/campaign_edit.html", {"form": form, "page": page})
