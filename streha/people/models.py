"""Persons: victims, presumed victims, witnesses and others a case is about.

Identifying fields are encrypted at rest (``streha.protection``) and grouped
(``FIELD_GROUPS``) so the access policy can grant a user some groups and not others. The
remaining fields are the non-identifying attributes national statistics are made of.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from streha.protection.crypto import normalise_identifier, normalise_name
from streha.protection.fields import (
    BlindIndexField,
    ProtectedBinaryField,
    ProtectedCharField,
    ProtectedDateField,
    ProtectedTextField,
)
from streha.protection.models import ProtectedModel
from streha.protection.token_search import NameTokenIndex

IdentityField = ProtectedCharField
IdentityDateField = ProtectedDateField


class Gender(models.TextChoices):
    """HTCDS v2.0 ``Gender`` values."""

    FEMININE = "feminine", _("Female")
    MASCULINE = "masculine", _("Male")
    TRANSGENDER_FEMININE = "transgender_feminine", _("Transgender female")
    TRANSGENDER_MASCULINE = "transgender_masculine", _("Transgender male")
    NON_CONFORMING = "non_conforming", _("Gender non-conforming")
    UNKNOWN = "unknown", _("Not specified or unknown")


class PersonQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """An update that writes names (ciphertexts put back, a first-format upgrade) leaves the
        persons' per-name entries as they were: it unmarks them (``name_keys_marker``), so
        search keeps finding them through the whole-name index until they are re-indexed."""
        if set(kwargs) & set(self.model.NAME_TOKENS.source) and "name_keys_marker" not in kwargs:
            kwargs["name_keys_marker"] = None
        return super().update(**kwargs)


class Person(ProtectedModel):
    # Which protected fields belong to which field group (see streha.access.policy.FieldGroup).
    FIELD_GROUPS = {
        "identity": (
            "given_name",
            "family_name",
            "aliases",
            "date_of_birth",
            "personal_number",
            "passport_number",
        ),
        "contact": ("phone", "address"),
        "narrative": ("narrative",),
        "health": ("health_notes",),
    }

    objects = PersonQuerySet.as_manager()

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    owner_agency = models.ForeignKey(
        "accounts.Agency",
        on_delete=models.PROTECT,
        related_name="persons",
        verbose_name=_("agency"),
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
    narrative = ProtectedTextField(
        _("account of exploitation"), blank=True, help_text=_("In the person's own words.")
    )
    health_notes = ProtectedTextField(_("health notes"), blank=True)

    # Indexed with ``name_keys_marker`` (Meta.indexes), not alone: the whole-name search
    # fallback reads only the holders whose per-name entries are not current.
    name_index = BlindIndexField(
        purpose="person.full_name",
        source=("given_name", "family_name"),
        normaliser=normalise_name,
        db_index=False,
    )
    personal_number_index = BlindIndexField(
        purpose="person.personal_number",
        source=("personal_number",),
        normaliser=normalise_identifier,
    )
    passport_number_index = BlindIndexField(
        purpose="person.passport_number",
        source=("passport_number",),
        normaliser=normalise_identifier,
    )
    # Under which name-index configuration (key and bits) this person's ``PersonNameKey``
    # entries were written, set only by ``streha.people.name_index`` in the transaction that
    # writes them. NULL (the default of every other write: a bulk insert, raw SQL, a fixture,
    # a change of names) or another configuration: the entries may be missing or stale, and
    # search looks for the person through the whole-name index as well.
    name_keys_marker = models.CharField(  # noqa: DJ001 (NULL: what a raw write leaves)
        max_length=24, null=True, blank=True, editable=False
    )
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

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
        indexes = [
            models.Index(fields=["owner_agency", "-created_at"]),
            # The list's order over persons shared with an agency (its access grants): newest
            # first, the planner walks this and probes the grants, rather than reading every
            # shared person to sort them (169 -> 10 ms at 1,000,000 persons on PostgreSQL).
            models.Index(fields=["-created_at", "-id"], name="person_created_idx"),
            # The whole-name index's lookups, and its fallback for persons whose per-name
            # entries are not current: (value, marker) answers "holders of this value whose
            # marker is NULL or not the current one" from the index, reading nothing when
            # every holder is current.
            models.Index(fields=["name_index", "name_keys_marker"], name="person_name_marker_idx"),
        ]
        # ORM updates of names go through ``PersonQuerySet.update`` (which unmarks them), also
        # from internal code using the base manager.
        base_manager_name = "objects"

    # Single names (given, family, aliases), one index entry each (``PersonNameKey``), so that a
    # search by any one name, in either language's spelling, finds the person.
    NAME_TOKENS = NameTokenIndex(
        purpose="person.name_token", source=("given_name", "family_name", "aliases")
    )

    def __str__(self) -> str:
        # Never the name: this string ends up in logs, admin history and error reports.
        return self.reference

    def save(self, *args, **kwargs):
        # A new person, or names assigned: the row is written unmarked, and only the writer of
        # its entries (``name_index.rewrite``, after this save) marks it current.
        if self._state.adding or self.NAME_TOKENS.source_changed(self):
            self.name_keys_marker = None
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "name_keys_marker"}
        super().save(*args, **kwargs)


class PersonNameKey(models.Model):
    """One blind-index entry per name of a person: the truncated keyed hash of the name's
    spelling key (``streha.protection.name_keys``), shared by several different names.

    Given, family and other names share one index and one key, so an entry does not say which
    of the person's names it stands for. Each pair of a person's entries has an entry too
    (``token_search.with_pairs``), which a search by two names reads instead of intersecting
    thousands of holders of each. Rewritten whenever a name changes
    (``streha.people.name_index``), emptied when the person is anonymised."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_keys")
    # One entry (``t10:3fa``), or a pair of them (``t10:0b1&t10:3fa``) up to 64 bits each.
    digest = models.CharField(max_length=48)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest", "person"], name="person_name_key_unique")
        ]

    def __str__(self) -> str:
        return self.digest


class PersonDocument(ProtectedModel):
    """An uploaded document about a person (ID scan, medical letter...), encrypted in the
    database with the document's own data key. Visible with the person's identity group."""

    FIELD_GROUP = "identity"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="documents")
    title = ProtectedCharField(_("title"), max_length=200)
    file_name = ProtectedCharField(_("file name"), max_length=255)
    content = ProtectedBinaryField(_("content"))
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return str(self.public_id)
