"""Re-authentication before the most dangerous acts: exports and break-glass.

A session that passed both factors at sign-in may be hours old, and a colleague's unlocked
screen is the cheapest way into someone else's access. Before an export or a break-glass the
user must therefore have entered their password AND a second-factor code within the last
``STREHA_REAUTHENTICATION_MINUTES`` (allauth's sign-in or re-authentication pages record both).

Use it on an HTML view::

    @login_required
    @require_recent_authentication
    def export(request, public_id): ...

A POST interrupted by it is replayed after the user re-authenticates (allauth keeps it in the
session), so the form need not be filled in again. In an API view (DRF), call
``check_recent_authentication(request)`` first: it raises a 403 ``reauthentication_required``
that tells the client to re-authenticate in the web interface; API tokens (machine clients)
never pass it, since no person stands behind them to re-authenticate.

In demo mode (no second factor is forced) the password alone is asked.
"""

from functools import wraps

from allauth.account.internal.flows.reauthentication import suspend_request
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from streha.accounts import sessions


class ReauthenticationRequired(exceptions.PermissionDenied):
    default_detail = _(
        "Confirm your password and second factor in the web interface, then try again."
    )
    default_code = "reauthentication_required"


def missing_step(request) -> str | None:
    """The URL name of the step still to do (password, then second factor), or None."""
    if getattr(request, "auth", None) is not None:
        return "token"
    password, factor = sessions.recently_authenticated(request)
    if not password:
        return "account_reauthenticate"
    if not factor and not settings.DEMO_MODE:
        return "mfa_reauthenticate"
    return None


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def require_recent_authentication(view=None, *, on_read: bool = False):
    """Decorator for HTML views: send the user through the missing step, then back.

    Only requests that act (POST and the like) are checked, so the form itself still shows;
    ``on_read=True`` checks every request (a page that exports on GET), and a callable
    ``on_read(request)`` the reads it says are exports (e.g. ``asks_download``).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            checks_read = on_read(request) if callable(on_read) else on_read
            if request.method in SAFE_METHODS and not checks_read:
                return view(request, *args, **kwargs)
            step = missing_step(request)
            if step is None:
                return view(request, *args, **kwargs)
            return suspend_request(request, reverse(step))

        wrapped.requires_recent_authentication = True
        return wrapped

    return decorator(view) if view is not None else decorator


def asks_download(request) -> bool:
    """A page that shows a table and downloads it as a file when asked (``?format=``)."""
    return bool(request.GET.get("format"))


def check_recent_authentication(request) -> None:
    """For API views: raise ``ReauthenticationRequired`` (403) unless recently authenticated."""
    if missing_step(request) is not None:
        raise ReauthenticationRequired()
