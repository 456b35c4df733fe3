"""One runner for the step pages of a case, victim or criminal (``cases:act``, ``justice:step``).

A step page shows a form (GET) and runs a service with its cleaned data (POST). What is the
same for every step lives here: the form's own validation, the service's validation errors and
domain refusals shown beside the fields they name (never as a 500, never half-written: the
services are atomic), the "Saved." message, and the htmx answer that swaps the refreshed case
body in place. The caller says how to show the form (``respond``) and what follows a success
(``done``); the access policy is asked by the caller before and by the service again.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from streha.errors import DomainError
from streha.web.errors import add_service_errors


def add_refusal(form, error: DomainError) -> None:
    """Show a domain refusal beside the field it names (``error.field``), or on the form."""
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, str(error))


def run_step(
    request,
    form,
    take: Callable[[dict], object],
    *,
    respond: Callable[..., HttpResponse],
    done: Callable[[], HttpResponse],
) -> HttpResponse:
    """POST of a step: ``respond(form, status=...)`` re-shows the form with its errors (400, or
    the refusal's own status); ``take(cleaned_data)`` runs the service; ``done()`` answers a
    success, after the "Saved." message."""
    if not form.is_valid():
        return respond(form, status=400)
    try:
        take(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return respond(form, status=400)
    except DomainError as error:
        add_refusal(form, error)
        return respond(form, status=error.status_code)
    messages.success(request, _("Saved."))
    return done()


def swap_case_body(request, template: str, context: dict) -> HttpResponse:
    """The refreshed case body, swapped in place of the page's ``#case-body`` (htmx)."""
    response = render(request, template, context)
    response["HX-Retarget"] = "#case-body"
    response["HX-Reswap"] = "outerHTML"
    return response
