"""Case document pages. Thin: document_selectors read (and audit), document_services write
(and audit). URLs carry only ids; file names and titles travel in POST bodies and responses."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from streha.cases import selectors as case_selectors
from streha.cases.documents import selectors as document_selectors
from streha.cases.documents import services as document_services
from streha.cases.models import CaseDocument, CaseDocumentKind
from streha.web.errors import add_service_errors


class CaseDocumentForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of document"),
        choices=CaseDocumentKind.choices,
        error_messages={"invalid_choice": gettext_lazy("Choose what kind of document this is.")},
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=document_services.MAX_TITLE)
    # Empty files reach the service, which says "The file is empty." as it does for the API.
    upload = forms.FileField(label=gettext_lazy("File"), allow_empty_file=True)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for withdrawal"), max_length=1000, widget=forms.Textarea
    )


def download_response(document: CaseDocument) -> HttpResponse:
    """The file as an attachment, never rendered in the application's origin; the download is
    named by the document's id, so the uploaded name stays out of headers and logs."""
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    extension = document_services.extension_for(document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.public_id}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "sandbox"
    return response


def _documents_page(request, view, *, status: int = 200, **extra):
    context = {
        "view": view,
        "case": view.case,
        "case_documents": document_selectors.documents_for(
            request.user, view.case, access=view.access, request=request
        ),
        "manage": True,
        **extra,
    }
    return render(request, "cases/case_documents.html", context, status=status)


def _back(request, view):
    """Back to the page the form was on: the case page or the documents page."""
    if request.POST.get("return_to") == "documents":
        return redirect("cases:documents", public_id=view.case.public_id)
    return redirect("cases:detail", public_id=view.case.public_id)


@login_required
@require_GET
def documents(request, public_id):
    view = case_selectors.read_case(
        request.user, public_id, request=request, purpose="case documents"
    )
    return _documents_page(request, view)


@login_required
@require_POST
def document_upload(request, public_id):
    # The file arrives through the one upload handler (protection/uploads.py): in memory,
    # bounded, never in a temporary file.
    view = case_selectors.read_case(
        request.user, public_id, request=request, purpose="case document upload"
    )
    if not view.access.can_edit:
        raise Http404
    form = CaseDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document_services.attach_case_document(
                request.user,
                view.case,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["upload"],
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Document stored (encrypted)."))
            return _back(request, view)
    return _documents_page(request, view, status=400, document_form=form)


@login_required
@require_GET
def document_download(request, public_id, document_id):
    document = document_selectors.read_case_document(
        request.user, public_id, document_id, request=request
    )
    return download_response(document)


@login_required
@require_POST
def document_withdraw(request, public_id, document_id):
    view, document = document_selectors.find_case_document(
        request.user, public_id, document_id, request=request, purpose="case document withdrawal"
    )
    if not view.access.can_edit:
        raise Http404
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            document_services.withdraw_case_document(
                request.user, document, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Document withdrawn; its content was erased."))
            return redirect("cases:documents", public_id=view.case.public_id)
    return _documents_page(
        request, view, status=400, withdraw_form=form, failed_document=document.public_id
    )
