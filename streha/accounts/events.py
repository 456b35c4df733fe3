"""Account events in the audit chain: who did it, how they were signed in, through which token.

Every account, role, token, second-factor, sign-in and lock-out event goes through ``record``,
which names the event in ``details["event"]`` and adds the method (session, token, system) and
the token id, so an event made by a machine client is never mistaken for a person's.
"""

from collections.abc import Mapping

from django.db import models

from streha.accounts.models import ApiToken, User
from streha.audit import services as audit
from streha.audit.services import Action

__all__ = ["Action", "how", "record"]


def how(request) -> dict:
    """The way ``request`` was authenticated, for the audit trail (no secret, no address)."""
    if request is None:
        return {"method": "system"}
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken):
        return {"method": "token", "token_id": token.pk}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {"method": "session"}
    return {"method": "anonymous"}


def record(
    actor: User | None,
    action: str,
    event: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    request=None,
    details: Mapping | None = None,
) -> None:
    audit.record(
        actor,
        action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        request=request,
        details={"event": event, **how(request), **(details or {})},
    )
