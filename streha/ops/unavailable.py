"""While the database is away, say so: 503 with a clear page or JSON error, never a 500.

A database that cannot be reached, has dropped the connection, is restarting or has run out of
disk raises ``OperationalError`` or ``InterfaceError`` (psycopg's ``DiskFull`` and
``AdminShutdown`` are operational errors too). Two places catch it: the middleware, for errors
raised by views (including the transaction ``ATOMIC_REQUESTS`` opens around them), and
``handler_500``, for errors raised by other middleware (sessions, sign-in) that Django has already
turned into a 500. The answer is rendered without the request context, because the context
processors would ask the database again. A client may retry after ``Retry-After`` seconds; since
the request's transaction was rolled back, nothing of it was stored.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger("streha.ops")

RETRY_AFTER_SECONDS = 10
DATABASE_ERRORS = (OperationalError, InterfaceError)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def database_unavailable_response(request) -> HttpResponse:
    message = _(
        "The service is briefly unavailable because its database cannot be reached. Nothing you "
        "sent in this request was stored. Please try again in a minute."
    )
    if _wants_json(request):
        response = JsonResponse(
            {"error": {"code": "service_unavailable", "message": message}}, status=503
        )
    else:
        response = HttpResponse(
            render_to_string(
                "ops/unavailable.html",
                {"title": _("Service briefly unavailable"), "message": message},
            ),
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            _log_once(request, exception)
            return database_unavailable_response(request)
        return None


def _log_once(request, error) -> None:
    """One warning per request, whichever layer met the database error first."""
    if getattr(request, "_streha_unavailable_logged", False):
        return
    request._streha_unavailable_logged = True
    logger.warning("database unavailable: %s", type(error).__name__)


def handler_500(request, *args, **kwargs):
    """The project's 500 handler, except that a database error becomes the 503 above."""
    from streha.web.views import handler_500 as web_handler_500

    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):  # raised in a middleware, around the one above
        _log_once(request, error)
        return database_unavailable_response(request)
    return web_handler_500(request, *args, **kwargs)
