"""Writes on agencies, staff accounts, roles and API tokens.

Each function checks the access policy first and validates completely before writing, inside
one transaction, so a refused or invalid request leaves nothing half-written.
"""

import secrets
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import Agency, ApiToken, Role, RoleGrant, User
from streha.places.models import Municipality

USERNAME_MAX = 150


def _clean_roles(actor: User | None, roles: Iterable[str]) -> set[str]:
    """Known roles only; and, for a person (not the system itself), only roles they may grant."""
    roles = set(roles)
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationError({"roles": _("Unknown role.")})
    if actor is None:
        return roles
    allowed = set(policy.grantable_roles(actor))
    if not roles <= allowed:
        raise ValidationError({"roles": _("You may not grant one of these roles.")})
    return roles


@transaction.atomic
def create_agency(
    actor: User,
    *,
    code: str,
    name: str,
    kind: str,
    municipality: Municipality | None = None,
) -> Agency:
    policy.require(policy.can_manage_agencies(actor))
    agency = Agency(code=code, name=name.strip(), kind=kind, municipality=municipality)
    agency.full_clean()
    agency.save()
    return agency


@transaction.atomic
def create_user(
    actor: User | None,
    *,
    agency: Agency,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    roles: Iterable[str] = (),
    password: str | None = None,
    invite: bool = True,
) -> User:
    """Create a staff account in ``agency``.

    Without a password the account cannot sign in until its owner sets one through the e-mailed
    invitation (a password-reset link): administrators never know their staff's passwords.
    ``actor`` is None only for the system itself (the demo generator, first set-up).
    """
    if actor is not None:
        policy.require(policy.can_administer_agency(actor, agency))
    clean_roles = _clean_roles(actor, roles)
    user = User(
        agency=agency,
        username=username.strip(),
        email=email.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    # allauth finds accounts by username ignoring case: "Ana" and "ana" would lock each other out.
    if User.objects.filter(username__iexact=user.username).exists():
        raise ValidationError({"username": _("A user with that username already exists.")})
    user.full_clean()
    if not user.email:
        raise ValidationError({"email": _("An e-mail address is needed for the invitation.")})
    user.save()
    RoleGrant.objects.bulk_create(
        RoleGrant(user=user, role=role, granted_by=actor) for role in sorted(clean_roles)
    )
    if invite and not password:
        transaction.on_commit(lambda: send_invitation(user))
    return user


def send_invitation(user: User) -> None:
    """E-mail a one-time link where the new colleague chooses their password.

    The link is allauth's password-reset link, so it expires and dies once used, like a reset.
    """
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    context = {"username": user.username, "link": settings.STREHA_BASE_URL.rstrip("/") + path}
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation_body.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def update_user(
    actor: User,
    user: User,
    *,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    roles: Iterable[str] | None = None,
    is_active: bool | None = None,
) -> User:
    policy.require(policy.can_administer_user(actor, user))
    if email is not None:
        user.email = email.strip()
    if first_name is not None:
        user.first_name = first_name.strip()
    if last_name is not None:
        user.last_name = last_name.strip()
    if is_active is not None:
        if user.pk == actor.pk and not is_active:
            raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
        user.is_active = is_active
    user.full_clean()
    if roles is not None:
        wanted = _clean_roles(actor, roles)
        current = set(user.roles)
        # A role the actor may not grant cannot be taken away by them either.
        untouchable = current - set(policy.grantable_roles(actor))
        if user.pk == actor.pk and Role.AGENCY_ADMIN in current - wanted:
            raise ValidationError({"roles": _("You cannot remove your own administrator role.")})
        wanted |= untouchable
        RoleGrant.objects.filter(user=user, role__in=current - wanted).delete()
        RoleGrant.objects.bulk_create(
            RoleGrant(user=user, role=role, granted_by=actor) for role in sorted(wanted - current)
        )
        user.forget_roles()
    user.save()
    return user


@transaction.atomic
def reset_two_factor(actor: User, user: User) -> None:
    """Remove a user's authenticators (lost phone): they must enrol again at next sign-in."""
    from allauth.mfa.models import Authenticator

    policy.require(policy.can_administer_user(actor, user))
    Authenticator.objects.filter(user=user).delete()


@transaction.atomic
def issue_api_token(
    actor: User,
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for ``user``'s agency. Returns the token and its secret, shown only once."""
    if user.agency is None:
        raise ValidationError({"user": _("The account must belong to an agency.")})
    policy.require(policy.can_administer_user(actor, user))
    if not user.is_active:
        raise ValidationError({"user": _("The account is deactivated.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    prefix = secrets.token_hex(4)
    secret = f"{ApiToken.PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        agency=user.agency,
        user=user,
        name=name.strip(),
        key_prefix=prefix,
        key_digest=ApiToken.digest(secret),
        created_by=actor,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def revoke_api_token(actor: User, token: ApiToken) -> ApiToken:
    policy.require(policy.can_administer_agency(actor, token.agency))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token
