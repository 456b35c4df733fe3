"""Writes on agencies, staff accounts, roles and API tokens.

Each function checks the access policy first and validates completely before writing, inside
one transaction, so a refused or invalid request leaves nothing half-written.
"""

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts import events
from streha.accounts.events import Action
from streha.accounts.models import Agency, ApiToken, Role, RoleGrant, TokenScope, User
from streha.places.models import Municipality

USERNAME_MAX = 150
DEFAULT_TOKEN_DAYS = 90


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


def _grant(actor: User | None, user: User, role: str, request=None) -> RoleGrant:
    """A new grant: in effect at once when the system grants it or the role needs no second
    administrator; otherwise pending until another administrator approves it."""
    now = timezone.now()
    pending = actor is not None and policy.role_needs_approval(role)
    grant = RoleGrant.objects.create(
        user=user,
        role=role,
        granted_by=actor,
        granted_at=now,
        approved_by=None if pending else actor,
        approved_at=None if pending else now,
    )
    events.record(
        actor,
        Action.CREATE,
        "role_requested" if pending else "role_granted",
        obj=grant,
        request=request,
        details={"account": user.pk, "role": role},
    )
    return grant


@transaction.atomic
def create_agency(
    actor: User,
    *,
    code: str,
    name: str,
    kind: str,
    municipality: Municipality | None = None,
    name_sq: str = "",
    name_sr: str = "",
    name_en: str = "",
    request=None,
) -> Agency:
    policy.require(policy.can_manage_agencies(actor))
    agency = Agency(
        code=code,
        name=name.strip(),
        name_sq=name_sq.strip(),
        name_sr=name_sr.strip(),
        name_en=name_en.strip(),
        kind=kind,
        municipality=municipality,
    )
    agency.full_clean()
    agency.save()
    events.record(actor, Action.CREATE, "agency_created", obj=agency, request=request)
    return agency


AGENCY_NAME_FIELDS = ("name", "name_sq", "name_sr", "name_en")


