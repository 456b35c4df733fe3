"""Test helpers for what a session has proved (see ``streha.accounts.sessions``).

``client.force_login`` makes a session the way Django's own login does: signed in, but without
a second factor passed and without a recent password. Tests of pages behind those checks use
these helpers to say, explicitly, what the session has proved.
"""

from streha.accounts import sessions

_RECORDS = "account_authentication_methods"
_RECORDS_USER = "account_authentication_methods_user"


def pass_second_factor(client, user, kind: str = "totp") -> None:
    """The signed-in ``client`` session passed a second factor (as at sign-in), now."""
    session = client.session
    session[sessions.SECOND_FACTOR] = {"user": str(user.pk), "at": sessions.now(), "type": kind}
    session.save()


def reauthenticate(client, user) -> None:
    """The session entered its password and a second-factor code just now."""
    session = client.session
    records = (
        list(session.get(_RECORDS) or []) if session.get(_RECORDS_USER) == str(user.pk) else []
    )
    records.append({"method": "password", "at": sessions.now(), "reauthenticated": True})
    session[_RECORDS] = records
    session[_RECORDS_USER] = str(user.pk)
    session[sessions.SECOND_FACTOR] = {"user": str(user.pk), "at": sessions.now(), "type": "totp"}
    session.save()
