"""What a session has proved, and since when.

Django knows only *who* a session belongs to. Streha also needs to know whether *this* session
passed the second factor (not merely that the user has one enrolled), when it was signed in
(the absolute lifetime) and when the password and the second factor were last entered (the
re-authentication asked before exports and break-glass). allauth keeps its own record of the
password steps; the second-factor mark is ours, set only by allauth's signals that a code was
checked in this very request.
"""

import time

from allauth.account.authentication import get_authentication_records
from django.conf import settings

SIGNED_IN_AT = "streha_signed_in_at"
SECOND_FACTOR = "streha_second_factor"
PASSWORD_METHODS = ("password",)


def now() -> float:
    return time.time()


def note_sign_in(request) -> None:
    request.session[SIGNED_IN_AT] = now()


def note_second_factor(request, user, kind: str) -> None:
    """``user`` proved a second factor of type ``kind`` in this session, just now."""
    request.session[SECOND_FACTOR] = {"user": str(user.pk), "at": now(), "type": str(kind)}


def second_factor_at(request) -> float | None:
    mark = request.session.get(SECOND_FACTOR)
    user = getattr(request, "user", None)
    if not mark or user is None or not user.is_authenticated or mark.get("user") != str(user.pk):
        return None
    return mark.get("at")


def passed_second_factor(request) -> bool:
    return second_factor_at(request) is not None


def password_at(request) -> float | None:
    """When the password was last entered in this session (sign-in or re-authentication)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    times = [
        record["at"]
        for record in get_authentication_records(request, user)
        if record.get("method") in PASSWORD_METHODS and "at" in record
    ]
    return max(times) if times else None


def session_too_old(request) -> bool:
    started = request.session.get(SIGNED_IN_AT)
    if started is None:
        return True
    return now() - started > settings.STREHA_SESSION_MAX_HOURS * 3600


def recently_authenticated(request) -> tuple[bool, bool]:
    """(password recent, second factor recent) within the re-authentication window."""
    window = settings.STREHA_REAUTHENTICATION_MINUTES * 60
    moment = now()
    password = password_at(request)
    factor = second_factor_at(request)
    return (
        password is not None and moment - password <= window,
        factor is not None and moment - factor <= window,
    )