@transaction.atomic
def rename_agency(actor: User, agency: Agency, *, request=None, **names: str) -> Agency:
    """Change an agency's registered name or its translations (system administrators).

    Only the names given change; the registered name may not be emptied (it is the fallback
    of every language)."""
    policy.require(policy.can_manage_agencies(actor))
    unknown = set(names) - set(AGENCY_NAME_FIELDS)
    if unknown:
        raise ValidationError({field: _("Unknown field.") for field in sorted(unknown)})
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    changed = []
    for field, value in names.items():
        value = (value or "").strip()
        if getattr(agency, field) != value:
            setattr(agency, field, value)
            changed.append(field)
    agency.full_clean()
    if changed:
        agency.save(update_fields=changed)
        events.record(
            actor,
            Action.UPDATE,
            "agency_renamed",
            obj=agency,
            request=request,
            details={"fields": changed},
        )
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
    service_account: bool = False,
    request=None,
) -> User:
    """Create a staff account (or a service account) in ``agency``.

    Without a password the account cannot sign in until its owner sets one through the e-mailed
    invitation (a password-reset link): administrators never know their staff's passwords.
    A service account never has a password: it works through API tokens only. Roles asked for
    by an administrator wait for a second administrator's approval (``approve_role_grant``).
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
        is_service_account=service_account,
    )
    if password and service_account:
        raise ValidationError({"password": _("A service account has no password.")})
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    # allauth finds accounts by username ignoring case: "Ana" and "ana" would lock each other out.
    if User.objects.filter(username__iexact=user.username).exists():
        raise ValidationError({"username": _("A user with that username already exists.")})
    user.full_clean()
    if not user.email and not service_account:
        raise ValidationError({"email": _("An e-mail address is needed for the invitation.")})
    user.save()
    events.record(
        actor,
        Action.CREATE,
        "account_created",
        obj=user,
        request=request,
        details={"service_account": service_account, "agency": agency.code},
    )
    for role in sorted(clean_roles):
        _grant(actor, user, role, request)
    if invite and not password and not service_account:
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


def remind_two_factor(actor: User, user: User, *, request=None) -> None:
    """E-mail an account without two-factor authentication what to do next, audited.

    An account never signed in gets its invitation again (its link is how it chooses a
    password; the second factor is asked for at the first sign-in). Any other gets a reminder
    with the sign-in address only: never a credential by e-mail."""
    policy.require(policy.can_administer_user(actor, user))
    if not user.is_active:
        raise ValidationError(_("This account is deactivated."))
    if user.last_login is None:
        send_invitation(user)
    else:
        link = settings.STREHA_BASE_URL.rstrip("/") + reverse("mfa_activate_totp")
        context = {"username": user.username, "link": link}
        subject = render_to_string("accounts/email/two_factor_subject.txt", context).strip()
        body = render_to_string("accounts/email/two_factor_body.txt", context)
        send_mail(subject, body, None, [user.email])
    events.record(
        actor,
        Action.NOTIFY,
        "two_factor_reminder",
        obj=user,
        request=request,
        details={"invitation": user.last_login is None},
    )


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
    request=None,
) -> User:
    """Change another user's account. Nobody changes their own (``can_administer_user``).

    Roles are compared with the user's live grants (in effect or pending): a role no longer
    wanted has its grant revoked, a new one is requested (see ``_grant``); roles ``actor`` may
    not grant are left as they are.
    """
    policy.require(policy.can_administer_user(actor, user))
    changed = []
    for field, value in (("email", email), ("first_name", first_name), ("last_name", last_name)):
        if value is not None and getattr(user, field) != value.strip():
            setattr(user, field, value.strip())
            changed.append(field)
    if is_active is not None and user.is_active != is_active:
        user.is_active = is_active
        changed.append("is_active")
    user.full_clean()
    user.save()
    if changed:
        events.record(
            actor,
            Action.UPDATE,
            "account_changed",
            obj=user,
            request=request,
            details={"fields": changed, "is_active": user.is_active},
        )
    if roles is not None:
        wanted = _clean_roles(actor, roles)
        live = {grant.role: grant for grant in RoleGrant.objects.live().filter(user=user)}
        # A role the actor may not grant cannot be taken away by them either.
        grantable = set(policy.grantable_roles(actor))
        for role in sorted(set(live) - wanted):
            if role in grantable:
                _revoke(actor, live[role], request)
        for role in sorted(wanted - set(live)):
            _grant(actor, user, role, request)
        user.forget_roles()
    return user


@transaction.atomic
def approve_role_grant(actor: User, grant: RoleGrant, *, request=None) -> RoleGrant:
    """A second administrator puts a pending grant into effect."""
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if not grant.is_pending:
        raise ValidationError(_("This role grant is no longer waiting for approval."))
    policy.require(policy.can_approve_role_grant(actor, grant))
    grant.approved_by, grant.approved_at = actor, timezone.now()
    grant.save(update_fields=["approved_by", "approved_at"])
    events.record(
        actor,
        Action.UPDATE,
        "role_approved",
        obj=grant,
        request=request,
        details={"account": grant.user_id, "role": grant.role, "requested_by": grant.granted_by_id},
    )
    return grant


@transaction.atomic
def revoke_role_grant(actor: User, grant: RoleGrant, *, request=None) -> RoleGrant:
    """Revoke a grant in effect, or refuse a pending one. The row stays, marked revoked."""
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        raise ValidationError(_("This role grant was already revoked."))
    policy.require(policy.can_revoke_role_grant(actor, grant))
    return _revoke(actor, grant, request)


def _revoke(actor: User, grant: RoleGrant, request=None) -> RoleGrant:
    was_pending = grant.is_pending
    grant.revoked_by, grant.revoked_at = actor, timezone.now()
    grant.save(update_fields=["revoked_by", "revoked_at"])
    events.record(
        actor,
        Action.UPDATE,
        "role_refused" if was_pending else "role_revoked",
        obj=grant,
        request=request,
        details={"account": grant.user_id, "role": grant.role},
    )
    return grant


def end_sessions_of(user: User, *, keep=None) -> None:
    """End every session of ``user`` (except ``keep``, the request acting now, if it is theirs).

    The session epoch is part of the session hash (``User._get_session_auth_hash``): raising it
    makes every existing session of the user fail verification at its next request, wherever
    it is stored, as a password change does.
    """
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    request_user = getattr(keep, "user", None)
    if keep is not None and request_user is not None and request_user.pk == user.pk:
        request_user.session_epoch = user.session_epoch
        update_session_auth_hash(keep, request_user)


@transaction.atomic
def reset_two_factor(actor: User, user: User, *, request=None) -> None:
    """Remove a user's authenticators (lost phone): they must enrol again at next sign-in, and
    every session they had ends now (whoever held it passed the factor being withdrawn)."""
    from allauth.mfa.models import Authenticator

    policy.require(policy.can_administer_user(actor, user))
    removed = list(Authenticator.objects.filter(user=user).values_list("pk", "type"))
    Authenticator.objects.filter(user=user).delete()
    end_sessions_of(user)
    events.record(
        actor,
        Action.DELETE,
        "second_factor_reset_by_administrator",
        obj=user,
        request=request,
        details={"authenticators": [pk for pk, _type in removed]},
    )


@transaction.atomic
def issue_api_token(
    actor: User,
    *,
    user: User,
    name: str,
    scopes: Iterable[str] = (TokenScope.READ,),
    expires_at: datetime | None = None,
    request=None,
) -> tuple[ApiToken, str]:
    """Issue a token for a service account. Returns the token and its secret, shown only once.

    Tokens are for machine clients only: a token acting as a person would let its holder's reads
    be logged under that person's name. Every token has at least one scope and an expiry no
    later than ``STREHA_API_TOKEN_MAX_DAYS`` from now (``DEFAULT_TOKEN_DAYS`` if none is given).
    """
    if user.agency is None:
        raise ValidationError({"user": _("The account must belong to an agency.")})
    policy.require(policy.can_administer_user(actor, user))
    if not user.is_service_account:
        raise ValidationError(
            {"user": _("API tokens are only for service accounts, never for a person.")}
        )
    if not user.is_active:
        raise ValidationError({"user": _("The account is deactivated.")})
    now = timezone.now()
    longest = now + timedelta(days=settings.STREHA_API_TOKEN_MAX_DAYS)
    if expires_at is None:
        expires_at = now + timedelta(
            days=min(DEFAULT_TOKEN_DAYS, settings.STREHA_API_TOKEN_MAX_DAYS)
        )
    if expires_at <= now:
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    if expires_at > longest:
        raise ValidationError(
            {
                "expires_at": _("A token may live at most %(days)d days.")
                % {"days": settings.STREHA_API_TOKEN_MAX_DAYS}
            }
        )
    scopes = sorted(set(scopes))
    if not scopes or not set(scopes) <= set(TokenScope.values):
        raise ValidationError({"scopes": _("Choose at least one known scope.")})
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
        scopes=scopes,
    )
    token.full_clean()
    token.save()
    events.record(
        actor,
        Action.CREATE,
        "token_issued",
        obj=token,
        request=request,
        details={
            "token": token.pk,
            "account": user.pk,
            "scopes": scopes,
            "expires_at": expires_at.isoformat(),
        },
    )
    return token, secret


@transaction.atomic
def revoke_api_token(actor: User, token: ApiToken, *, request=None) -> ApiToken:
    policy.require(policy.can_administer_agency(actor, token.agency))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        events.record(
            actor,
            Action.UPDATE,
            "token_revoked",
            obj=token,
            request=request,
            details={"token": token.pk, "account": token.user_id},
        )
    return token
