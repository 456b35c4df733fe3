"""Why a person's record was consulted: the case or task it serves, or a reason code.

Every consultation of a person's record carries a reason, stored as the audit event's purpose in
one of three forms: ``case:<case public id>``, ``task:<task id>`` or ``code:<reason code>``
(``break-glass`` under break-glass, whose justification is on the access itself). A reason given
by the reader (``?reason=`` on the page and the API) is checked: the case must be one the reader
may see and about this person, the task one of their agency's on such a case, the code one of
``ReasonCode``. When none is given, the case the reader works on for this person is taken (the
newest they may see); a record with no such case gets ``code:registration`` (the holding agency
keeping its own register), which auditors can query apart.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

BREAK_GLASS = "break-glass"


class ReasonCode(models.TextChoices):
    CASE_WORK = "case_work", gettext_lazy("Case work")
    REFERRAL = "referral", gettext_lazy("Answering a referral")
    INVESTIGATION = "investigation", gettext_lazy("Investigation")
    PROCEEDINGS = "proceedings", gettext_lazy("Court proceedings")
    SAFETY = "safety", gettext_lazy("Safety check")
    DATA_SUBJECT = "data_subject", gettext_lazy("Request of the person (data protection)")
    SUPERVISION = "supervision", gettext_lazy("Supervision or quality review")
    REGISTRATION = "registration", gettext_lazy("Registration and record keeping")


def _refuse() -> ValidationError:
    return ValidationError(
        {
            "reason": _(
                "Give the reason as case:<case id>, task:<task id> or code:<reason code> "
                "for a case or task of this person, or a known reason code."
            )
        }
    )


def reason_for(user, person, given: str = "", *, break_glass: bool = False) -> str:
    """The reason to record for ``user`` consulting ``person`` (ValidationError if ``given`` is
    not a reason for this person)."""
    from streha.access import policy
    from streha.cases.models import Task

    given = (given or "").strip()
    if not given:
        if break_glass:
            return BREAK_GLASS
        case_id = (
            policy.cases_visible_to(user)
            .filter(person_id=person.pk)
            .order_by("-pk")
            .values_list("public_id", flat=True)
            .first()
        )
        if case_id is not None:
            return f"case:{case_id}"
        return f"code:{ReasonCode.REGISTRATION}"
    kind, _sep, value = given.partition(":")
    if not _sep:
        kind, value = "code", given
    if kind == "code" and value in ReasonCode.values:
        return f"code:{value}"
    if kind == "case":
        cases = policy.cases_visible_to(user).filter(person_id=person.pk)
        try:
            if cases.filter(public_id=value).exists():
                return f"case:{value}"
        except ValidationError:
            pass  # not a UUID
    if kind == "task" and value.isdigit() and len(value) <= 18:
        tasks = Task.objects.filter(pk=int(value), agency_id=user.agency_id, case__person=person)
        if tasks.exists():
            return f"task:{value}"
    raise _refuse()
