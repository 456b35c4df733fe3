"""Why a person's record was consulted: the case or task it serves, or a reason code.

Every consultation of a person's record carries a reason, stored as the audit event's purpose in
one of three forms: ``case:<case public id>``, ``task:<task id>`` or ``code:<reason code>``
(``break-glass`` under break-glass, whose justification is on the access itself). The reason is
never made up: it is

- given with the read (``?reason=`` on the page and the API, which the links of case pages and
  work lists carry; services opening a record for a case pass theirs), checked: the case must be
  one the reader may see and about this person, the task one of their agency's on such a case,
  the code one of ``ReasonCode``;
- or the one the reader gave for this person earlier in the same browser session (remembered
  per person, so the daily flow asks once, not on every page);
- or break-glass, when that is how the reader sees the record.

Anything else is ``ReasonRequired``: a page asks for a reason code (``consultation_reason``
view; "other" asks for a few words that are not stored, since they may name the person) before
it shows protected data, and the API answers 400 ``reason_required``.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.audit import read_context
from streha.errors import DomainError

BREAK_GLASS = "break-glass"
SESSION_KEY = "streha_consultation_reasons"
REMEMBERED_PER_SESSION = 500


class ReasonCode(models.TextChoices):
    CASE_WORK = "case_work", gettext_lazy("Case work")
    REFERRAL = "referral", gettext_lazy("Answering a referral")
    INVESTIGATION = "investigation", gettext_lazy("Investigation")
    PROCEEDINGS = "proceedings", gettext_lazy("Court proceedings")
    SAFETY = "safety", gettext_lazy("Safety check")
    DATA_SUBJECT = "data_subject", gettext_lazy("Request of the person (data protection)")
    SUPERVISION = "supervision", gettext_lazy("Supervision or quality review")
    REGISTRATION = "registration", gettext_lazy("Registration and record keeping")
    LINKAGE = "linkage", gettext_lazy("Duplicate review (record linkage)")
    OTHER = "other", gettext_lazy("Other (say why)")


class ReasonRequired(DomainError):
    """A person's record was asked for without a reason: the reader must give one first."""

    status_code = 400
    code = "reason_required"

    def __init__(self, person_public_id=None):
        self.person_public_id = person_public_id
        super().__init__(
            _(
                "Say why you are consulting this record: open it from the case or task it "
                "serves, or give a reason (reason=case:<case id>, task:<task id> or "
                "code:<reason code>)."
            )
        )


def _refuse() -> ValidationError:
    return ValidationError(
        {
            "reason": _(
                "Give the reason as case:<case id>, task:<task id> or code:<reason code> "
                "for a case or task of this person, or a known reason code."
            )
        }
    )


def _session(request):
    """The browser session of ``request``, or None (an API token has no session to remember
    in, and nobody to ask)."""
    if request is None or getattr(request, "auth", None) is not None:  # DRF: a token
        return None
    if read_context.authentication().get("method") == "token":
        return None
    request = getattr(request, "_request", request)  # DRF wraps Django's request
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return getattr(request, "session", None)


def remember(request, person_public_id, why: str) -> None:
    """Keep ``why`` as the reason for this person for the rest of the browser session."""
    session = _session(request)
    if session is None:
        return
    remembered = dict(session.get(SESSION_KEY) or {})
    remembered.pop(str(person_public_id), None)
    remembered[str(person_public_id)] = why
    while len(remembered) > REMEMBERED_PER_SESSION:  # oldest first out
        remembered.pop(next(iter(remembered)))
    session[SESSION_KEY] = remembered


def remembered(request, person_public_id) -> str:
    session = _session(request)
    return (session.get(SESSION_KEY) or {}).get(str(person_public_id), "") if session else ""


def given_in(request) -> str:
    """The reason a request gives in its query (``?reason=``)."""
    request = getattr(request, "_request", request)
    query = getattr(request, "GET", None)
    return (query.get("reason", "") if query is not None else "")[:100]


def reason_for(user, person, given: str = "", *, break_glass: bool = False, request=None) -> str:
    """The reason to record for ``user`` consulting ``person``: ``given`` (else the request's
    ``?reason=``) checked, else the one remembered for this person in the session, else
    break-glass; ``ValidationError`` for a reason that is not one for this person,
    ``ReasonRequired`` when there is none."""
    given = (given or given_in(request)).strip()
    if given:
        why = _checked(user, person, given)
        remember(request, person.public_id, why)
        return why
    why = remembered(request, person.public_id)
    if why:
        return why
    if break_glass:
        return BREAK_GLASS
    raise ReasonRequired(person.public_id)


def _checked(user, person, given: str) -> str:
    from streha.access import policy
    from streha.cases.models import Task

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


class ConsultationReasonMiddleware:
    """A page that needs a reason it was not given asks for one (``ReasonRequired``), instead
    of failing: the form posts to ``audit:consultation_reason``, which remembers the reason for
    the session and returns to the page. The API answers the error itself (400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ReasonRequired) or request.path.startswith("/api/"):
            return None
        from django.shortcuts import render

        from streha.audit.forms import ConsultationReasonForm

        form = ConsultationReasonForm(
            initial={
                "person": exception.person_public_id,
                "next": request.get_full_path() if request.method == "GET" else "",
            }
        )
        return render(request, "audit/consultation_reason.html", {"form": form})
