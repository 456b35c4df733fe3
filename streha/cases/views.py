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
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.access import policy
from streha.audit import read_context
from streha.cases import actions, presentation, selectors, services
from streha.cases import forms as case_forms
from streha.cases.documents import selectors as document_selectors
from streha.cases.models import ExploitationType, ReferralStatus, Source, Status
from streha.cases.selectors_batch import read_together
from streha.people.selectors import read_person
from streha.web.errors import add_service_errors, page_errors, requires

SORT_COLUMNS = (
    ("reference", gettext_lazy("Case")),
    ("stage", gettext_lazy("Stage")),
    ("first_contact", gettext_lazy("First contact")),
    ("due", gettext_lazy("Next due")),
)


@login_required
@requires(policy.does_case_work)
@read_context.changes_nothing
def case_list(request):
    """Filters, search, sort and page in ONE form. It is POSTed, so that a searched name or
    number never enters a URL or an access log; a GET with the filters, sort and page (never a
    search) shows the same list, for links and bookmarks."""
    source = request.POST if request.method == "POST" else request.GET
    filters = case_forms.FilterForm(source or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    query = request.POST.get("q", "")[:200] if request.method == "POST" else ""
    # A column header's button names the sort it asks for; otherwise the current one holds.
    sort = selectors.clean_sort(source.get("sort_by") or source.get("sort", ""))
    page = selectors.list_cases(
        request.user,
        status=cleaned.get("status", ""),
        source=cleaned.get("source", ""),
        exploitation_type=cleaned.get("exploitation_type", ""),
        query=query,
        page=source.get("page", 1),
        columns=selectors.LIST_COLUMNS,
        sort=sort,
        request=request,
        with_rows=selectors.case_list_detail_queries(request.user),
    )
    details = selectors.case_list_details(request.user, page, request=request, read=page.extras)
    template = "cases/_case_rows.html" if request.htmx else "cases/case_list.html"
    filter_fields = [
        (name, filters.fields[name].label, Choices.choices, cleaned.get(name, ""))
        for name, Choices in (
            ("status", Status),
            ("source", Source),
            ("exploitation_type", ExploitationType),
        )
    ]
    chosen = {name: value for name, value in cleaned.items() if value}
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    columns = {
        name: {
            "key": name,
            "label": label,
            # A click sorts by the column; on the sorted column it turns the order round.
            "next": f"-{name}" if name == key and not descending else name,
            "aria_sort": ("descending" if descending else "ascending") if name == key else "",
        }
        for name, label in SORT_COLUMNS
    }
    rows = presentation.case_rows(page, details)
    context = {
        "page": page,
        "rows": rows,
        "rows_html": presentation.case_rows_html(rows),
        "query": query,
        "sort": sort,
        "columns": columns,
        "filter_fields": filter_fields,
        # The export names the list and its filters (never the search).
        "export_query": urlencode({"work_list": "cases", **chosen}),
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


def _page_records(view) -> dict[str, list]:
    """The case page's record lists, read in ONE query (``selectors_batch.read_together``):
    each is the query it always was (the same filters, order, limit and joins)."""
    case = view.case
    queries = {
        "services": case.services.select_related("provider"),
        "tasks": case.tasks.filter(done_at__isnull=True),
        "events": selectors.latest_events(case),
        "screening": case.screenings.select_related("questionnaire")[:1],
        "referrals": case.referrals.select_related("to_agency"),
        "consents": selectors.consents(case)[: selectors.RECENT],
        "notes": (
            selectors.notes(case)[: selectors.RECENT]
            if view.shows("narrative")
            else case.notes.none()
        ),
        "documents": document_selectors.listed_documents(view.access, case),
        "municipalities": presentation.profile_municipalities(case),
    }
    # The same nine queries on every case page: their compiled SQL is reused (``shape``), only
    # their WHERE clauses (this case's) are compiled per request.
    found = read_together(*queries.values(), shape="case page records")
    return dict(zip(queries, found, strict=True))


def _detail_context(request, view):
    case = view.case
    shows_narrative = view.shows("narrative")
    allowed = actions.allowed(case, view.access)
    records = _page_records(view)
    services_ = records["services"]
    tasks = records["tasks"]
    steps = presentation.next_steps(allowed) + presentation.linked_steps(
        request.user, case, view.access
    )
    context = {
        "view": view,
        "case": case,
        "person": case.person,
        "events": selectors.recent_events(case, records["events"]),
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
        "referrals": records["referrals"],
        "screening": next(iter(records["screening"]), None),
        "notes": records["notes"],
        "tasks": tasks,
        "consents": records["consents"],
        "steps": steps,
        "steps_html": presentation.steps_html(
            steps, reverse("cases:detail", args=[case.public_id])
        ),
        "allowed": allowed,
        "profile": presentation.profile_summary(case, records["municipalities"]),
        "shows_narrative": shows_narrative,
        "case_documents": document_selectors.documents_for(
            request.user, case, access=view.access, request=request, documents=records["documents"]
        ),
    }
    return context


@login_required
def case_detail(request, public_id):
    """The case at a glance. Stage forms are not rendered here: each next step opens its own
    form (in place with htmx, as a page without), so the page costs the same at every stage."""
    view = selectors.read_case(request.user, public_id, request=request, page_person=True)
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
    """Referrals sent to the agency, each labelled by the sending agency and, once the case
    may be learnt, by case and person; unanswered referrals past their deadline stand out."""
    status = request.GET.get("status", "")
    page = selectors.inbox(request.user, status=status, page=request.GET.get("page", 1))
    revealed = [r for r in page if policy.referral_reveals_case(request.user, r)]
    names = selectors.person_names(
        request.user,
        {referral.case.person_id for referral in revealed},
        request=request,
        purpose="referral inbox",
    )
    chosen = {"status": status} if status in ReferralStatus.values else {}
    context = {
        "page": page,
        "rows": presentation.referral_rows(request.user, page, names),
        "outbox": selectors.outbox(request.user),
        "statuses": ReferralStatus.choices,
        "status": chosen.get("status", ""),
        "status_query": urlencode(chosen),
        "export_query": urlencode({"work_list": "referrals", **chosen}),
    }
    return render(request, "cases/referral_inbox.html", context)


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
    """Overdue work first, oldest first, each task with its case, its person (when the user
    may see the identity) and how long it is overdue."""
    work = selectors.my_work(request.user)
    tasks = [*work.overdue, *work.due_soon]
    names = selectors.person_names(
        request.user,
        {task.case.person_id for task in tasks},
        request=request,
        purpose="task list",
    )
    overdue_rows = presentation.task_rows(work.overdue, names)
    soon_rows = presentation.task_rows(work.due_soon, names)
    csrf = csrf_input(request)  # the one {% csrf_token %} printed in each row's form
    context = {
        "work": work,
        "overdue_rows": overdue_rows,
        "soon_rows": soon_rows,
        "overdue_html": presentation.task_rows_html(overdue_rows, csrf),
        "soon_html": presentation.task_rows_html(soon_rows, csrf),
        "export_query": urlencode({"work_list": "tasks"}),
    }
    return render(request, "cases/my_work.html", context)


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
