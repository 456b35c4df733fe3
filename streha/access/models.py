"""Records of access beyond ownership: sharing with another agency, and break-glass."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from streha.protection.fields import ProtectedTextField
from streha.protection.models import ProtectedModel


class FieldGroup(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    CONTACT = "contact", _("Contact")
    HEALTH = "health", _("Health")
    NARRATIVE = "narrative", _("Exploitation narrative")
    INVESTIGATION = "investigation", _("Investigation")
    PROTECTION = "protection", _("Protection measures")
    # A special category of personal data (GDPR Art. 9): its own group, granted sparingly.
    ETHNICITY = "ethnicity", _("Ethnicity")


class ActiveQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, starts_at__lte=at).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )


class AccessGrant(models.Model):
    """An agency may see some field groups of a person it does not own (an accepted referral)."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="grants")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="grants")
    field_groups = models.JSONField(_("field groups"), default=list)
    reason = models.CharField(_("reason"), max_length=200)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["agency", "person"])]
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")

    def __str__(self) -> str:
        return f"{self.agency_id}:{self.person_id}"


class BreakGlassGrant(ProtectedModel):
    """A supervisor opened a record outside their scope, with a written justification.

    Time-limited, flagged on every audit event made under it, and listed for review.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    # The field groups asked for: the access opens these and no others (empty only on
    # accesses opened before groups were asked for, which open the user's role groups).
    field_groups = models.JSONField(_("field groups"), default=list, blank=True)
    # The justification may name the person: it is protected like the record itself.
    justification = ProtectedTextField(_("justification"))
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = ProtectedTextField(_("review note"), blank=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["user", "person"])]
        verbose_name = _("break-glass access")
        verbose_name_plural = _("break-glass accesses")

    def __str__(self) -> str:
        return f"break-glass {self.pk}"
