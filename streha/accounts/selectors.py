"""Reading accounts."""

from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef, Subquery

from streha.accounts.models import RoleGrant, User
from streha.sql import JoinedCodes, split_codes


def signed_in_user(user_id) -> User | None:
    """The user a session names, as every request needs them, in ONE query: with their agency,
    their effective roles (``User.roles``) and whether they enrolled a second factor
    (``two_factor_enrolled``) and whether they ever started a background job (``started_a_job``,
    for the menu). Four more round trips on every page otherwise, and each waits for a core
    when the machine is busy (issue 17)."""
    from streha.jobs.models import Job

    roles = (
        RoleGrant.objects.effective()
        .filter(user_id=OuterRef("pk"))
        .order_by()
        .values("user_id")
        .annotate(joined=JoinedCodes("role"))
        .values("joined")
    )
    totp = Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)
    user = (
        User._default_manager.select_related("agency")
        .annotate(
            effective_roles=Subquery(roles),
            totp_enrolled=Exists(totp),
            has_started_job=Exists(Job.objects.filter(started_by_id=OuterRef("pk"))),
        )
        .filter(pk=user_id)
        .first()
    )
    if user is not None:
        user._roles_cache = split_codes(user.effective_roles)
    return user


def two_factor_enrolled(user: User) -> bool:
    """Whether ``user`` has a TOTP device: read with the user for a request
    (``signed_in_user``), else asked now."""
    known = getattr(user, "totp_enrolled", None)
    if known is not None:
        return known
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def started_a_job(user: User) -> bool:
    """Whether ``user`` ever started a background job: read with the user for a request
    (``signed_in_user``), else asked now."""
    from streha.jobs.models import Job

    known = getattr(user, "has_started_job", None)
    if known is not None:
        return known
    return Job.objects.filter(started_by=user).exists()
