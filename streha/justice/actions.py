"""The steps people and machine clients take on a criminal case: one registry, read
everywhere (the same shape as the victim cases' ``streha/cases/actions.py``).

Each ``JusticeAction`` says once what a step is called, who may take it (``may``: a right on
``policy.CriminalCaseAccess``), when it is offered (``when``: a condition on the case), the form
that validates its input and the service that does it. Derived from ``ACTIONS``: the case page's
next-step buttons (``next_steps``), the ``justice:step`` page of each step (GET its form, POST its
service), the API operation ``POST /api/v1/criminal-cases/{id}/<name>/`` with its OpenAPI request
schema (from the form), and the authorization matrix rows (``tests/matrix.py``). The services
check the access policy and the stage again: what is offered here only keeps pages and clients
from trying what the services would refuse.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.cases.actions import LinkedStep, register_linked_step
from streha.justice import forms as step_forms
from streha.justice import services
from streha.justice.models import CriminalCase, Defendant, EventKind, ProceedingEvent, Witness
from streha.web.labels import enum_label


@dataclass(frozen=True)
class CaseView:
    """A criminal case as one user may see it (what the page asks twice is read once)."""

    case: CriminalCase
    access: policy.CriminalCaseAccess
    user: object

    @cached_property
    def events(self) -> list:
        """The case's events in timeline order, read once for the page (the steps offered, the
        timeline and which events stand all come from this one list)."""
        return list(
            self.case.events.select_related("agency", "defendant").order_by("occurred_on", "pk")
        )

    @cached_property
    def event_kinds_now(self) -> list[str]:
        """The events this user may record at the case's stage."""
        return services.allowed_event_kinds(self.access, self.case, events=self.events)

    @cached_property
    def related_present(self) -> dict[str, bool]:
        """Whether the case has events, defendants, victim cases and witnesses: one query
        for the conditions of the steps, whatever their number."""
        case = OuterRef("pk")
        checks = {
            "has_events": Exists(ProceedingEvent.objects.filter(case=case)),
            "has_defendants": Exists(Defendant.objects.filter(case=case)),
            "has_witnesses": Exists(Witness.objects.filter(case=case)),
            "has_victim_cases": Exists(
                CriminalCase.victim_cases.through.objects.filter(criminalcase=case)
            ),
        }
        found = CriminalCase.objects.filter(pk=self.case.pk).values(**checks).get()
        return {name.removeprefix("has_"): bool(value) for name, value in found.items()}

    @cached_property
    def parties(self) -> list:
        """The injured parties this user may see and act for (a victim advocate: those they
        represent), with their dated records, read once for the page."""
        parties = (
            self.case.injured_parties.select_related("victim_case", "represented_by")
            .prefetch_related("state_compensations", "residence_permits", "interviews")
            .order_by("pk")
        )
        if self.access.injured_parties_only:
            parties = parties.filter(represented_by_id=self.user.pk)
        return list(parties)

    @cached_property
    def has_parties(self) -> bool:
        """Injured parties this user may act for exist."""
        return bool(self.parties)


def _always(view: CaseView) -> bool:
    return True


@dataclass(frozen=True)
class JusticeAction:
    """One step a user can take on a criminal case. ``service`` is called as
    ``service(actor, case, request=..., **cleaned_data)``."""

    name: str
    label: Promise
    form: type[step_forms.StepForm]
    service: Callable
    may: Callable[[policy.CriminalCaseAccess, CaseView], bool]
    when: Callable[[CaseView], bool] = _always
    description: str = ""

    def offered(self, view: CaseView) -> bool:
        """Is the step open to this user on this case now (right and condition)?"""
        return self.may(view.access, view) and self.when(view)

    def take(self, view: CaseView, data: dict, *, request=None):
        """Do the step with ``data`` (a form's cleaned data)."""
        return self.service(view.user, view.case, request=request, **data)


def _has(related: str) -> Callable[[CaseView], bool]:
    return lambda view: view.related_present[related]


def _parties(view: CaseView) -> bool:
    return view.has_parties


def _police_or_prosecution(access, view) -> bool:
    return access.police or access.prosecution


def _edits(access, view) -> bool:
    return access.can_edit


def _prosecution(access, view) -> bool:
    return access.prosecution


def _prosecution_or_party(access, view) -> bool:
    return access.prosecution or access.injured_parties_only


def _assigns(access, view) -> bool:
    """The office's prosecutors take a case; its supervisor hands it over."""
    return access.prosecution or (
        access.supervisor and view.user.agency_id == view.case.prosecution_office_id
    )


