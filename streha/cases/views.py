"""Case pages. Thin: selectors read (and audit), services write (and audit).

Stage forms post to ``cases:act`` with the action name; with htmx the case page's stage panel
is swapped in place, without it the browser is redirected back to the case page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.views import add_service_errors
from streha.cases import forms as case_forms
from streha.cases import selectors, services
from streha.cases.models import AssistanceService, ExploitationType, Questionnaire, Source, Status
from streha.people.selectors import read_person


def _require_case_role(request) -> None:
    if not policy.role_field_groups(request.user):
        raise Http404


@login_required
def case_list(request):
    """Filters by GET; search by POST so names and numbers never enter URLs or logs."""
    _require_case_role(request)
    filters = case_forms.FilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    query = request.POST.get("q", "")[:200] if request.method == "POST" else ""
    source = request.POST if request.method == "POST" else request.GET
    page = selectors.list_cases(
        request.user,
        status=cleaned.get("status", ""),
        source=cleaned.get("source", ""),
        exploitation_type=cleaned.get("exploitation_type", ""),
        query=query,
        page=source.get("page", 1),
        request=request,
    )
    template = "cases/_case_rows.html" if request.htmx else "cases/case_list.html"
    filter_fields = [
        (name, filters.fields[name].label, Choices.choices, cleaned.get(name, ""))
        for name, Choices in (
            ("status", Status),
            ("source", Source),
            ("exploitation_type", ExploitationType),
        )
    ]
    return render(request, template, {"page": page, "query": query, "filter_fields": filter_fields})


@login_required
def case_create(request, person_id):
    if not policy.can_open_cases(request.user):
        raise Http404
    person = read_person(request.user, person_id, request=request, purpose="open case").person
    form = case_forms.OpenCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            case = services.open_case(request.user, person, request=request, **data)
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Case opened."))
            return redirect("cases:detail", public_id=case.public_id)
    return render(
        request,
        "cases/case_form.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


def _stage_forms(view):
    case = view.case
    version = {"expected_version": case.version}
    questionnaires = list(Questionnaire.objects.filter(is_current=True))
    return {
        "screening_forms": [
            (
                q,
                case_forms.ScreeningForm(
                    initial=version, questionnaire=q, auto_id=f"id_{q.code}_%s"
                ),
            )
            for q in questionnaires
        ],
        "confirm_form": case_forms.ConfirmForm(initial=version),
        "decision_form": case_forms.DecisionForm(initial=version),
        "reason_form": case_forms.ReasonForm(initial=version),
        "version_form": case_forms.VersionedForm(initial=version),
        "service_form": case_forms.ServiceForm(initial=version),
        "return_form": case_forms.ReturnForm(initial=version),
        "guardian_form": case_forms.GuardianForm(initial=version),
        "note_form": case_forms.NoteForm(),
        "referral_form": case_forms.ReferralForm(),
    }


def _detail_context(request, view, **extra):
    case = view.case
    context = {
        "view": view,
        "case": case,
        "person": case.person,
        "events": selectors.timeline(case),
        "services": case.services.select_related("provider"),
        "referrals": case.referrals.select_related("to_agency"),
        "screening": case.screenings.select_related("questionnaire").first(),
        "notes": case.notes.all() if view.shows("narrative") else [],
        "tasks": case.tasks.filter(done_at__isnull=True),
        **_stage_forms(view),
    }
    context.update(extra)
    return context


@login_required
def case_detail(request, public_id):
    view = selectors.read_case(request.user, public_id, request=request)
    return render(request, "cases/case_detail.html", _detail_context(request, view))


def _versioned(form):
    return form.cleaned_data.pop("expected_version")


def _run(action, request, view, post):
    """Validate the stage form for ``action`` and call its service; returns the bound form."""
    user, case = request.user, view.case
    if action == "screen":
        questionnaire = Questionnaire.objects.filter(pk=post.get("questionnaire")).first()
        if questionnaire is None:
            raise Http404
        form = case_forms.ScreeningForm(post, questionnaire=questionnaire)
        if form.is_valid():
            services.record_screening(
                user,
                case,
                expected_version=_versioned(form),
                questionnaire=questionnaire,
                indicators_met=form.cleaned_data["indicators_met"],
                request=request,
            )
        return form
    simple = {
        "confirm": (case_forms.ConfirmForm, services.confirm_screening),
        "decide": (case_forms.DecisionForm, services.decide_identification),
        "assist": (case_forms.VersionedForm, services.start_assistance),
        "return": (case_forms.ReturnForm, services.start_return_or_reintegration),
        "close": (case_forms.ReasonForm, services.close_case),
        "reopen": (case_forms.ReasonForm, services.reopen_case),
        "guardian": (case_forms.GuardianForm, services.appoint_guardian),
    }
    if action in simple:
        form_class, service = simple[action]
        form = form_class(post)
        if form.is_valid():
            version = _versioned(form)
            service(user, case, expected_version=version, request=request, **form.cleaned_data)
        return form
    if action == "service":
        form = case_forms.ServiceForm(post)
        if form.is_valid():
            services.add_service(
                user, case, expected_version=_versioned(form), request=request, **form.cleaned_data
            )
        return form
    if action == "service_status":
        service = AssistanceService.objects.filter(case=case, pk=post.get("service")).first()
        if service is None:
            raise Http404
        form = case_forms.VersionedForm(post)
        if form.is_valid():
            services.set_service_status(
                user,
                service,
                expected_version=_versioned(form),
                status=post.get("status", ""),
                request=request,
            )
        return form
    if action == "note":
        form = case_forms.NoteForm(post)
        if form.is_valid():
            services.add_note(user, case, body=form.cleaned_data["body"], request=request)
        return form
    if action == "refer":
        form = case_forms.ReferralForm(post)
        if form.is_valid():
            services.send_referral(user, case, request=request, **form.cleaned_data)
        return form
    raise Http404


@login_required
def case_act(request, public_id, action):
    """One stage form posted: run its service; conflicts answer 409 with a reload link."""
    if request.method != "POST":
        raise Http404
    view = selectors.read_case(request.user, public_id, request=request)
    try:
        form = _run(action, request, view, request.POST)
    except PermissionDenied as error:
        raise Http404 from error
    except services.CaseConflict as conflict:
        context = _detail_context(request, view, conflict=str(conflict))
        return render(request, "cases/case_detail.html", context, status=409)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return render(request, "cases/case_detail.html", _detail_context(request, view), status=400)
    if form.errors:
        context = _detail_context(request, view, failed_action=action, failed_form=form)
        return render(request, "cases/case_detail.html", context, status=400)
    messages.success(request, _("Saved."))
    if request.htmx:
        fresh = selectors.read_case(request.user, public_id, request=request)
        return render(request, "cases/_case_body.html", _detail_context(request, fresh))
    return redirect("cases:detail", public_id=public_id)


@login_required
def referral_inbox(request):
    _require_case_role(request)
    page = selectors.inbox(
        request.user, status=request.GET.get("status", ""), page=request.GET.get("page", 1)
    )
    return render(
        request,
        "cases/referral_inbox.html",
        {"page": page, "outbox": selectors.outbox(request.user)},
    )


@login_required
def referral_detail(request, public_id):
    _require_case_role(request)
    referral = selectors.read_referral(request.user, public_id)
    form = case_forms.AnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not policy.can_answer_referral(request.user, referral):
            raise Http404
        if form.is_valid():
            try:
                services.answer_referral(
                    request.user, referral, request=request, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Answer saved."))
                return redirect("cases:referral", public_id=public_id)
        status = 400
    return render(
        request,
        "cases/referral_detail.html",
        {
            "referral": referral,
            "form": form,
            "can_answer": policy.can_answer_referral(request.user, referral),
        },
        status=status,
    )


@login_required
def my_work(request):
    _require_case_role(request)
    return render(request, "cases/my_work.html", {"work": selectors.my_work(request.user)})


@login_required
def task_done(request, task_id):
    if request.method != "POST":
        raise Http404
    task = selectors.agency_task(request.user, task_id)
    if task is None:
        raise Http404
    try:
        services.complete_task(request.user, task, request=request)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(request, _("Task done."))
    return redirect("cases:my_work")
