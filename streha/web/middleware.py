"""Request-wide plumbing: a request id for logs and audit, and headers Django does not set."""

import time
import uuid

from django.conf import settings

from streha.web.logging import request_id_var


class RequestIdMiddleware:
    """Give each request an id of the server's own making and echo it back.

    An id sent by the client (``X-Request-ID``) is never taken: audit events carry the request
    id, and a client choosing it could make its requests look like someone else's in the trail.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4().hex
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        return response


class SecurityHeadersMiddleware:
    """Headers for a system holding data that can endanger lives if it leaks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        )
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Pages for signed-in staff may carry personal data: never keep them in any cache.
            response["Cache-Control"] = "no-store, private"
        return response


# When the idle timeout was last renewed (seconds since the epoch), kept in the session.
RENEWED_AT = "_streha_renewed_at"


def _clock() -> float:
    return time.time()


class SessionRenewalMiddleware:
    """Renew a signed-in session's idle timeout at most once every
    ``STREHA_SESSION_RENEW_SECONDS`` (60), not on every request.

    The idle timeout is the session's age since it was last saved. Saving it on every request
    (``SESSION_SAVE_EVERY_REQUEST``) made every page, reads included, a database write: one
    more turn of SQLite's single writer lock and one more PostgreSQL commit per request. A
    session idle for ``SESSION_COOKIE_AGE`` still ends; an active one ends at most this many
    seconds earlier than it would have.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None:
            renewed = session.get(RENEWED_AT)
            moment = _clock()
            interval = getattr(settings, "STREHA_SESSION_RENEW_SECONDS", 60)
            if session.session_key is not None and (
                not isinstance(renewed, int | float) or not 0 <= moment - renewed < interval
            ):
                session[RENEWED_AT] = moment  # marks the session modified: saved once
        return self.get_response(request)
