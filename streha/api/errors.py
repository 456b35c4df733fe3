"""Every API error is JSON of one shape: ``{"error": {"code", "message", "fields"?}}``.

Domain services raise Django's ``ValidationError`` and ``PermissionDenied`` and the domain's
own errors (``streha.errors.DomainError``: a status and a code each); they are translated here,
once for every API view, so the services stay independent of DRF. Messages never contain
submitted values.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from streha.errors import DomainError

# DRF messages with these codes quote what was sent ('"x" is not a valid choice.'): a submitted
# value may be personal data, and error bodies end up in client logs.
ECHOING_CODES = {
    "invalid_choice": _lazy("This is not one of the allowed values."),
    "does_not_exist": _lazy("No such object."),
    "incorrect_type": _lazy("This value has the wrong type."),
    "invalid_pk_value": _lazy("No such object."),
}


def _message(item) -> str:
    code = getattr(item, "code", None)
    if code in ECHOING_CODES:
        return str(ECHOING_CODES[code])
    return str(item)


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(i) if isinstance(i, dict | list) else _message(i) for i in detail]
    return _message(detail)


def _domain(error: DomainError) -> exceptions.APIException:
    answer = exceptions.APIException(str(error) or None, code=error.code)
    answer.status_code = error.status_code
    return answer


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DomainError):
        # Every domain error, once: its status and code, its message (never the input).
        exc = _domain(exc)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    body: dict = {"code": code if isinstance(code, str) else "invalid"}
    if isinstance(exc, exceptions.ValidationError):
        body["message"] = _("Some of the data is not valid; see the fields.")
        fields = _flatten(exc.detail)
        body["fields"] = fields if isinstance(fields, dict) else {"non_field_errors": fields}
    else:
        body["message"] = str(getattr(exc, "detail", "")) or _("The request failed.")
    if response.status_code == status.HTTP_404_NOT_FOUND:
        body["message"] = _("Not found.")
    response.data = {"error": body}
    return response
