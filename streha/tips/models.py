"""The public campaign's pages and the anonymous tip line.

A tip stores nothing about the person who sent it: no address, no browser, no exact time (the
day only). What they wrote is encrypted like any identifying data. The receipt code and
passphrase that let them come back are stored only as a keyed hash and a password hash.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from streha.protection.fields import ProtectedCharField, ProtectedTextField
from streha.protection.models import ProtectedModel


class CampaignPage(models.Model):
    """A public page, one text per official language, edited by the coordinator's staff."""

    slug = models.SlugField(_("address"), max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    published = models.BooleanField(_("published"), default=True)
    title_sq = models.CharField(_("title (Albanian)"), max_length=200)
    title_sr = models.CharField(_("title (Serbian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_sq = models.TextField(_("text (Albanian)"))
    body_sr = models.TextField(_("text (Serbian)"))
    body_en = models.TextField(_("text (English)"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("campaign page")
        verbose_name_plural = _("campaign pages")

    def __str__(self) -> str:
        return self.slug

    def _suffix(self) -> str:
        language = (get_language() or "sq").lower()
        return "sr" if language.startswith("sr") else "en" if language.startswith("en") else "sq"

    @property
    def title(self) -> str:
        return getattr(self, f"title_{self._suffix()}")

    @property
    def paragraphs(self) -> list[str]:
        """The text as paragraphs (blank-line separated); rendered escaped, never as HTML."""
        body = getattr(self, f"body_{self._suffix()}")
        body = body.replace("{hotline}", settings.STREHA_HOTLINE_NUMBER).replace(
            "{emergency}", settings.STREHA_EMERGENCY_NUMBER
        )
        return [part.strip() for part in body.replace("\r\n", "\n").split("\n\n") if part.strip()]


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    PHONE = "phone", _("Phone")


class Category(models.TextChoices):
    UNKNOWN = "unknown", _("Not yet known")
    SEXUAL_EXPLOITATION = "sexual_exploitation", _("Sexual exploitation")
    FORCED_LABOUR = "forced_labour", _("Forced labour")
    FORCED_BEGGING = "forced_begging", _("Forced begging")
    CHILD_TRAFFICKING = "child_trafficking", _("Child trafficking")
    OTHER = "other", _("Other")


class TipStatus(models.TextChoices):
    NEW = "new", _("New")
    TRIAGE = "triage", _("In triage")
    ASSIGNED = "assigned", _("Assigned")
    CONVERTED = "converted", _("Converted")
    CLOSED = "closed", _("Closed")


class ConversionKind(models.TextChoices):
    POLICE_REPORT = "police_report", _("Police report")
    VICTIM_CASE = "victim_case", _("Victim case")


class Tip(ProtectedModel):
    FIELD_GROUP = "identity"  # a tip may name victims and suspects: read as identifying data

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.CharField(
        _("category"), max_length=30, choices=Category.choices, default=Category.UNKNOWN
    )
    what_seen = ProtectedTextField(_("what was seen"))
    where = ProtectedTextField(_("where"), blank=True)
    when = ProtectedCharField(_("when"), max_length=200, blank=True)
    contact = ProtectedTextField(_("contact for a call back"), blank=True)
    municipality = models.ForeignKey(
        "places.Municipality", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    child_involved = models.BooleanField(_("a child is involved"), default=False)
    immediate_danger = models.BooleanField(_("someone is in immediate danger"), default=False)
    # 2 = immediate danger, 1 = a child, 0 = other: the queue is read in this order.
    priority = models.PositiveSmallIntegerField(default=0, editable=False)
    # The day only: an exact time could identify who sent it.
    received_on = models.DateField(_("received"))
    status = models.CharField(
        _("status"), max_length=20, choices=TipStatus.choices, default=TipStatus.NEW
    )
    assigned_agency = models.ForeignKey(
        "accounts.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tips",
        verbose_name=_("assigned to"),
    )
    converted_to = models.CharField(
        _("converted into"),
        max_length=100,
        blank=True,
        help_text=_("Reference of the police report or victim case made from this tip."),
    )
    # What the tip became. ``converted_to`` is the reference as text so that the link holds
    # for police reports kept outside this system; a victim case opened from the tip is also
    # linked by ``case`` (its reference is copied into ``converted_to``).
    converted_kind = models.CharField(
        _("converted into a"), max_length=20, choices=ConversionKind.choices, blank=True
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="tips",
        verbose_name=_("victim case"),
    )
    # Set when the retention period ended and the content was erased; figures fields remain.
    erased_on = models.DateField(_("content erased"), null=True, blank=True, editable=False)
    # NULL for phone tips, which have no receipt; unique among those that do.
    receipt_digest = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    passphrase_hash = models.CharField(max_length=200, blank=True, editable=False)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-priority", "received_on", "pk"]
        indexes = [models.Index(fields=["status", "-priority", "received_on"])]
        verbose_name = _("tip")
        verbose_name_plural = _("tips")

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def reference(self) -> str:
        return f"T-{str(self.public_id)[:8].upper()}"


class TipMessage(ProtectedModel):
    """A message in the tip's anonymous drop box: more information, or an operator's reply."""

    class Author(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        OPERATOR = "operator", _("Hotline")

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=Author.choices)
    body = ProtectedTextField(_("message"))
    sent_on = models.DateField(_("sent"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.tip_id}:{self.pk}"
