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
from streha.audit import read_context
from streha.audit import services as audit
from streha.cases import services as cases
from streha.cases.models import ExploitationType, Source
from streha.people import services as people
from streha.people.models import Gender
from streha.places.catalogues import countries
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
    read_context.opened_with_receipt(tip)  # the reporter's own report: see there why unaudited
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


# Tip categories that name a form of exploitation, and the case's value for it
# (``streha.cases.models.ExploitationType``). Child trafficking is not a form of exploitation
# (the conversion form proposes "child" for it instead); "unknown" and "other" give none.
CATEGORY_EXPLOITATION = {
    Category.SEXUAL_EXPLOITATION: ExploitationType.SEXUAL,
    Category.FORCED_LABOUR: ExploitationType.FORCED_LABOUR,
    Category.FORCED_BEGGING: ExploitationType.FORCED_BEGGING,
}
# A person's given name is required; when the caller did not give one the person is
# registered as "N.N." (nomen nescio), as police records in the region do.
UNKNOWN_GIVEN_NAME = "N.N."
PERSON_FIELDS = ("given_name", "family_name", "gender", "birth_year", "citizenship")
NAME_LIMIT = 100
EARLIEST_BIRTH_YEAR = 1900


def can_open_case_from_tip(user: User) -> bool:
    """Opening a victim case from a tip registers a person and opens a case: both rights."""
    return policy.can_open_cases(user) and policy.can_register_persons(user)


def _clean_person(values: dict) -> dict:
    """The presumed victim's identity as the operator gave it (any part may be missing), checked
    completely here so that nothing is written when a part is wrong. Errors never quote it."""
    unknown = set(values) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    cleaned, errors = {}, {}
    for name in ("given_name", "family_name"):
        text = values.get(name) or ""
        text = (text if isinstance(text, str) else "").strip()
        if any(ord(char) < 32 for char in text):
            errors[name] = _("The text contains characters that are not allowed.")
        elif len(text) > NAME_LIMIT:
            errors[name] = _("Please keep this under %(limit)d characters.") % {"limit": NAME_LIMIT}
        elif text:
            cleaned[name] = text
    gender = values.get("gender") or Gender.UNKNOWN
    if gender not in Gender.values:
        errors["gender"] = _("Choose one of the listed values.")
    elif gender != Gender.UNKNOWN:
        cleaned["gender"] = gender
    birth_year = values.get("birth_year")
    if birth_year not in (None, ""):
        if (
            not isinstance(birth_year, int)
            or isinstance(birth_year, bool)
            or not EARLIEST_BIRTH_YEAR <= birth_year <= timezone.localdate().year
        ):
            errors["birth_year"] = _("Give a year between %(first)d and this year.") % {
                "first": EARLIEST_BIRTH_YEAR
            }
        else:
            cleaned["birth_year"] = birth_year
    citizenship = values.get("citizenship") or ""
    citizenship = (citizenship if isinstance(citizenship, str) else "?").strip().upper()
    if citizenship and citizenship not in countries:
        errors["citizenship"] = _("Give the country's two-letter code (ISO 3166), e.g. XK.")
    elif citizenship:
        cleaned["citizenship"] = citizenship
    if errors:
        raise ValidationError(errors)
    cleaned.setdefault("given_name", UNKNOWN_GIVEN_NAME)
    return cleaned


@transaction.atomic
def convert(
    actor: User,
    tip: Tip,
    *,
    kind: str = ConversionKind.POLICE_REPORT,
    reference: str = "",
    person: dict | None = None,
    needs_urgent_shelter: bool = False,
    needs_urgent_medical: bool = False,
    is_child: bool = False,
    request=None,
) -> Tip:
    """Record what the tip became, keeping the link.

    A police report is kept outside this system: the operator types its reference. A victim
    case is opened here and now, in the actor's agency: a presumed person is registered with
    whatever identity the operator has (``person``, possibly nothing), a case is opened for
    them (source "hotline tip", first contact on the day the tip came in) and the tip keeps
    the case. All of it or nothing: if the case cannot be opened, no person is left behind.
    """
    policy.require(policy.can_triage_tips(actor))
    if kind not in ConversionKind.values:
        raise ValidationError({"kind": _("Choose what the tip became.")})
    # Lock the tip: two operators converting it at once must not open two cases.
    tip.refresh_from_db(from_queryset=Tip.objects.select_for_update())
    if tip.case_id is not None:
        raise ValidationError(_("A victim case was already opened from this tip."))
    if tip.status == TipStatus.CONVERTED:
        # The first conversion stays the tip's record; a second would overwrite its reference.
        raise ValidationError(_("This tip was already converted; its record keeps that link."))
    if kind == ConversionKind.VICTIM_CASE:
        return _open_victim_case(
            actor,
            tip,
            reference=reference,
            person=person or {},
            needs_urgent_shelter=bool(needs_urgent_shelter),
            needs_urgent_medical=bool(needs_urgent_medical),
            is_child=bool(is_child),
            request=request,
        )
    given = [value for value in (person or {}).values() if value not in ("", None, Gender.UNKNOWN)]
    if given or needs_urgent_shelter or needs_urgent_medical or is_child:
        raise ValidationError(_("Only a victim case takes a person and first needs."))
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise ValidationError(
            {"reference": _("Give the reference of the police report (up to 100 characters).")}
        )
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


def _open_victim_case(
    actor: User,
    tip: Tip,
    *,
    reference: str,
    person: dict,
    needs_urgent_shelter: bool,
    needs_urgent_medical: bool,
    is_child: bool,
    request=None,
) -> Tip:
    policy.require(
        can_open_case_from_tip(actor),
        _(
            "Your role may not open victim cases, so this tip cannot become one here. "
            "Ask a colleague who opens cases, or record a police report."
        ),
    )
    if tip.immediate_danger and (
        tip.assigned_agency is None or tip.assigned_agency.kind != AgencyKind.POLICE
    ):
        # The triage rule holds here too: the police must have the tip, whatever else follows.
        raise ValidationError(
            _(
                "Someone is in immediate danger: assign the tip to the police before opening "
                "a victim case."
            )
        )
    errors = {}
    if (reference or "").strip():
        errors["reference"] = _(
            "A victim case gets its reference when it opens; leave the reference empty."
        )
    try:
        identity = _clean_person(person)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    exploitation = CATEGORY_EXPLOITATION.get(tip.category)
    registered = people.register_person(
        actor, purpose="tip converted to a victim case", request=request, **identity
    )
    case = cases.open_case(
        actor,
        registered,
        source=Source.HOTLINE,
        first_contact_on=tip.received_on,
        request=request,
        first_contact_municipality=tip.municipality,
        needs_urgent_shelter=needs_urgent_shelter,
        needs_urgent_medical=needs_urgent_medical,
        is_child=is_child,
        exploitation_types=[exploitation] if exploitation else [],
    )
    tip.case = case
    tip.converted_to = case.reference
    tip.converted_kind = ConversionKind.VICTIM_CASE
    tip.status = TipStatus.CONVERTED
    tip.save()
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=tip,
        purpose="converted",
        request=request,
        details={
            "kind": ConversionKind.VICTIM_CASE,
            "converted_to": case.reference,
            "case": str(case.public_id),
            "person": str(registered.public_id),
        },
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
