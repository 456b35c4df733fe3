"""Person pages. Thin: selectors read (and audit), services write (and audit)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.reauth import require_recent_authentication
from streha.audit import read_context, reasons
from streha.linkage.hooks import announce_registration_matches
from streha.people import presentation, selectors, services
from streha.people.forms import BreakGlassForm, DocumentForm, PersonForm
from streha.people.models import Person
from streha.web.errors import add_service_errors, requires


@login_required
@requires(policy.does_case_work)
@read_context.changes_nothing
def person_list(request):
    """The list (GET) and search (POST: names and numbers never go into a URL or a log)."""
    source = request.POST if request.method == "POST" else request.GET
    query = request.POST.get("q", "")[:200] if request.method == "POST" else ""
    page = selectors.list_persons(
        request.user, query=query, page=source.get("page", 1), request=request, page_fields=True
    )
    template = "people/_person_rows.html" if request.htmx else "people/person_list.html"
    context = {"page": page, "query": query, "rows_html": presentation.person_rows_html(page)}
    return render(request, template, context)


@login_required
def person_create(request):
    if not policy.can_register_persons(request.user):
        raise Http404
    groups = policy.role_field_groups(request.user)
    form = PersonForm(request.POST or None, field_groups=groups)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.register_person(
                request.user, request=request, **form.changed_values()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Person registered."))
            announce_registration_matches(request, person)
            reasons.remember(request, person.public_id, f"code:{reasons.ReasonCode.REGISTRATION}")
            return redirect("people:detail", public_id=person.public_id)
    return render(request, "people/person_form.html", {"form": form, "creating": True})


@login_required
def person_detail(request, public_id):
    try:
        view = selectors.read_person(
            request.user, public_id, request=request, reason=request.GET.get("reason", "")
        )
    except ValidationError as error:
        context = {"message": " ".join(error.messages), "codes": reasons.ReasonCode.choices}
        return render(request, "people/reason_refused.html", context, status=400)
    return render(
        request,
        "people/person_detail.html",
        {
            "view": view,
            "person": view.person,
            "documents": view.person.documents.defer("content"),
            "document_form": DocumentForm(),
            "cases": selectors.cases_of(request.user, view.person),
        },
    )


@login_required
def document_upload(request, public_id):
    if request.method != "POST":
        raise Http404
    view = selectors.read_person(request.user, public_id, request=request)
    if not view.access.can_edit:
        raise Http404
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_document(
                request.user,
                view.person,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["upload"],
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Document stored (encrypted)."))
            return redirect("people:detail", public_id=public_id)
    context = {
        "view": view,
        "person": view.person,
        "documents": view.person.documents.defer("content"),
        "document_form": form,
    }
    return render(request, "people/person_detail.html", context, status=400)


@login_required
def document_download(request, public_id, document_id):
    document = selectors.read_document(request.user, public_id, document_id, request=request)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    # Downloaded, never rendered in the application's origin; the name stays out of the header.
    response["Content-Disposition"] = f'attachment; filename="{document.public_id}"'
    response["Content-Security-Policy"] = "sandbox"
    return response


@login_required
def person_edit(request, public_id):
    view = selectors.read_person(request.user, public_id, request=request)
    if not view.access.can_edit:
        raise Http404
    form = PersonForm(
        request.POST or None, instance=view.person, field_groups=view.access.field_groups
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_person(
                request.user, view.person, request=request, **form.changed_values()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("people:detail", public_id=public_id)
    return render(
        request, "people/person_form.html", {"form": form, "creating": False, "person": view.person}
    )


@login_required
@require_recent_authentication
def person_export(request, public_id):
    if request.method != "POST":
        raise Http404
    view = selectors.read_person(request.user, public_id, request=request)
    if not view.access.can_export:
        raise Http404
    data = services.export_person(request.user, view.person, request=request)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{view.person.reference}.json"'
    return response


@login_required
@require_recent_authentication
def break_glass(request):
    if not policy.can_break_glass(request.user):
        raise Http404
    groups = policy.role_field_groups(request.user) & set(Person.FIELD_GROUPS)
    form = BreakGlassForm(request.POST or None, groups=groups)
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["reference"].strip().upper()
        person = Person.objects.filter(reference=reference).first()
        if person is None:
            form.add_error("reference", _("No record has this reference."))
        else:
            try:
                services.open_break_glass(
                    request.user,
                    person,
                    justification=form.cleaned_data["justification"],
                    field_groups=form.cleaned_data["field_groups"],
                    request=request,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.warning(
                    request,
                    _("Break-glass access opened. It is time-limited and will be reviewed."),
                )
                return redirect("people:detail", public_id=person.public_id)
    return render(request, "people/break_glass.html", {"form": form})
