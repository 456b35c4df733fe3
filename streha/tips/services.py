"""Writes of the tip line: anonymous reports and follow-ups, the hotline's triage and replies.

Every function validates completely before it writes, in one transaction, so a refused report
leaves nothing behind. Every staff read and write is audited. The public's own writes (a report,
a follow-up message) are deliberately not: an audit event would record the exact time of the
report, which could single out the reporter; the tip keeps the day only.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
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
from streha.tips import sealing
from streha.tips.models import (
    CampaignPage,
    Category,
    Channel,
    ConversionKind,
    KeySlot,
    Tip,
    TipLineKey,
    TipLineMember,
    TipMessage,
    TipStatus,
)
from streha.tips.unlock import MemberKey

LIMITS = {
    "what_seen": 5000,
    "where": 500,
    "when": 200,
    "contact": 300,
    "body": 5000,
    "forwarded_text": 5000,
}
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
PASSPHRASE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet


@dataclass(frozen=True)
class Receipt:
    code: str
    passphrase: str


class TipLineClosed(Exception):
    """The tip line has no key yet (the hotline supervisor has not started it)."""


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


def _normalise_passphrase(passphrase: str) -> str:
    return normalise_code(passphrase or "").lower()


def _receipt_digest(code: str) -> str:
    return crypto.blind_index(keys.keyring().index_key, "tip.receipt", normalise_code(code))


def _new_receipt() -> Receipt:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    passphrase = "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(16))
    return Receipt(code=_group(code), passphrase=_group(passphrase))


def _priority(immediate_danger: bool, child_involved: bool) -> int:
    return 2 if immediate_danger else 1 if child_involved else 0


def current_key() -> TipLineKey:
    key = TipLineKey.objects.filter(current=True).order_by("-pk").first()
    if key is None:
        raise TipLineClosed
    return key


def is_open() -> bool:
    return TipLineKey.objects.filter(current=True).exists()


def seal_report(tip: Tip, key: TipLineKey, text: dict, contact_may_be_shared: bool) -> None:
    """Seal what was reported into ``tip``; the tip's id inside binds it to this tip."""
    tip.sealed_to = key
    tip.sealed_report = sealing.seal_json(
        key.public_key,
        {
            "tip": str(tip.public_id),
            "what_seen": text["what_seen"],
            "where": text["where"],
            "when": text["when"],
            "contact": text["contact"],
            "contact_may_be_shared": bool(contact_may_be_shared and text["contact"]),
        },
    )


def _seal_message(message: TipMessage, key: TipLineKey, body: str) -> None:
    payload = {"tip": str(message.tip.public_id), "number": message.number, "body": body}
    message.sealed_to = key
    message.sealed_for_hotline = sealing.seal_json(key.public_key, payload)
    if message.tip.reporter_public_key:
        message.sealed_for_reporter = sealing.seal_json(message.tip.reporter_public_key, payload)


@transaction.atomic
def submit_report(
    *,
    what_seen: str,
    where: str = "",
    when: str = "",
    contact: str = "",
    contact_may_be_shared: bool = False,
    municipality: Municipality | None = None,
    child_involved: bool = False,
    immediate_danger: bool = False,
) -> tuple[Tip, Receipt]:
    """An anonymous report from the public. Returns the tip and its receipt (shown once).

    Everything the reporter wrote is sealed to the hotline unit's key before it is stored; the
    receipt's passphrase is not stored at all (it derives the reporter's key, whose public half
    is kept to seal the hotline's replies).
    """
    text = _clean_text(
        {"what_seen": what_seen, "where": where, "when": when, "contact": contact},
        required=("what_seen",),
    )
    key = current_key()
    receipt = _new_receipt()
    reporter = sealing.reporter_key(
        normalise_code(receipt.code), _normalise_passphrase(receipt.passphrase)
    )
    tip = Tip(
        channel=Channel.WEB,
        municipality=municipality,
        child_involved=bool(child_involved),
        immediate_danger=bool(immediate_danger),
        priority=_priority(immediate_danger, child_involved),
        received_on=timezone.localdate(),
        receipt_digest=_receipt_digest(receipt.code),
        reporter_public_key=sealing.public_text(reporter),
    )
    seal_report(tip, key, text, contact_may_be_shared)
    tip.save()
    # No audit event: the public is not an accountable user, and an event would keep the exact
    # time of the report that the tip itself deliberately drops. Staff reads are audited.
    return tip, receipt


def spend_report_time() -> None:
    """The work of an accepted report, for a refused one: both answer after the same time."""
    sealing.reporter_key("0" * 12, "0" * 16)


@dataclass(frozen=True)
class ReporterAccess:
    tip: Tip
    key: sealing.PrivateKey


