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
from streha.tips.models import CampaignPage, Category, ConversionKind, TipLineMember, TipStatus
from streha.tips.unlock import member_key


@login_required
def tip_queue(request):
    if not policy.can_see_tip_queue(request.user):
        raise Http404
    status = request.GET.get("status", "open")
    page = Paginator(selectors.queue(request.user, status=status), 50).get_page(
        request.GET.get("page")
    )
    # What was reported, in a few words, for members of the unit (opened in memory only).
    previews = selectors.queue_previews(request.user, member_key(request), page.object_list)
    for tip in page.object_list:
        tip.preview = previews.get(tip.pk, "")
    return render(
        request, "tips/queue.html", {"page": page, "status": status, "statuses": TipStatus.choices}
    )


def _triage_form(tip, report, data=None):
    initial = {
        "category": tip.category,
        "status": tip.status,
        "assigned_agency": tip.assigned_agency_id,
        "forwarded_text": tip.forwarded_text or _forward_proposal(report),
        "forward_contact": bool(tip.forwarded_contact),
    }
    return TriageForm(
        data,
        initial=initial,
        contact_may_be_shared=bool(report and report.contact_may_be_shared),
    )


def _forward_proposal(report) -> str:
    """What the agency would read if the operator changes nothing: the account itself, never
    the reporter's contact (that has its own box)."""
    if report is None:
        return ""
    parts = [report.what_seen]
    if report.where:
        parts.append(_("Where: %(where)s") % {"where": report.where})
    if report.when:
        parts.append(_("When: %(when)s") % {"when": report.when})
    return "\n".join(parts)


@login_required
def tip_detail(request, public_id):
    tip = selectors.read_tip(request.user, public_id, request=request)
    can_triage = policy.can_triage_tips(request.user)
    reads_sealed = policy.can_read_tip_content(request.user)
    key = member_key(request)
    report = selectors.open_report(request.user, key, tip) if reads_sealed else None
    field_groups = policy.role_field_groups(request.user)
    forms = {
        "triage": _triage_form(tip, report),
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
        if action not in forms:
            raise Http404
        if action == "triage":
            form = forms[action] = _triage_form(tip, report, request.POST)
        elif action == ConversionKind.VICTIM_CASE:
            form = forms[action] = VictimCaseForm(request.POST, field_groups=field_groups)
        else:
            form = forms[action] = type(forms[action])(request.POST)
        status = 400
        if form.is_valid():
            try:
                if action == "triage":
                    services.triage(
                        request.user, tip, report=report, request=request, **form.cleaned_data
                    )
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
        "report": report,
        "reads_sealed": reads_sealed,
        "forms": forms,
        "can_triage": can_triage,
        "can_open_cases": services.can_open_case_from_tip(request.user),
        "case_url": selectors.case_url(request.user, tip),
        "thread": selectors.hotline_thread(request.user, key, tip) if reads_sealed else [],
    }
    response = render(request, "tips/detail.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


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


@login_required
def unit(request):
    """The hotline supervisor's page: start the tip line, add and remove the unit's members."""
    if not policy.can_manage_tip_line(request.user):
        raise Http404
    key = member_key(request)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                if key is None:
                    raise ValidationError(_("Sign out and sign in again to unlock your key."))
                services.start_tip_line(request.user, key, request=request)
                messages.success(request, _("The tip line is started."))
            elif action in ("add", "remove"):
                member = get_object_or_404(TipLineMember, pk=request.POST.get("member") or 0)
                if action == "add":
                    if key is None:
                        raise ValidationError(_("Sign out and sign in again to unlock your key."))
                    services.add_member(request.user, key, member, request=request)
                    messages.success(request, _("Added to the hotline unit."))
                else:
                    services.remove_member(request.user, member, request=request)
                    messages.success(
                        request, _("Removed from the hotline unit; new tips use a new key.")
                    )
            else:
                raise Http404
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            status = 400
        else:
            return redirect("tips:unit")
    context = {
        "started": services.is_open(),
        "unlocked": key is not None,
        "members": TipLineMember.objects.filter(added_on__isnull=False)
        .select_related("user", "user__agency")
        .order_by("user__username"),
        "waiting": TipLineMember.objects.filter(added_on__isnull=True)
        .select_related("user", "user__agency")
        .order_by("user__username"),
    }
    return render(request, "tips/unit.html", context, status=status)
