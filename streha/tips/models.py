"""The public campaign's pages and the anonymous tip line.

A tip stores nothing about the person who sent it: no address, no browser, no exact time (the
day only), and no sequential id (ids are random, so they do not order tips within a day). What
they wrote is sealed to the hotline unit's public key (``streha.tips.sealing``): the server
cannot read it. In clear stays only what the queue needs and the reporter chose to give:
category, municipality, child involved, immediate danger, day received. The receipt code is
stored as a keyed hash; the passphrase not at all (the reporter's public key is derived from it).
"""

import secrets
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


def random_id() -> int:
    """A random primary key: a sequential one would order the tips of a day by arrival."""
    return secrets.randbelow(2**62) + 1


class TipLineKey(models.Model):
    """A key pair of the hotline unit. The public half seals new tips; the private half exists
    only sealed to each member (``KeySlot``). A new pair replaces the current one whenever a
    member leaves, so that a removed member cannot read what comes after."""

    public_key = models.CharField(max_length=64, unique=True)
    current = models.BooleanField(default=True)
    created_on = models.DateField()

    class Meta:
        verbose_name = _("tip-line key")
        verbose_name_plural = _("tip-line keys")

    def __str__(self) -> str:
        return f"tip-line key {self.pk}"


class TipLineMember(models.Model):
    """A member of the national hotline unit: a recipient of the tip line.

    The member's own key pair is made at their first sign-in; its private half is locked under
    the secret they sign in with (never stored). ``added_on`` is empty until the hotline
    supervisor adds them, which seals the unit's private keys to them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tip_line_member"
    )
    public_key = models.CharField(max_length=64)
    locked_private_key = models.TextField()
    added_on = models.DateField(_("added"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("hotline unit member")
        verbose_name_plural = _("hotline unit members")

    def __str__(self) -> str:
        return f"member {self.user_id}"


class KeySlot(models.Model):
    """One unit private key, sealed to one member's public key."""

    tip_line_key = models.ForeignKey(TipLineKey, on_delete=models.CASCADE, related_name="slots")
    member = models.ForeignKey(TipLineMember, on_delete=models.CASCADE, related_name="slots")
    sealed_private_key = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tip_line_key", "member"], name="one_slot_per_member")
        ]

    def __str__(self) -> str:
        return f"slot {self.tip_line_key_id}:{self.member_id}"


class Tip(ProtectedModel):
    FIELD_GROUP = "identity"  # a tip may name victims and suspects: read as identifying data

    id = models.BigIntegerField(primary_key=True, default=random_id, editable=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.CharField(
        _("category"), max_length=30, choices=Category.choices, default=Category.UNKNOWN
    )
    # What was reported (what, where, when, contact, and whether the contact may be passed on),
    # sealed to the unit key ``sealed_to``. Only a member who signed in can open it.
    sealed_to = models.ForeignKey(
        TipLineKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sealed_report = models.TextField(blank=True, editable=False)
    # The reporter's public key (derived from receipt and passphrase): replies are sealed to it.
    reporter_public_key = models.CharField(max_length=64, blank=True, editable=False)
    # What the operator forwarded to the assigned agency, which reads it through the access
    # policy; the contact only when the reporter agreed to it being passed on.
    # NULL for tips from before forwarding existed (a protected field has no empty default).
    forwarded_text = ProtectedTextField(  # noqa: DJ001
        _("forwarded to the agency"), blank=True, null=True
    )
    forwarded_contact = ProtectedTextField(  # noqa: DJ001
        _("contact forwarded to the agency"), blank=True, null=True
    )
    # Legacy: content from before the tip line was sealed, under the server's keys. Sealed to
    # the unit key and emptied when the tip line starts (``services.start_tip_line``); never
    # written again. Their names stay because the stored ciphertext is bound to them.
    what_seen = ProtectedTextField(blank=True, editable=False)
    where = ProtectedTextField(blank=True, editable=False)
    when = ProtectedCharField(max_length=200, blank=True, editable=False)
    contact = ProtectedTextField(blank=True, editable=False)
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
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-priority", "received_on", "public_id"]
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

    id = models.BigIntegerField(primary_key=True, default=random_id, editable=False)
    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="messages")
    # The message's place in its thread: ids are random, and a time would be metadata.
    number = models.PositiveIntegerField(default=0)
    author = models.CharField(max_length=10, choices=Author.choices)
    sealed_to = models.ForeignKey(
        TipLineKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sealed_for_hotline = models.TextField(blank=True, editable=False)
    sealed_for_reporter = models.TextField(blank=True, editable=False)
    body = ProtectedTextField(blank=True, editable=False)  # legacy, as ``Tip.what_seen``
    sent_on = models.DateField(_("sent"))

    class Meta:
        ordering = ["number"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.tip_id}:{self.pk}"
