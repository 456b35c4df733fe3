"""The access policy: the one place that decides who may see and do what.

Views, API views and services never test roles or agencies themselves; they ask here. Objects a
user may not see are filtered out of querysets (so they answer 404, never 403), and actions a
user may not take raise ``PermissionDenied`` from the service that would perform them.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from streha.accounts.models import Agency, ApiToken, Role, User

# Roles an agency administrator may not hand out: only system administrators make system
# administrators, so one compromised agency cannot take over the others.
ROLES_ONLY_SYSTEM_ADMIN_GRANTS = frozenset({Role.SYSTEM_ADMIN})


def is_system_admin(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.SYSTEM_ADMIN)


def is_agency_admin(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.AGENCY_ADMIN)


def can_administer_users(user: User) -> bool:
    return is_system_admin(user) or (is_agency_admin(user) and user.agency_id is not None)


def can_administer_agency(user: User, agency: Agency) -> bool:
    """May ``user`` manage the staff and API tokens of ``agency``?"""
    if is_system_admin(user):
        return True
    return is_agency_admin(user) and user.agency_id == agency.pk


def can_manage_agencies(user: User) -> bool:
    """Creating and editing agencies themselves is for system administrators."""
    return is_system_admin(user)


def grantable_roles(user: User) -> list[str]:
    if is_system_admin(user):
        return list(Role.values)
    if is_agency_admin(user):
        return [role for role in Role.values if role not in ROLES_ONLY_SYSTEM_ADMIN_GRANTS]
    return []


def users_visible_to(user: User) -> QuerySet[User]:
    """Staff accounts ``user`` may list: all for system admins, their agency for agency admins."""
    users = User.objects.select_related("agency").prefetch_related("role_grants")
    if is_system_admin(user):
        return users
    if is_agency_admin(user) and user.agency_id:
        return users.filter(agency_id=user.agency_id)
    return users.filter(pk=user.pk)


def api_tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("agency", "user", "created_by")
    if is_system_admin(user):
        return tokens
    if is_agency_admin(user) and user.agency_id:
        return tokens.filter(agency_id=user.agency_id)
    return tokens.none()


def agencies_visible_to(user: User) -> QuerySet[Agency]:
    """Every signed-in staff member may see the directory of agencies (to refer, to contact)."""
    if not user.is_authenticated:
        return Agency.objects.none()
    return Agency.objects.select_related("municipality__region")


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(message or _("You are not allowed to do this."))
