"""Two-factor authentication is required for every staff account outside demo mode.

A signed-in user without an authenticator is sent to the enrolment page and can reach nothing
else but sign-out and static files until they have enrolled.
"""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

ALLOWED_PREFIXES = ("/accounts/", "/static/", "/i18n/")


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_enrol(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "code": "two_factor_required",
                            "message": _(
                                "Set up two-factor authentication in the web interface first."
                            ),
                        }
                    },
                    status=403,
                )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request) -> bool:
        if settings.DEMO_MODE:
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        # Machine clients authenticate per request with a token, not a session.
        if request.path.startswith(ALLOWED_PREFIXES):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
