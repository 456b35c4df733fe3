"""Lock-out rules that an outsider cannot turn against staff (django-axes does the counting).

1. A username is locked per address (``AXES_LOCKOUT_PARAMETERS``): failures from elsewhere do
   not lock a colleague out at their own desk.
2. An address that fails too often, whatever the usernames, is locked (guessing from one place).
3. A username failing too often from many addresses, or the whole system failing too often
   (password spraying), no longer locks anyone out: it closes sign-in only to *unknown*
   addresses. An address is known to a user if that user signed in from it successfully within
   ``STREHA_KNOWN_ADDRESS_DAYS``, and known to the system if anyone did.

Failures are django-axes' ``AccessAttempt`` rows within the cool-off period; successes its
``AccessLog`` rows. allauth's form names the field ``login``; Django's ``authenticate()``
receives it as ``username``. Usernames are compared case-insensitively so "Ana" and "ana" share
one counter.
"""

from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def username_of_attempt(request, credentials: dict | None) -> str:
    username = (credentials or {}).get("username")
    if not username and request is not None and request.method == "POST":
        username = request.POST.get("login") or request.POST.get("username")
    return (username or "").strip().lower()


def _failures(**filters) -> int:
    return (
        AccessAttempt.objects.filter(**filters).aggregate(total=Sum("failures_since_start"))[
            "total"
        ]
        or 0
    )


def _known(**filters) -> bool:
    since = timezone.now() - timedelta(days=settings.STREHA_KNOWN_ADDRESS_DAYS)
    return AccessLog.objects.filter(attempt_time__gte=since, **filters).exists()


def locked_reason(request, credentials: dict | None) -> str | None:
    """Why this attempt is refused beyond django-axes' per-(username, address) lock, if it is."""
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    username = username_of_attempt(request, credentials)
    recent = {"attempt_time__gte": timezone.now() - settings.AXES_COOLOFF_TIME}
    if (
        address
        and _failures(ip_address=address, **recent) >= settings.STREHA_LOCKOUT_ADDRESS_FAILURES
    ):
        return "address"
    user_failures = _failures(username=username, **recent) if username else 0
    if user_failures >= settings.STREHA_LOCKOUT_USER_FAILURES and not _known(
        username=username, ip_address=address
    ):
        return "user_from_unknown_address"
    if _failures(**recent) >= settings.STREHA_LOCKOUT_GLOBAL_FAILURES and not _known(
        ip_address=address
    ):
        return "spraying_from_unknown_address"
    return None


class StaffLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with the address and spraying rules above."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        reason = locked_reason(request, credentials)
        if reason is not None:
            # Answer with the lock-out page (django-axes' middleware reads this flag), not as
            # if the password were wrong.
            request.streha_lockout_reason = reason
            request.axes_locked_out = True
            return True
        return False
