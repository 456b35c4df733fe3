"""Agencies, the staff who work in them, their roles, and the API tokens of machine clients.

Every staff user belongs to exactly one agency: scope (what a user may see) starts from it.
Roles are a fixed vocabulary the access policy understands, stored one row per grant so that
who granted what, who approved it, who revoked it, and when, stays on record: a grant is
revoked, never deleted.
"""

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    POLICE = "police", _("Police")
    PROSECUTION = "prosecution", _("Prosecution")
    VICTIM_ADVOCACY = "victim_advocacy", _("Victim advocacy")
    SOCIAL_WORK = "social_work", _("Centre for social work")
    SHELTER = "shelter", _("Shelter / NGO")
    LABOUR_INSPECTORATE = "labour_inspectorate", _("Labour inspectorate")
    HEALTH = "health", _("Health")
    NATIONAL_COORDINATOR = "national_coordinator", _("National coordinator")
    INTERNATIONAL_ORGANISATION = "international_organisation", _("International organisation")
    COURT = "court", _("Court")


class Role(models.TextChoices):
    HOTLINE_OPERATOR = "hotline_operator", _("Hotline operator")
    CASE_WORKER = "case_worker", _("Case worker")
    SUPERVISOR = "supervisor", _("Supervisor")
    INVESTIGATOR = "investigator", _("Investigator")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    ANALYST = "analyst", _("Analyst")
    AUDITOR = "auditor", _("Auditor")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    COURT_LIAISON = "court_liaison", _("Court liaison")
    WITNESS_PROTECTION = "witness_protection", _("Witness protection unit")


class Agency(models.Model):
    """An institution whose staff use the system. Its name is data in each official language
    (``name_sq``, ``name_sr``, ``name_en``; ``name`` is the registered name, the fallback):
    pages and drop-downs print ``str(agency)``, the name in the reader's language."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_sq = models.CharField(_("name (Albanian)"), max_length=200, blank=True)
    name_sr = models.CharField(_("name (Serbian)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=40, choices=AgencyKind.choices)
    municipality = models.ForeignKey(
        "places.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agencies",
        verbose_name=_("municipality"),
        help_text=_("Seat of the agency; empty for national agencies without a local seat."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language; else the registered name; else the first other
        translation there is (an agency registered with translations only still has a name)."""
        language = (get_language() or "sq").lower()
        if language.startswith("sr"):
            wanted, others = self.name_sr, (self.name_sq, self.name_en)
        elif language.startswith("en"):
            wanted, others = self.name_en, (self.name_sq, self.name_sr)
        else:
            wanted, others = self.name_sq, (self.name_sr, self.name_en)
        return wanted or self.name or next((other for other in others if other), "")

    @property
    def region(self):
        return self.municipality.region if self.municipality_id else None


class User(AbstractUser):
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("agency"),
    )
    is_service_account = models.BooleanField(
        _("service account"),
        default=False,
        help_text=_(
            "A machine client of the agency: it uses API tokens and can never sign in with a "
            "password."
        ),
    )
    # Raised whenever the user's sessions must end although the password did not change (a
    # second factor removed or reset): it is part of the session hash, like the password.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["username"]
        constraints = [
            # allauth signs in by username ignoring case; two spellings would lock each other out.
            models.UniqueConstraint(Lower("username"), name="username_unique_ignoring_case")
        ]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def roles(self) -> frozenset[str]:
        """The user's effective roles (approved, not revoked), read once per instance (a request
        re-reads the user anyway)."""
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = (
                frozenset(
                    RoleGrant.objects.effective()
                    .filter(user_id=self.pk)
                    .values_list("role", flat=True)
                )
                if self.pk
                else frozenset()
            )
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def forget_roles(self) -> None:
        self.__dict__.pop("_roles_cache", None)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret=None):
        """Sessions carry an HMAC of the password AND the session epoch: changing either ends
        every session signed in before (Django's own hash covers the password alone)."""
        if not self.session_epoch:
            # Unchanged for accounts whose sessions were never ended this way: no sign-out on
            # upgrade.
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "streha.accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class RoleGrantQuerySet(models.QuerySet):
    def live(self):
        """Not revoked: pending or in effect."""
        return self.filter(revoked_at__isnull=True)

    def effective(self):
        """Approved and not revoked: the grants the access policy counts."""
        return self.filter(revoked_at__isnull=True, approved_at__isnull=False)

    def pending(self):
        return self.filter(revoked_at__isnull=True, approved_at__isnull=True)


class RoleGrant(models.Model):
    """One role given to one user, from request to (perhaps) revocation.

    A grant that needs a second administrator's approval (roles carrying access to personal
    data) has no ``approved_at`` until then and gives nothing. Revoking sets ``revoked_at``;
    the row stays, so the history of who held what is kept.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    granted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    approved_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        ordering = ["granted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_grant_per_role",
            )
        ]
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}"

    @property
    def is_pending(self) -> bool:
        return self.approved_at is None and self.revoked_at is None

    @property
    def is_effective(self) -> bool:
        return self.approved_at is not None and self.revoked_at is None


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Create and change")


class ApiToken(models.Model):
    """A credential for a machine client of one agency.

    Only a SHA-256 digest of the secret is stored; the secret is shown once, to the
    administrator who issues it. The client acts as ``user``, which must be a service account
    (never a person: a token acting as a colleague would put its reads under their name), with
    that account's roles, limited further by ``scopes``; every token expires.
    """

    PREFIX = "strh"

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key prefix"), max_length=16, db_index=True)
    key_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def allows(self, method: str) -> bool:
        """Does a scope of this token cover an HTTP ``method``? Reads need ``read``; anything
        else needs ``write``."""
        needed = (
            TokenScope.READ if method.upper() in {"GET", "HEAD", "OPTIONS"} else TokenScope.WRITE
        )
        return needed in (self.scopes or [])
