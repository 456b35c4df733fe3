"""Sign-in, second-factor, password and lock-out events: marked on the session, written to the
audit chain, and (for a removed or reset second factor) ending the user's other sessions.

Connected in ``AccountsConfig.ready``. The handlers only record and mark; what may happen is
decided by allauth's flows, django-axes and the middleware.
"""

from allauth.account import signals as account_signals
from allauth.account.authentication import get_authentication_records
from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_migrate

from streha.accounts import events, sessions
from streha.accounts.events import Action
from streha.accounts.models import User


def _address(request) -> str:
    return str(getattr(request, "axes_ip_address", "") or request.META.get("REMOTE_ADDR", ""))


def session_started(sender, request, user, **kwargs):
    """Every login() (allauth, or anything else) starts the absolute lifetime clock."""
    if request is not None and hasattr(request, "session"):
        sessions.note_sign_in(request)


def signed_in(sender, request, user, **kwargs):
    """A completed sign-in through allauth's stages (the only sign-in path there is)."""
    methods = [
        str(record.get("type") or record.get("method"))
        for record in get_authentication_records(request, user)
    ]
    events.record(
        user,
        Action.CREATE,
        "signed_in",
        object_type="accounts.session",
        object_id=str(user.pk),
        request=request,
        details={"factors": methods, "second_factor": sessions.passed_second_factor(request)},
    )


def sign_in_failed(sender, credentials, request=None, **kwargs):
    """A wrong password or a wrong code. The attempted username is not stored (people type
    passwords into it); the account is named by id when one matches."""
    username = (credentials or {}).get("username") or ""
    user = User.objects.filter(username__iexact=username).only("pk").first() if username else None
    # The second-factor form reports wrong codes as failed sign-ins too (accounts/forms.py).
    second = getattr(sender, "__name__", "") == "LockoutAwareAuthenticateForm"
    events.record(
        None,
        Action.UPDATE,
        "sign_in_failed",
        object_type="accounts.user" if user else "",
        object_id=str(user.pk) if user else "",
        request=request,
        details={
            "stage": "second_factor" if second else "password",
            "address": _address(request) if request else "",
        },
    )


def locked_out(sender, request, username, ip_address, **kwargs):
    user = User.objects.filter(username__iexact=username or "").only("pk").first()
    events.record(
        None,
        Action.UPDATE,
        "locked_out",
        object_type="accounts.user" if user else "",
        object_id=str(user.pk) if user else "",
        request=request,
        details={"address": str(ip_address or "")},
    )


def second_factor_used(sender, request, user, authenticator, **kwargs):
    sessions.note_second_factor(request, user, authenticator.type)
    if kwargs.get("reauthenticated"):
        events.record(
            user,
            Action.UPDATE,
            "reauthenticated",
            obj=user,
            request=request,
            details={"second_factor": str(authenticator.type)},
        )


def second_factor_added(sender, request, user, authenticator, **kwargs):
    # Activating TOTP checks a code from the new device: this session has proved the factor.
    if authenticator.type != authenticator.Type.RECOVERY_CODES:
        sessions.note_second_factor(request, user, authenticator.type)
    events.record(
        user,
        Action.CREATE,
        "second_factor_added",
        object_type="mfa.authenticator",
        object_id=str(authenticator.pk),
        request=request,
        details={"type": str(authenticator.type), "account": user.pk},
    )


def _end_other_sessions(request, user) -> None:
    from streha.accounts.services import end_sessions_of

    end_sessions_of(user, keep=request)


def second_factor_removed(sender, request, user, authenticator, **kwargs):
    events.record(
        user,
        Action.DELETE,
        "second_factor_removed",
        object_type="mfa.authenticator",
        object_id=str(authenticator.pk),
        request=request,
        details={"type": str(authenticator.type), "account": user.pk},
    )
    _end_other_sessions(request, user)


def second_factor_reset(sender, request, user, authenticator, **kwargs):
    events.record(
        user,
        Action.UPDATE,
        "second_factor_reset",
        object_type="mfa.authenticator",
        object_id=str(authenticator.pk),
        request=request,
        details={"type": str(authenticator.type), "account": user.pk},
    )
    _end_other_sessions(request, user)


def _password_event(name):
    def handler(sender, request, user, **kwargs):
        events.record(user, Action.UPDATE, name, obj=user, request=request)

    handler.__name__ = f"on_{name}"
    return handler


password_changed = _password_event("password_changed")
password_set = _password_event("password_set")
password_reset = _password_event("password_reset")


def create_cache_table(sender, **kwargs):
    """``streha migrate`` also creates the database cache's table when that cache is used."""
    from django.conf import settings
    from django.core.management import call_command

    if sender.name != "streha.accounts":
        return
    if any(c["BACKEND"].endswith("db.DatabaseCache") for c in settings.CACHES.values()):
        call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)


def connect() -> None:
    auth_signals.user_logged_in.connect(session_started, dispatch_uid="streha_session_started")
    auth_signals.user_login_failed.connect(sign_in_failed, dispatch_uid="streha_sign_in_failed")
    account_signals.user_logged_in.connect(signed_in, dispatch_uid="streha_signed_in")
    account_signals.password_changed.connect(password_changed, dispatch_uid="streha_pw_changed")
    account_signals.password_set.connect(password_set, dispatch_uid="streha_pw_set")
    account_signals.password_reset.connect(password_reset, dispatch_uid="streha_pw_reset")
    mfa_signals.authenticator_used.connect(second_factor_used, dispatch_uid="streha_mfa_used")
    mfa_signals.authenticator_added.connect(second_factor_added, dispatch_uid="streha_mfa_added")
    mfa_signals.authenticator_removed.connect(
        second_factor_removed, dispatch_uid="streha_mfa_removed"
    )
    mfa_signals.authenticator_reset.connect(second_factor_reset, dispatch_uid="streha_mfa_reset")
    user_locked_out.connect(locked_out, dispatch_uid="streha_locked_out")
    post_migrate.connect(create_cache_table, dispatch_uid="streha_cache_table")