A = JusticeAction
ACTIONS: dict[str, JusticeAction] = {
    action.name: action
    for action in (
        A(
            "event",
            _("Record an event of the proceedings"),
            step_forms.EventForm,
            services.record_event,
            may=lambda access, view: bool(access.event_kinds),
            when=lambda v: bool(v.event_kinds_now),
            description="The procedure's next events that are the user's to record (police, "
            "prosecution or court); ``kind`` must be one of them.",
        ),
        A(
            "correct",
            _("Correct an event"),
            step_forms.CorrectionForm,
            services.correct_event,
            may=lambda access, view: bool(access.event_kinds),
            when=_has("events"),
            description="A new event replacing the date or document of an earlier one, or "
            "withdrawing it, with the reason; the earlier event stays on record.",
        ),
        A(
            "numbers",
            _("Case numbers and court"),
            step_forms.NumbersForm,
            services.set_numbers,
            may=_edits,
        ),
        A(
            "assign",
            _("Assign the prosecutor"),
            step_forms.AssignForm,
            services.assign_prosecutor,
            may=_assigns,
        ),
        A(
            "link_victim",
            _("Link a victim case"),
            step_forms.LinkVictimForm,
            services.link_victim_case,
            may=_police_or_prosecution,
        ),
        A(
            "defendant",
            _("Add a defendant"),
            step_forms.DefendantForm,
            services.add_defendant,
            may=_police_or_prosecution,
        ),
        A(
            "charge",
            _("Record a charge or reclassify one"),
            step_forms.ChargeForm,
            services.add_charge,
            may=_edits,
            when=_has("defendants"),
        ),
        A(
            "judgment",
            _("Record a judgment"),
            step_forms.JudgmentForm,
            services.record_judgment,
            may=lambda access, view: access.court,
            when=_has("defendants"),
            description="One defendant's judgment at an instance, with the sentence; 'below the "
            "statutory minimum' is computed from the offence catalogue.",
        ),
        A(
            "confiscation",
            _("Record seizure or confiscation"),
            step_forms.ConfiscationForm,
            services.record_confiscation,
            may=_edits,
        ),
        A(
            "injured_party",
            _("Add an injured party"),
            step_forms.InjuredPartyForm,
            services.add_injured_party,
            may=_prosecution,
            when=_has("victim_cases"),
        ),
        A(
            "claim",
            _("Property claim"),
            step_forms.ClaimForm,
            services.record_claim,
            may=_prosecution_or_party,
            when=_parties,
        ),
        A(
            "compensation",
            _("State compensation"),
            step_forms.CompensationForm,
            services.record_state_compensation,
            may=_prosecution_or_party,
            when=_parties,
        ),
        A(
            "residence_permit",
            _("Residence permit"),
            step_forms.PermitForm,
            services.record_residence_permit,
            may=_prosecution_or_party,
            when=_parties,
        ),
        A(
            "interview",
            _("Record a victim interview"),
            step_forms.InterviewForm,
            services.record_interview,
            may=_edits,
            when=_parties,
        ),
        A(
            "witness",
            _("Add a witness"),
            step_forms.WitnessForm,
            services.add_witness,
            may=_prosecution,
            description="The witness gets the next pseudonym; the person named stays sealed.",
        ),
        A(
            "protection_order",
            _("Record a protective measure order"),
            step_forms.ProtectionOrderForm,
            services.order_protection,
            may=lambda access, view: access.prosecution or access.court,
            when=_has("witnesses"),
        ),
    )
}


@dataclass(frozen=True)
class Step:
    """A next-step button: an action of ``justice:step`` and its query."""

    action: str
    label: str
    query: str = ""


def offered_actions(view: CaseView) -> list[str]:
    return [name for name, action in ACTIONS.items() if action.offered(view)]


def next_steps(view: CaseView, offered: list[str]) -> list[Step]:
    """The case page's buttons: first the procedure's next events (each its own button with
    the event chosen), then the other steps in the registry's order."""
    steps = []
    if "event" in offered:
        steps = [
            Step("event", enum_label(EventKind, kind), f"?kind={kind}")
            for kind in view.event_kinds_now
        ]
    steps += [Step(name, str(ACTIONS[name].label)) for name in offered if name != "event"]
    return steps


# --- Steps offered on the victim case page (``streha.cases.actions.LINKED_STEPS``) -------------


def _open_from_url(victim_case) -> str:
    return f"{reverse('justice:create')}?{urlencode({'victim_case': victim_case.public_id})}"


VICTIM_CASE_STEPS = (
    LinkedStep(
        "open_criminal_case",
        _("Open a criminal case"),
        policy.can_open_criminal_case_from,
        _open_from_url,
    ),
    LinkedStep(
        "share_with_prosecution",
        _("Share with the prosecution"),
        policy.can_share_with_prosecution,
        lambda victim_case: reverse("justice:share", args=[victim_case.public_id]),
    ),
)


def register_victim_case_steps() -> None:
    """Offer the justice steps on the victim case page (called when the app is ready)."""
    for step in VICTIM_CASE_STEPS:
        register_linked_step(step)
