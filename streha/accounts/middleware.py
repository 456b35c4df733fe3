"""Every session must have passed the second factor, and no session lives for ever.

``SessionLifetimeMiddleware`` ends a session older than ``STREHA_SESSION_MAX_HOURS`` since its
sign-in, however active (the idle timeout is the session cookie's age).

``RequireTwoFactorMiddleware`` checks the flag that THIS session passed a second factor
(``streha.accounts.sessions``), not merely that the user has one enrolled: a session opened
around allauth's stages (the Django admin's own login form, any ``login()`` call) has no flag.
Such a session of a user who has a factor is ended at once; a user without one (the first
sign-in with the invitation's password) may reach only the enrolment pages until enrolled.
Outside production, demo mode (known demo passwords) waives both second-factor rules.
"""

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from streha.accounts import events, sessions
from streha.accounts.events import Action
from streha.accounts.selectors import two_factor_enrolled

# Reachable by a signed-in user who has not enrolled a factor yet (enrolment, sign-out).
ENROLMENT_PREFIXES = ("/accounts/", "/static/", "/i18n/")
ALWAYS_PREFIXES = ("/static/",)


class ResolvedUserMiddleware:
    """``request.user`` as the user itself, no longer Django's lazy proxy, once it has been read.

    Every later middleware reads the user on every request (the session's lifetime, the second
    factor), so nothing is loaded that would not be; but a page then reads ``request.user``
    some 400 times (menu, policy, templates), and through the proxy each read costs a Python
    indirection: about a millisecond of CPU per request (issue 17). Sign-in and sign-out still
    set ``request.user`` themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if isinstance(user, SimpleLazyObject):
            user.is_authenticated  # noqa: B018 - loads the user (from the session) once
            request.user = user._wrapped
        return self.get_response(request)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _refusal(request, code: str, message: str, status: int, to: str):
    if _is_api(request):
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    return redirect(to)


def _sign_in_again(request):
    return f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"


def _end(request, reason: str) -> None:
    user = request.user
    events.record(
        user,
        Action.DELETE,
        "session_ended",
        object_type="accounts.session",
        object_id=str(user.pk),
        request=request,
        details={"reason": reason},
    )
    logout(request)


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ALWAYS_PREFIXES)
            and sessions.session_too_old(request)
        ):
            _end(request, "absolute_lifetime")
            return _refusal(
                request,
                "session_expired",
                _("Your session has ended. Sign in again."),
                401,
                _sign_in_again(request),
            )
        return self.get_response(request)


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.DEMO_MODE
            or user is None
            or not user.is_authenticated
            or request.path.startswith(ALWAYS_PREFIXES)
        ):
            return self.get_response(request)
        enrolled = two_factor_enrolled(user)
        if enrolled and sessions.passed_second_factor(request):
            return self.get_response(request)
        if enrolled:
            # Enrolled, yet this session never passed the factor: it came in around the
            # sign-in stages. It is not a sign-in at all.
            _end(request, "second_factor_not_passed")
            return _refusal(
                request,
                "two_factor_required",
                _("Sign in with your second factor."),
                403,
                _sign_in_again(request),
            )
        if request.path.startswith(ENROLMENT_PREFIXES):
            return self.get_response(request)
        return _refusal(
            request,
            "two_factor_required",
            _("Set up two-factor authentication in the web interface first."),
            403,
            reverse("mfa_activate_totp"),
        )
