"""Domain errors answered once for the pages (the API's answer: ``streha.api.errors``).

A refusal by the access policy (``PermissionDenied``) is answered 404 in pages, as for an
object outside the user's scope, so a page never confirms that something exists. A
``streha.errors.DomainError`` is answered with its own status and its message. Views that show
a form answer the errors they can show beside its fields themselves (``add_service_errors``;
a conflict re-shows the form with a reload link).
"""

from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render

from streha.errors import DomainError


def page_errors(view):
    """Answer the domain errors ``view`` lets through: refusals as 404, domain errors with
    their status."""

    @wraps(view)
    def answered(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            raise Http404 from error
        except DomainError as error:
            context = {"message": str(error), "status": error.status_code}
            return render(request, "web/domain_error.html", context, status=error.status_code)

    return answered


def requires(allowed):
    """Answer 404 to the users the policy predicate ``allowed(user)`` refuses (a page never
    confirms that something exists to someone who may not use it)."""

    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not allowed(request.user):
                raise Http404
            return view(request, *args, **kwargs)

        return checked

    return decorate


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's validation errors on the form fields they name (or on the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
