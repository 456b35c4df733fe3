"""Case pages. Thin: selectors read (and audit), services write (and audit).

The case page offers the next steps the stage and the user's rights allow (the registry of
case actions, ``actions.ACTIONS``). Each step lives at ``cases:act`` with its name: GET shows its
form (with htmx in the case page's action panel, without it as a page of its own), POST runs its
service; a success swaps the refreshed case body in place (htmx) or redirects to the case page.
``timeline``, ``notes`` and ``consents`` at the same address are read-only pages with everything
the case page shows the latest of.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from streha.access import policy
from streha.cases import actions, presentation, selectors, services
from streha.cases import forms as case_forms
from streha.cases.documents import selectors as document_selectors
from streha.cases.models import ExploitationType, Source, Status
from streha.people.selectors import read_person
from streha.web.errors import add_service_errors, page_errors, requires


@login_required
@requires(policy.does_case_work)
def case_list(request):
    """Filters by GET; search by POST so names and numbers never enter URLs or logs."""
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
        columns=selectors.LIST_COLUMNS,
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
    context = {
        "page": page,
        "rows": presentation.case_rows(page),
        # Page links keep the filters (never the search: that is POSTed, never in a URL).
        "filter_query": urlencode({name: value for name, value in cleaned.items() if value}),
        "query": query,
        "filter_fields": filter_fields,
    }
    return render(request, template, context)


@login_required
@requires(policy.can_open_cases)
@page_errors
def case_create(request, person_id):
    person = read_person(
        request.user, person_id, request=request, purpose="open case", reason="code:case_work"
    ).person
    form = case_forms.OpenCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            case = services.open_case(request.user, person, request=request, **data)
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


def _detail_context(request, view):
    case = view.case
    shows_narrative = view.shows("narrative")
    allowed = actions.allowed(case, view.access)
    services_ = list(case.services.select_related("provider"))
    tasks = list(case.tasks.filter(done_at__isnull=True))
    context = {
        "view": view,
        "case": case,
        "person": case.person,
        "events": selectors.recent_events(case),
        "services": services_,
        "changeable_services": {
            service.pk
            for service in services_
            if "service_status" in allowed
            and policy.can_provide_service(request.user, view.access, service.provider_id)
        },
        "completable_tasks": {
            task.pk for task in tasks if policy.can_complete_task(request.user, task)
        },
        "referrals": case.referrals.select_related("to_agency"),
        "screening": case.screenings.select_related("questionnaire").first(),
        "notes": selectors.notes(case)[: selectors.RECENT] if shows_narrative else [],
        "tasks": tasks,
        "consents": selectors.consents(case)[: selectors.RECENT],
        "steps": presentation.next_steps(allowed)
        + presentation.linked_steps(request.user, case, view.access),
        "allowed": allowed,
        "profile": presentation.profile_summary(case),
        "shows_narrative": shows_narrative,
        "case_documents": document_selectors.documents_for(
            request.user, case, access=view.access, request=request
        ),
    }
    return context


@login_required
def case_detail(request, public_id):
    """The case at a glance. Stage forms are not rendered here: each next step opens its own
    form (in place with htmx, as a page without), so the page costs the same at every stage."""
    view = selectors.read_case(request.user, public_id, request=request)
    return render(request, "cases/case_detail.html", _detail_context(request, view))


def _stage_form(action: actions.CaseAction, view, request, data=None):
    """The form of ``action`` for this case, bound to ``data`` when posted; None if the
    case has no such form (an unknown questionnaire or service)."""
    kwargs = {"case": view.case, "access": view.access, "user": request.user}
    if data is None:
        kwargs["selector"] = request.GET
        kwargs["initial"] = {"expected_version": view.case.version} if action.versioned else {}
    else:
        kwargs["selector"] = kwargs["data"] = data
    try:
        return action.form(**kwargs)
    except LookupError:
        return None


def _stale_version(request, view) -> int | None:
    """The version a POST was based on, when it is older than the case's."""
    access = view.access
    if not (access.can_edit or access.can_decide or access.can_reopen or access.can_contribute):
        return None  # who could never take a step learns nothing about versions
    posted = request.POST.get("expected_version", "") if request.method == "POST" else ""
    if posted.isdecimal() and posted.isascii() and int(posted) < view.case.version:
        return int(posted)
    return None


