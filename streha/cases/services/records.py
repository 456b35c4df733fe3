"""What is recorded beside the stages: notes and consents."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.cases.models import (
    Case,
    CaseNote,
    Consent,
    ConsentPurpose,
)
from streha.cases.services.base import (
    _audit,
    _event,
    _require_contribute,
    _require_edit,
    _require_open,
)

__all__ = ["add_note", "record_consent"]


@transaction.atomic
def add_note(actor: User, case: Case, *, body: str, request=None) -> CaseNote:
    """A note on the case, by its editors or by an agency that accepted a referral of it
    sharing the narrative."""
    access = _require_contribute(actor, case)
    if CaseNote.FIELD_GROUP not in access.field_groups:
        policy.require(False)
    if not body.strip():
        raise ValidationError({"body": _("Write the note.")})
    note = CaseNote(case=case, body=body.strip(), author=actor)
    note.save()
    _event(case, actor, "note")
    _audit(actor, case, what="note", groups={CaseNote.FIELD_GROUP}, request=request)
    return note


@transaction.atomic
def record_consent(actor: User, case: Case, *, purpose: str, given: bool, request=None) -> Consent:
    _require_edit(actor, case)
    _require_open(case)
    if purpose not in ConsentPurpose.values:
        raise ValidationError({"purpose": _("Say what the consent is for.")})
    consent = Consent.objects.create(
        case=case,
        purpose=purpose,
        given=given,
        recorded_on=timezone.localdate(),
        recorded_by=actor,
    )
    _event(case, actor, "consent", details={"given": given})
    _audit(actor, case, what="consent", request=request)
    return consent
