"""Persons: victims, presumed victims, witnesses and others a case is about.

Identifying fields (``IDENTITY_FIELDS``) are the ones the protected-data mechanism encrypts;
they are declared with ``IdentityField``/``IdentityDateField`` so that moving them under
encryption changes those two definitions, not every model. The other fields are the
non-identifying attributes national statistics are made of.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

IdentityField = models.CharField
IdentityDateField = models.DateField


class Gender(models.TextChoices):
    """HTCDS v2.0 ``Gender`` values."""

    FEMININE = "feminine", _("Female")
    MASCULINE = "masculine", _("Male")
    TRANSGENDER_FEMININE = "transgender_feminine", _("Transgender female")
    TRANSGENDER_MASCULINE = "transgender_masculine", _("Transgender male")
    NON_CONFORMING = "non_conforming", _("Gender non-conforming")
    UNKNOWN = "unknown", _("Not specified or unknown")


class Person(models.Model):
    IDENTITY_FIELDS = (
        "given_name",
        "family_name",
        "aliases",
        "date_of_birth",
        "personal_number",
        "passport_number",
        "phone",
        "address",
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    owner_agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="persons", verbose_name=_("agency")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    given_name = IdentityField(_("given name"), max_length=100)
    family_name = IdentityField(_("family name"), max_length=100, blank=True)
    aliases = IdentityField(_("aliases"), max_length=300, blank=True)
    date_of_birth = IdentityDateField(_("date of birth"), null=True, blank=True)
    personal_number = IdentityField(_("personal number"), max_length=30, blank=True)
    passport_number = IdentityField(_("passport number"), max_length=30, blank=True)
    phone = IdentityField(_("phone"), max_length=40, blank=True)
    address = IdentityField(_("address"), max_length=300, blank=True)

    gender = models.CharField(
        _("gender"), max_length=30, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birth_year = models.PositiveSmallIntegerField(
        _("year of birth"), null=True, blank=True, help_text=_("For statistics by age group.")
    )
    citizenship = models.CharField(
        _("citizenship"), max_length=2, blank=True, help_text=_("ISO 3166 two-letter code")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [models.Index(fields=["owner_agency", "-created_at"])]

    def __str__(self) -> str:
        # Never the name: this string ends up in logs, admin history and error reports.
        return self.reference
