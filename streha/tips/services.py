"""Writes of the tip line: anonymous reports and follow-ups, the hotline's triage and replies.

Every function validates completely before it writes, in one transaction, so a refused report
leaves nothing behind. Every staff read and write is audited. The public's own writes (a report,
a follow-up message) are deliberately not: an audit event would record the exact time of the
report, which could single out the reporter; the tip keeps the day only.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import Agency, AgencyKind, User
from streha.audit import services as audit
from streha.places.models import Municipality
from streha.protection import crypto, keys
from streha.protection.retention import apply_in_batches
from streha.tips.models import (
    CampaignPage,
    Category,
    Channel,
    ConversionKind,
    Tip,
    TipMessage,
    TipStatus,
)

LIMITS = {"what_seen": 5000, "where": 500, "when": 200, "contact": 300, "body": 5000}
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
PASSPHRASE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet


@dataclass(frozen=True)
class Receipt:
    code: str
    passphrase: str


def _clean_text(values: dict, required: tuple[str, ...]) -> dict:
    cleaned, errors = {}, {}
    for name, value in values.items():
        text = value if isinstance(value, str) else ""
        text = text.replace("\r\n", "\n").strip()
        if "\x00" in text or any(ord(char) < 32 and char not in "\n\t" for char in text):
            errors[name] = _("The text contains characters that are not allowed.")
        elif len(text) > LIMITS[name]:
            errors[name] = _("Please keep this under %(limit)d characters.") % {
                "limit": LIMITS[name]
            }
        elif name in required and not text:
            errors[name] = _("Please fill this in.")
        cleaned[name] = text
    if errors:
        raise ValidationError(errors)
    return cleaned


def _group(text: str, size: int = 4) -> str:
    return "-".join(text[i : i + size] for i in range(0, len(text), size))


def normalise_code(code: str) -> str:
    return "".join(char for char in code.upper() if char.isalnum())


def _receipt_digest(code: str) -> str:
    return crypto.blind_index(keys.keyring().index_key, "tip.receipt", normalise_code(code))


def _new_receipt() -> Receipt:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    passphrase = "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(16))
    return Receipt(code=_group(code), passphrase=_group(passphrase))


def _priority(immediate_danger: bool, child_involved: bool) -> int:
    return 2 if immediate_danger else 1 if child_involved else 0


@transaction.atomic
def submit_report(
    *,
    what_seen: str,
    where: str = "",
    when: str = "",
    contact: str = "",
    municipality: Municipality | None = None,
    child_involved: bool = False,
    immediate_danger: bool = False,
) -> tuple[Tip, Receipt]:
    """An anonymous report from the public. Returns the tip and its receipt (shown once)."""
    text = _clean_text(
        {"what_seen": what_seen, "where": where, "when": when, "contact": contact},
        required=("what_seen",),
    )
    receipt = _new_receipt()
    tip = Tip(
        channel=Channel.WEB,
        municipality=municipality,
        child_involved=bool(child_involved),
        immediate_danger=bool(immediate_danger),
        priority=_priority(immediate_danger, child_involved),
        received_on=timezone.localdate(),
        receipt_digest=_receipt_digest(receipt.code),
        passphrase_hash=make_password(normalise_code(receipt.passphrase).lower()),
        **text,
    )
    tip.save()
    # No audit event: the public is not an accountable user, and an event would keep the exact
    # time of the report that the tip itself deliberately drops. Staff reads are audited.
    return tip, receipt


def open_receipt(code: str, passphrase: str) -> Tip | None:
    """The tip behind a receipt, or None. Both wrong and unknown look the same to the caller."""
    tip = Tip.objects.filter(receipt_digest=_receipt_digest(code or "")).first()
    if tip is None:
        make_password(passphrase or "")  # spend the same time as a real check
        return None
    if not check_password(normalise_code(passphrase or "").lower(), tip.passphrase_hash):
        return None
    return tip


@transaction.atomic
def add_reporter_message(tip: Tip, body: str) -> TipMessage:
    text = _clean_text({"body": body}, required=("body",))
    message = TipMessage(
        tip=tip, author=TipMessage.Author.REPORTER, body=text["body"], sent_on=timezone.localdate()
    )
    message.save()
    if tip.status == TipStatus.CLOSED:
        tip.status = TipStatus.TRIAGE
        tip.save(update_fields=["status", "data_key"])
    # Not audited, for the same reason as ``submit_report``: no exact time of the reporter.
    return message


# --- The hotline ----------------------------------------------------------------------------------


@transaction.atomic
def log_phone_call(
    actor: User,
    *,
    what_seen: str,
    where: str = "",
    when: str = "",
    contact: str = "",
    municipality: Municipality | None = None,
    child_involved: bool = False,
    immediate_danger: bool = False,
    category: str = Category.UNKNOWN,
    request=None,
) -> Tip:
    """A call to the hotline, entered by the operator into the same queue (channel "phone")."""
    policy.require(policy.can_triage_tips(actor))
    text = _clean_text(
        {"what_seen": what_seen, "where": where, "when": when, "contact": contact},
        required=("what_seen",),
    )
    if category not in Category.values:
        raise ValidationError({"category": _("Unknown category.")})
    tip = Tip(
        channel=Channel.PHONE,
        category=category,
        municipality=municipality,
        child_involved=bool(child_involved),
        immediate_danger=bool(immediate_danger),
        priority=_priority(immediate_danger, child_involved),
        received_on=timezone.localdate(),
        logged_by=actor,
        **text,
    )
    tip.save()
    audit.record(
        actor,
        audit.Action.CREATE,
        obj=tip,
        field_groups=[Tip.FIELD_GROUP],
        purpose="hotline call",
        request=request,
    )
    return tip


@transaction.atomic
def triage(
    actor: User,
    tip: Tip,
    *,
    category: str,
    status: str,
    assigned_agency: Agency | None,
    request=None,
) -> Tip:
    policy.require(policy.can_triage_tips(actor))
    errors = {}
    if category not in Category.values:
        errors["category"] = _("Unknown category.")
    if status not in TipStatus.values or status == TipStatus.CONVERTED:
        errors["status"] = _("Choose a status; conversion has its own action.")
    if status == TipStatus.ASSIGNED and assigned_agency is None:
        errors["assigned_agency"] = _("Choose the agency the tip is assigned to.")
    if (
        tip.immediate_danger
        and status == TipStatus.ASSIGNED
        and assigned_agency is not None
        and assigned_agency.kind != AgencyKind.POLICE
    ):
        errors["assigned_agency"] = _(
            "Someone is in immediate danger: assign the tip to the police."
        )
    if errors:
        raise ValidationError(errors)
    tip.category, tip.status, tip.assigned_agency = category, status, assigned_agency
    tip.save()
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=tip,
        purpose="triage",
        request=request,
        details={
            "status": status,
            "category": category,
            "assigned_agency": assigned_agency.code if assigned_agency else "",
        },
    )
    return tip


@transaction.atomic
def reply(actor: User, tip: Tip, body: str, *, request=None) -> TipMessage:
    """A reply the reporter reads with their receipt."""
    policy.require(policy.can_triage_tips(actor))
    if tip.channel != Channel.WEB:
        raise ValidationError({"body": _("Phone tips have no receipt to reply to.")})
    text = _clean_text({"body": body}, required=("body",))
    message = TipMessage(
        tip=tip, author=TipMessage.Author.OPERATOR, body=text["body"], sent_on=timezone.localdate()
    )
    message.save()
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=tip,
        field_groups=[Tip.FIELD_GROUP],
        purpose="reply to reporter",
        request=request,
    )
    return message


@transaction.atomic
def convert(
    actor: User,
    tip: Tip,
    *,
    reference: str,
    kind: str = ConversionKind.POLICE_REPORT,
    request=None,
) -> Tip:
    """Record that the tip became a police report or a victim case, keeping the link."""
    policy.require(policy.can_triage_tips(actor))
    reference = (reference or "").strip()
    errors = {}
    if not reference or len(reference) > 100:
        errors["reference"] = _(
            "Give the reference of the police report or case (up to 100 characters)."
        )
    if kind not in ConversionKind.values:
        errors["kind"] = _("Choose what the tip became.")
    if errors:
        raise ValidationError(errors)
    tip.converted_to = reference
    tip.converted_kind = kind
    tip.status = TipStatus.CONVERTED
    tip.save()
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=tip,
        purpose="converted",
        request=request,
        details={"converted_to": reference, "kind": kind},
    )
    return tip


# --- Retention ----------------------------------------------------------------------------------

DEFAULT_RETENTION_DAYS = 2 * 365


def retention_due(today=None):
    """Closed or converted tips received more than the retention period ago, not yet erased.
    Open tips stay until an operator closes them."""
    today = today or timezone.localdate()
    days = settings.STREHA_RETENTION_DAYS.get("tips.tip", DEFAULT_RETENTION_DAYS)
    return Tip.objects.filter(
        erased_on__isnull=True,
        status__in=(TipStatus.CLOSED, TipStatus.CONVERTED),
        received_on__lt=today - timedelta(days=days),
    )


@transaction.atomic
def erase_tip(tip: Tip, *, reason: str, actor: User | None = None) -> Tip:
    """Erase what the tip says and its messages, and retire its receipt; the triage fields
    (day, channel, category, municipality, status, conversion) stay for the figures."""
    tip.what_seen = tip.where = tip.when = tip.contact = ""
    tip.receipt_digest = None
    tip.passphrase_hash = ""
    tip.erased_on = timezone.localdate()
    tip.save()
    messages, _deleted = tip.messages.all().delete()
    audit.record(
        actor,
        audit.Action.ANONYMISE,
        obj=tip,
        field_groups=[Tip.FIELD_GROUP],
        purpose=reason,
        details={"messages_deleted": messages},
    )
    return tip


def apply_retention(*, batch: int = 500, today=None) -> int:
    """Erase every tip past retention, one transaction per tip (resumable)."""
    return apply_in_batches(
        lambda: retention_due(today),
        lambda tip: erase_tip(tip, reason="retention period ended"),
        batch=batch,
    )


# --- Campaign pages ------------------------------------------------------------------------


@transaction.atomic
def save_campaign_page(actor: User, page: CampaignPage, **values) -> CampaignPage:
    policy.require(policy.can_edit_campaign(actor))
    for name, value in values.items():
        setattr(page, name, value)
    page.updated_by = actor
    page.full_clean()
    page.save()
    return page


def hotline_number() -> str:
    return settings.STREHA_HOTLINE_NUMBER
