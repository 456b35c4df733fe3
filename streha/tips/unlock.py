"""Unlocking a hotline member's tip-line key at sign-in, so reading tips takes no extra step.

The member's private key is locked under the password they sign in with. When they sign in,
``TipLineUnlockBackend`` (which never signs anyone in itself) opens it with that password, and
keeps it between requests encrypted under a fresh random key that only the member's browser
holds (an HttpOnly, SameSite=Strict cookie for the browser session); the session on the server
holds only the ciphertext. The password is never stored. Signing out flushes the session, and
the cookie alone opens nothing.

What this defends against: a copy of the database, of the key file, of the code, or all of them
together, reads no tip (no operator is signed in inside a copy). What it does not: an attacker
who runs code on the live server while an operator is signed in sees what that operator's
requests decrypt, as the operator does.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from streha.access import policy
from streha.tips import sealing

SESSION_KEY = "streha.tips.unlocked"
COOKIE_NAME = "streha_tip_line"
# Lower cost for test settings only; production keeps libsodium's interactive limits.
LOCK_OPSLIMIT = sealing.ARGON.OPSLIMIT_INTERACTIVE
LOCK_MEMLIMIT = sealing.ARGON.MEMLIMIT_INTERACTIVE


@dataclass(frozen=True)
class MemberKey:
    """A member's private key, opened for the current request only."""

    user_id: int
    private: sealing.PrivateKey


def lock_member_key(secret: str, private: sealing.PrivateKey) -> str:
    return sealing.lock(
        secret,
        bytes(private),
        opslimit=getattr(settings, "STREHA_TIP_LOCK_OPSLIMIT", LOCK_OPSLIMIT),
        memlimit=getattr(settings, "STREHA_TIP_LOCK_MEMLIMIT", LOCK_MEMLIMIT),
    )


def open_member_key(user, secret: str) -> MemberKey | None:
    """The member's private key if ``secret`` unlocks it, else None."""
    from streha.tips.models import TipLineMember

    member = TipLineMember.objects.filter(user=user).first()
    if member is None:
        return None
    try:
        raw = sealing.unlock(secret, member.locked_private_key)
    except sealing.Unreadable:
        return None
    return MemberKey(user_id=user.pk, private=sealing.private_from_bytes(raw))


@transaction.atomic
def enrol(user, secret: str) -> MemberKey:
    """A fresh key pair for ``user``, locked under ``secret``. Any earlier one is dropped with
    its slots (its secret is gone, e.g. after a password reset): the supervisor adds the
    member again, which seals the unit keys to the new pair."""
    from streha.tips.models import TipLineMember

    private = sealing.new_key_pair()
    TipLineMember.objects.filter(user=user).delete()
    TipLineMember.objects.create(
        user=user,
        public_key=sealing.public_text(private),
        locked_private_key=lock_member_key(secret, private),
    )
    return MemberKey(user_id=user.pk, private=private)


def remember(request, key: MemberKey) -> None:
    """Keep ``key`` for the browser session: ciphertext in the session, its key in a cookie."""
    cookie_key = sealing.random_key()
    box = sealing.session_box(cookie_key).encrypt(bytes(key.private))
    request.session[SESSION_KEY] = {"user": key.user_id, "box": sealing.b64(bytes(box))}
    request._tip_line_cookie = sealing.b64(cookie_key)
    request._tip_line_key = key


def member_key(request) -> MemberKey | None:
    """The signed-in member's key for this request, or None (not a member, or not unlocked)."""
    cached = getattr(request, "_tip_line_key", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if cached is not None:
        return cached if cached.user_id == user.pk else None
    stored = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    cookie = request.COOKIES.get(COOKIE_NAME, "")
    if not stored or not cookie or stored.get("user") != user.pk:
        return None
    try:
        raw = sealing.session_box(sealing.unb64(cookie)).decrypt(sealing.unb64(stored["box"]))
    except Exception:  # noqa: BLE001 - a stale or altered cookie simply leaves the line locked
        return None
    key = MemberKey(user_id=user.pk, private=sealing.private_from_bytes(raw))
    request._tip_line_key = key
    return key


def forget(request) -> None:
    if hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)
    request._tip_line_key = None


class TipLineUnlockBackend:
    """An authentication backend that authenticates no one.

    It sits before the real backend so that it sees the password of a sign-in: for a hotline
    operator or the hotline supervisor whose password is right, it unlocks (or, the first time,
    makes) their tip-line key. Whether the sign-in then succeeds is the real backend's decision;
    a failed one leaves nothing usable behind (the key is bound to the user who signs in).
    It has no ``get_user``, so that ``force_login`` and sessions never name it.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username or not password:
            return None
        from streha.accounts.models import User

        user = User.objects.filter(username__iexact=username, is_active=True).first()
        if user is None or not policy.may_join_tip_line(user):
            return None
        key = open_member_key(user, password)
        if key is None:
            if not user.check_password(password):
                return None
            key = enrol(user, password)
        remember(request, key)
        return None


class TipLineCookieMiddleware:
    """Sets the cookie that holds the key of the session's tip-line ciphertext."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        value = getattr(request, "_tip_line_cookie", None)
        if value:
            response.set_cookie(
                COOKIE_NAME,
                value,
                httponly=True,
                samesite="Strict",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def on_password_changed(sender, request, user, **kwargs):
    """Lock the member's key under the new password (the old one no longer signs in)."""
    from streha.tips.models import TipLineMember

    new_password = request.POST.get("password1", "") if request is not None else ""
    key = member_key(request) if request is not None else None
    if not new_password or key is None:
        return
    TipLineMember.objects.filter(user=user).update(
        locked_private_key=lock_member_key(new_password, key.private)
    )
