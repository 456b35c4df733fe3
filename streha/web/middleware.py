"""Request-wide plumbing: a request id for logs and audit, and headers Django does not set."""

import uuid

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
