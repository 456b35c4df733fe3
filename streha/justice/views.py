"""Criminal case pages. Thin: selectors read (and audit), services write (and audit).

The case page offers the steps of ``streha.justice.actions.ACTIONS`` that the stage and the user's
rights allow. Each step lives at ``justice:step`` with its name: GET shows its form (with htmx
in the case page's action panel, without it as a page of its own), POST runs its service; a
success swaps the refreshed case body in place (htmx) or redirects to the case page.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.justice import catalogue, selectors, services
from streha.justice import forms as step_forms
from streha.justice.actions import ACTIONS, next_steps, offered_actions
from streha.justice.models import Stage
from streha.web.errors import add_service_errors, page_errors
from streha.web.steps import run_step, swap_case_body


def _require_justice(request) -> None:
    if not (
        policy._does_justice_work(request.user)
        or policy.criminal_cases_visible_to(request.user).exists()
    ):
        raise Http404


@login_required
def case_list(request):
    _require_justice(request)
    filters = step_forms.FilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.list_cases(
        request.user,
        stage=cleaned.get("stage", ""),
        offence=cleaned.get("offence", ""),
        office=cleaned.get("office", ""),
        year=cleaned.get("year"),
        reclassified=bool(cleaned.get("reclassified")),
        below_minimum=bool(cleaned.get("below_minimum")),
        page=request.GET.get("page", 1),
        request=request,
    )
    context = {
        "page": page,
        "rows": selectors.case_rows(page),
        "filters": filters,
        "cleaned": cleaned,
        "stages": Stage.choices,
        "offence_keys": sorted({(o.key, o.title) for o in catalogue.offences_for_charges()}),
        "offices": services.prosecution_offices(),
        "filter_query": urlencode({k: v for k, v in cleaned.items() if v}),
        "can_open": policy.can_open_criminal_cases(request.user),
    }
    template = "justice/_case_rows.html" if request.htmx else "justice/case_list.html"
    return render(request, template, context)


@login_required
def case_create(request):
    """Open a criminal case, from a victim case when ``?victim_case=`` names one."""
    if not policy.can_open_criminal_cases(request.user):
        raise Http404
    victim_case = None
    victim_id = request.GET.get("victim_case", "")
    if victim_id:
        from streha.cases.selectors import read_case as read_victim_case

        try:
            victim_case = read_victim_case(
                request.user, victim_id, request=request, purpose="open criminal case"
            ).case
        except ValidationError as error:
            raise Http404 from error
    form = step_forms.OpenCaseForm(
        request.POST or None, initial={"opened_on": timezone.localdate()}
    )
    step_forms.quiet(form)
    if victim_case is not None:
        form.fields.pop("victim_case")
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reference = data.pop("victim_case", "").strip().upper()
        if reference:
            visible = policy.cases_visible_to(request.user)
            victim_case = visible.filter(reference=reference).first()
            if victim_case is None:
                form.add_error("victim_case", _("No such victim case."))
        if not form.errors:
            try:
                case = services.open_case(
                    request.user, victim_case=victim_case, request=request, **data
                )
            except PermissionDenied as error:
                raise Http404 from error
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Criminal case opened."))
                return redirect("justice:detail", public_id=case.public_id)
    return render(
        request,
        "justice/case_form.html",
        {"form": form, "victim_case": victim_case},
        status=400 if form.errors else 200,
    )


def _detail_context(request, view):
    offered = offered_actions(view)
    return {
        "view": view,
        "case": view.case,
        "sheet": selectors.case_sheet(view, request=request),
        "steps": next_steps(view, offered),
    }


@login_required
def case_detail(request, public_id):
    view = selectors.read_case(request.user, public_id, request=request)
    return render(request, "justice/case_detail.html", _detail_context(request, view))


def _step_response(request, view, name, form, status=200):
    context = {
        "view": view,
        "case": view.case,
        "step": name,
        "label": ACTIONS[name].label,
        "form": form,
    }
    template = "justice/_step_form.html" if request.htmx else "justice/case_step.html"
    return render(request, template, context, status=status)


@login_required
@page_errors
def case_step(request, public_id, step):
    """A step of the case: GET shows its form, POST runs its service (404 when not offered)."""
    if step not in ACTIONS or request.method not in ("GET", "POST"):
        raise Http404
    view = selectors.read_case(request.user, public_id, request=request)
    definition = ACTIONS[step]
    if not definition.offered(view):
        raise Http404
    kwargs = {"case": view.case, "access": view.access, "user": request.user}
    if request.method == "GET":
        initial = {key: request.GET[key] for key in ("kind",) if key in request.GET}
        return _step_response(request, view, step, definition.form(initial=initial, **kwargs))
    form = definition.form(request.POST, **kwargs)

    def respond(form, status):
        return _step_response(request, view, step, form, status=status)

    def done():
        if not request.htmx:
            return redirect("justice:detail", public_id=public_id)
        fresh = selectors.read_case(request.user, public_id, request=request)
        return swap_case_body(request, "justice/_case_body.html", _detail_context(request, fresh))

    return run_step(
        request,
        form,
        lambda data: definition.take(view, data, request=request),
        respond=respond,
        done=done,
    )


@login_required
def witness_resolve(request, witness_id):
    """The sealed link, for its resolvers only: anyone else (and an unknown witness) gets the
    404 every other unknown address gets, before the form is even looked at."""
    if not policy.witnesses_resolvable_by(request.user).filter(public_id=witness_id).exists():
        raise Http404
    if request.method not in ("GET", "POST"):
        raise Http404
    form = step_forms.ResolveForm(request.POST or None)
    resolution = None
    if request.method == "POST" and form.is_valid():
        try:
            resolution = services.resolve_witness(
                request.user, witness_id, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as error:
            add_service_errors(form, error)
    witness = (
        policy.witnesses_resolvable_by(request.user)
        .select_related("case")
        .get(public_id=witness_id)
    )
    response = render(
        request,
        "justice/witness_resolve.html",
        {
            "witness": witness,
            "label": selectors.witness_label(witness),
            "form": form,
            "resolution": resolution,
        },
        status=400 if form.errors else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def witness_list(request):
    if not policy.is_witness_protection_unit(request.user):
        raise Http404
    page = selectors.resolvable_witnesses(request.user, request.GET.get("page", 1))
    return render(request, "justice/witness_list.html", {"page": page})


@login_required
def my_work(request):
    if not policy._does_justice_work(request.user):
        raise Http404
    return render(request, "justice/my_work.html", {"work": selectors.my_work(request.user)})


@login_required
def deadline_done(request, deadline_id):
    if request.method != "POST":
        raise Http404
    deadline = selectors.deadline_of(request.user, deadline_id)
    if deadline is None:
        raise Http404
    services.complete_deadline(request.user, deadline, request=request)
    messages.success(request, _("Deadline done."))
    return redirect("justice:my_work")


@login_required
def offences(request):
    """The catalogue; what is not confirmed from the official text is marked."""
    if not policy.is_system_admin(request.user):
        _require_justice(request)
    return render(
        request,
        "justice/offences.html",
        {
            "offences": catalogue.offences_for_charges(),
            "codes": catalogue.series_breaks(),
            "admin": policy.is_system_admin(request.user),
        },
    )


@login_required
def share(request, victim_case_id):
    """The victim case's owner shares field groups with a prosecution office."""
    from streha.cases.selectors import read_case as read_victim_case

    if not policy.role_field_groups(request.user):
        raise Http404
    victim_case = read_victim_case(
        request.user, victim_case_id, request=request, purpose="share with the prosecution"
    ).case
    if not policy.can_share_with_prosecution(request.user, victim_case):
        raise Http404
    form = step_forms.quiet(step_forms.ShareForm(request.POST or None))
    if request.method == "POST" and form.is_valid():
        try:
            services.share_victim_case(
                request.user, victim_case, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Shared with the prosecution office."))
            return redirect("cases:detail", public_id=victim_case.public_id)
    return render(
        request,
        "justice/share.html",
        {"form": form, "victim_case": victim_case},
        status=400 if form.errors else 200,
    )


@login_required
def statistics(request):
    if not policy.can_see_justice_statistics(request.user):
        raise Http404
    year = request.GET.get("year", "")
    year = int(year) if year.isdecimal() and 1999 < int(year) < 2101 else timezone.localdate().year
    funnel = selectors.attrition_funnel(request.user, year)
    from streha.justice.models import EventKind, Measure
    from streha.web.labels import enum_label

    return render(
        request,
        "justice/statistics.html",
        {
            "funnel": funnel,
            "year": year,
            "stages": [(enum_label(EventKind, k), n) for k, n in funnel["cases"].items()],
            "measures": [
                (enum_label(Measure, m), n)
                for m, n in funnel["protection_orders_by_measure"].items()
            ],
        },
    )