def open_receipt(code: str, passphrase: str) -> ReporterAccess | None:
    """The tip behind a receipt and the reporter's key, or None. Wrong and unknown look (and
    take) the same: the key is derived either way."""
    tip = Tip.objects.filter(receipt_digest=_receipt_digest(code or "")).first()
    key = sealing.reporter_key(normalise_code(code or ""), _normalise_passphrase(passphrase))
    if tip is None or not tip.reporter_public_key:
        return None
    if not hmac.compare_digest(sealing.public_text(key), tip.reporter_public_key):
        return None
    read_context.opened_with_receipt(tip)  # the reporter's own report: see there why unaudited
    return ReporterAccess(tip=tip, key=key)


def _next_number(tip: Tip) -> int:
    last = tip.messages.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def add_reporter_message(tip: Tip, body: str) -> TipMessage:
    """More information from the reporter: sealed to the unit, and to the reporter's own key
    so that they see it in their thread."""
    text = _clean_text({"body": body}, required=("body",))
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    message = TipMessage(
        tip=tip,
        number=_next_number(tip),
        author=TipMessage.Author.REPORTER,
        sent_on=timezone.localdate(),
    )
    _seal_message(message, current_key(), text["body"])
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
    contact_may_be_shared: bool = False,
    request=None,
) -> Tip:
    """A call to the hotline, entered by the operator into the same queue (channel "phone"),
    sealed like a web report."""
    policy.require(policy.can_triage_tips(actor))
    text = _clean_text(
        {"what_seen": what_seen, "where": where, "when": when, "contact": contact},
        required=("what_seen",),
    )
    if category not in Category.values:
        raise ValidationError({"category": _("Unknown category.")})
    try:
        key = current_key()
    except TipLineClosed:
        raise ValidationError(_("The tip line has not been started yet.")) from None
    tip = Tip(
        channel=Channel.PHONE,
        category=category,
        municipality=municipality,
        child_involved=bool(child_involved),
        immediate_danger=bool(immediate_danger),
        priority=_priority(immediate_danger, child_involved),
        received_on=timezone.localdate(),
        logged_by=actor,
    )
    seal_report(tip, key, text, contact_may_be_shared)
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


@dataclass(frozen=True)
class Report:
    """What a reporter (or caller) said, opened by a member of the hotline unit."""

    what_seen: str
    where: str
    when: str
    contact: str
    contact_may_be_shared: bool


@transaction.atomic
def triage(
    actor: User,
    tip: Tip,
    *,
    category: str,
    status: str,
    assigned_agency: Agency | None,
    forwarded_text: str = "",
    forward_contact: bool = False,
    report: Report | None = None,
    request=None,
) -> Tip:
    """Categorise, set the status and assign. Assigning forwards to the agency exactly what the
    operator wrote in ``forwarded_text`` (nothing else of the sealed report), and the contact
    only if the operator asks and the reporter agreed (``report`` is the opened report)."""
    policy.require(policy.can_triage_tips(actor))
    errors = {}
    if category not in Category.values:
        errors["category"] = _("Unknown category.")
    if tip.status == TipStatus.CONVERTED:
        errors["status"] = _("This tip was already converted; its record keeps that link.")
    elif status not in TipStatus.values or status == TipStatus.CONVERTED:
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
    try:
        forwarded = _clean_text({"forwarded_text": forwarded_text}, required=())
    except ValidationError as error:
        errors.update(error.message_dict)
        forwarded = {"forwarded_text": ""}
    if forward_contact and (report is None or not report.contact_may_be_shared):
        errors["forward_contact"] = _(
            "The reporter did not agree that their contact may be passed on."
        )
    if errors:
        raise ValidationError(errors)
    changed_agency = assigned_agency != tip.assigned_agency
    tip.category, tip.status, tip.assigned_agency = category, status, assigned_agency
    if assigned_agency is None:
        tip.forwarded_text = tip.forwarded_contact = ""
    else:
        if forwarded["forwarded_text"] or changed_agency:
            tip.forwarded_text = forwarded["forwarded_text"]
        tip.forwarded_contact = report.contact if forward_contact and report else ""
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
            "forwarded": bool(tip.forwarded_text),
            "contact_forwarded": bool(tip.forwarded_contact),
        },
    )
    return tip


@transaction.atomic
def reply(actor: User, tip: Tip, body: str, *, request=None) -> TipMessage:
    """A reply the reporter reads with their receipt: sealed to the reporter's key (and to the
    unit's, for the other operators); the server can read neither."""
    policy.require(policy.can_triage_tips(actor))
    if tip.channel != Channel.WEB or not tip.reporter_public_key:
        raise ValidationError({"body": _("Phone tips have no receipt to reply to.")})
    text = _clean_text({"body": body}, required=("body",))
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    message = TipMessage(
        tip=tip,
        number=_next_number(tip),
        author=TipMessage.Author.OPERATOR,
        sent_on=timezone.localdate(),
    )
    _seal_message(message, current_key(), text["body"])
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


# --- The hotline unit: its keys and members --------------------------------------------------