def _action_response(request, view, action, form, *, status=200, conflict=""):
    context = {
        "view": view,
        "case": view.case,
        "action": action,
        "label": actions.LABELS[action],
        "form": form,
        "conflict": conflict,
    }
    template = "cases/_action_form.html" if request.htmx else "cases/case_action.html"
    return render(request, template, context, status=status)


# Read-only pages with all of what the case page shows the latest of.
RECORD_PAGES = {"timeline", "notes", "consents"}


def _record_page(request, public_id, page):
    if request.method != "GET":
        raise Http404
    view = selectors.read_case(request.user, public_id, request=request, purpose=page)
    case, shows_narrative = view.case, view.shows("narrative")
    if page == "notes" and not shows_narrative:
        raise Http404
    records = {
        "timeline": lambda: selectors.timeline(case),
        "notes": lambda: selectors.notes(case),
        "consents": lambda: selectors.consents(case),
    }[page]()
    context = {
        "view": view,
        "case": case,
        "page": page,
        "events": records,
        "records": records,
        "shows_narrative": shows_narrative,
    }
    return render(request, "cases/case_records.html", context)


@login_required
@page_errors
def case_act(request, public_id, action):
    """A next step of the case: GET shows its form, POST runs its service. Conflicts answer
    409 with a reload link; with htmx a success swaps the refreshed case body in place."""
    if action in RECORD_PAGES:
        return _record_page(request, public_id, action)
    step = actions.ACTIONS.get(action)
    if step is None or request.method not in ("GET", "POST"):
        raise Http404
    view = selectors.read_case(request.user, public_id, request=request)
    if not step.offered(view.case, view.access):
        stale = _stale_version(request, view)
        if stale is None:
            raise Http404
        # The step was offered on an older version of the case (someone moved it on since):
        # say so, rather than answer as if the step had never existed.
        conflict = services.CaseConflict(view.case, stale)
        return _action_response(request, view, action, None, status=409, conflict=str(conflict))
    form = _stage_form(step, view, request, request.POST if request.method == "POST" else None)
    if form is None:
        raise Http404
    if request.method == "GET":
        return _action_response(request, view, action, form)
    if not form.is_valid():
        return _action_response(request, view, action, form, status=400)
    try:
        step.take(request.user, view.case, form.cleaned_data, request=request)
    except services.CaseConflict as conflict:
        return _action_response(request, view, action, form, status=409, conflict=str(conflict))
    except ValidationError as error:
        add_service_errors(form, error)
        return _action_response(request, view, action, form, status=400)
    messages.success(request, _("Saved."))
    if request.htmx:
        fresh = selectors.read_case(request.user, public_id, request=request)
        response = render(request, "cases/_case_body.html", _detail_context(request, fresh))
        response["HX-Retarget"] = "#case-body"
        response["HX-Reswap"] = "outerHTML"
        return response
    return redirect("cases:detail", public_id=public_id)


@login_required
@requires(policy.does_case_work)
def referral_inbox(request):
    page = selectors.inbox(
        request.user, status=request.GET.get("status", ""), page=request.GET.get("page", 1)
    )
    return render(
        request,
        "cases/referral_inbox.html",
        {"page": page, "outbox": selectors.outbox(request.user)},
    )


@login_required
@requires(policy.does_case_work)
@page_errors
def referral_detail(request, public_id):
    referral = selectors.read_referral(request.user, public_id, request=request)
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
@requires(policy.does_case_work)
def my_work(request):
    return render(request, "cases/my_work.html", {"work": selectors.my_work(request.user)})


@login_required
@page_errors
def task_done(request, task_id):
    if request.method != "POST":
        raise Http404
    task = selectors.agency_task(request.user, task_id)
    if task is None:
        raise Http404
    services.complete_task(request.user, task, request=request)
    messages.success(request, _("Task done."))
    if request.POST.get("back") == "case":  # done from the case page: back to it
        return redirect("cases:detail", public_id=task.case.public_id)
    return redirect("cases:my_work")
