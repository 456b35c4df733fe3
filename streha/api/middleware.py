"""Unknown API addresses answer the API's JSON 404 in every mode.

In production Django answers an unresolved address with ``handler404`` (JSON under /api/). With
``DEBUG`` on, it answers with its technical page instead, which lists every URL pattern of the
project: a map of the system for whoever probes a development or staging server. This
middleware replaces any non-JSON 404 under /api/ with the API's error shape.
"""

from django.http import JsonResponse
from django.utils.translation import gettext


class ApiNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse(
                {"error": {"code": "not_found", "message": gettext("Not found.")}}, status=404
            )
        return response