def _member_of(actor: User) -> TipLineMember:
    member = TipLineMember.objects.filter(user=actor).first()
    if member is None:
        raise ValidationError(
            _("Sign out and sign in again: your tip-line key is made when you sign in.")
        )
    return member


def unit_private_keys(key: MemberKey) -> dict[int, sealing.PrivateKey]:
    """The unit keys sealed to this member, opened with the member's key (for one request)."""
    opened = {}
    for slot in KeySlot.objects.filter(member__user_id=key.user_id):
        try:
            raw = sealing.open_sealed(key.private, slot.sealed_private_key)
        except sealing.Unreadable:
            continue  # sealed to an earlier key pair of this member
        opened[slot.tip_line_key_id] = sealing.private_from_bytes(raw)
    return opened


def _seal_legacy(key: TipLineKey) -> int:
    """Content stored before the tip line was sealed: seal it to ``key``, empty the old fields."""
    count = 0
    for tip in Tip.objects.filter(sealed_report="", erased_on__isnull=True):
        text = {"what_seen": tip.what_seen, "where": tip.where, "when": tip.when}
        text["contact"] = tip.contact
        seal_report(tip, key, text, contact_may_be_shared=False)
        tip.what_seen = tip.where = tip.when = tip.contact = ""
        tip.save()
        count += 1
    for message in TipMessage.objects.filter(sealed_for_hotline="").select_related("tip"):
        body = message.body
        _seal_message(message, key, body)
        message.body = ""
        message.save()
    return count


@transaction.atomic
def start_tip_line(actor: User, key: MemberKey, *, request=None) -> TipLineKey:
    """The hotline supervisor makes the unit's first key pair and becomes its first member."""
    policy.require(policy.can_manage_tip_line(actor))
    if key.user_id != actor.pk:
        raise PermissionDenied
    if TipLineKey.objects.exists():
        raise ValidationError(_("The tip line is already started."))
    member = _member_of(actor)
    private = sealing.new_key_pair()
    unit_key = TipLineKey.objects.create(
        public_key=sealing.public_text(private), created_on=timezone.localdate()
    )
    KeySlot.objects.create(
        tip_line_key=unit_key,
        member=member,
        sealed_private_key=sealing.seal(member.public_key, bytes(private)),
    )
    member.added_on, member.added_by = timezone.localdate(), actor
    member.save()
    sealed = _seal_legacy(unit_key)
    audit.record(
        actor,
        audit.Action.CREATE,
        obj=unit_key,
        purpose="tip line started",
        request=request,
        details={"legacy_tips_sealed": sealed},
    )
    return unit_key


@transaction.atomic
def add_member(actor: User, key: MemberKey, member: TipLineMember, *, request=None):
    """The supervisor re-seals every unit key they hold to the new member's public key."""
    policy.require(policy.can_manage_tip_line(actor))
    if key.user_id != actor.pk:
        raise PermissionDenied
    if not policy.may_join_tip_line(member.user):
        raise ValidationError(_("Only hotline operators join the hotline unit."))
    held = unit_private_keys(key)
    if not held:
        raise ValidationError(_("You hold no tip-line key to share."))
    for key_id, private in held.items():
        KeySlot.objects.update_or_create(
            tip_line_key_id=key_id,
            member=member,
            defaults={"sealed_private_key": sealing.seal(member.public_key, bytes(private))},
        )
    member.added_on, member.added_by = timezone.localdate(), actor
    member.save()
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=member,
        purpose="hotline unit member added",
        request=request,
        details={"user": member.user_id},
    )
    return member


@transaction.atomic
def remove_member(actor: User, member: TipLineMember, *, request=None) -> TipLineKey:
    """Remove a member and replace the unit's key pair: new tips are sealed to a key the removed
    member never had. Only public keys are needed, so nobody has to unlock anything."""
    policy.require(policy.can_manage_tip_line(actor))
    user_id = member.user_id
    member.delete()  # its slots go with it
    return rotate_key(actor, request=request, details={"removed_user": user_id})


def rotate_key(actor: User | None, *, request=None, details=None) -> TipLineKey:
    private = sealing.new_key_pair()
    TipLineKey.objects.filter(current=True).update(current=False)
    unit_key = TipLineKey.objects.create(
        public_key=sealing.public_text(private), created_on=timezone.localdate()
    )
    for member in TipLineMember.objects.filter(added_on__isnull=False):
        KeySlot.objects.create(
            tip_line_key=unit_key,
            member=member,
            sealed_private_key=sealing.seal(member.public_key, bytes(private)),
        )
    audit.record(
        actor,
        audit.Action.UPDATE,
        obj=unit_key,
        purpose="tip-line key replaced",
        request=request,
        details=details or {},
    )
    return unit_key


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
    tip.sealed_report = ""
    tip.forwarded_text = tip.forwarded_contact = ""
    tip.receipt_digest = None
    tip.reporter_public_key = ""
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
