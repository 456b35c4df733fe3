"""The steps of a criminal case: one registry from which the HTML step forms, the API
operations (and so the OpenAPI schema) and the case page's next-step buttons are derived.

A step has a name (its URL slug and API path), a label, a form (which validates the HTML post
and the API body alike), the service that does it, and ``offered``, which says when the page
offers it; the service asks the access policy again and is the one that decides.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.justice import forms as step_forms
from streha.justice import services
from streha.justice.models import CriminalCase, EventKind
from streha.web.labels import enum_label


@dataclass(frozen=True)
class CaseView:
    """A criminal case as one user may see it."""

    case: CriminalCase
    access: policy.CriminalCaseAccess
    user: object


@dataclass(frozen=True)
class Step:
    name: str
    label: Promise
    form: type[step_forms.StepForm]
    service: Callable  # (actor, case, *, request, **cleaned_data)
    offered: Callable[[CaseView], bool]
    description: str = ""

    def run(self, view: CaseView, form, request=None):
        return self.service(view.user, view.case, request=request, **form.cleaned_data)


def _has(related: str) -> Callable[[CaseView], bool]:
    return lambda view: getattr(view.case, related).exists()


def _parties(view: CaseView) -> bool:
    parties = view.case.injured_parties.all()
    if view.access.injured_parties_only:
        parties = parties.filter(represented_by_id=view.user.pk)
    return parties.exists()


def _party_step(view: CaseView) -> bool:
    return (view.access.prosecution or view.access.injured_parties_only) and _parties(view)


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "event",
            _("Record an event of the proceedings"),
            step_forms.EventForm,
            services.record_event,
            lambda v: bool(services.allowed_event_kinds(v.access, v.case)),
            "The procedure's next events that are the user's to record (police, prosecution "
            "or court); ``kind`` must be one of them.",
        ),
        Step(
            "correct",
            _("Correct an event"),
            step_forms.CorrectionForm,
            services.correct_event,
            lambda v: bool(v.access.event_kinds) and v.case.events.exists(),
            "A new event replacing the date or document of an earlier one, or withdrawing "
            "it, with the reason; the earlier event stays on record.",
        ),
        Step(
            "numbers",
            _("Case numbers and court"),
            step_forms.NumbersForm,
            services.set_numbers,
            lambda v: v.access.can_edit,
        ),
        Step(
            "assign",
            _("Assign the prosecutor"),
            step_forms.AssignForm,
            services.assign_prosecutor,
            lambda v: (
                v.access.prosecution
                or (v.access.supervisor and v.user.agency_id == v.case.prosecution_office_id)
            ),
        ),
        Step(
            "link_victim",
            _("Link a victim case"),
            step_forms.LinkVictimForm,
            services.link_victim_case,
            lambda v: v.access.police or v.access.prosecution,
        ),
        Step(
            "defendant",
            _("Add a defendant"),
            step_forms.DefendantForm,
            services.add_defendant,
            lambda v: v.access.police or v.access.prosecution,
        ),
        Step(
            "charge",
            _("Record a charge or reclassify one"),
            step_forms.ChargeForm,
            services.add_charge,
            lambda v: v.access.can_edit and _has("defendants")(v),
        ),
        Step(
            "judgment",
            _("Record a judgment"),
            step_forms.JudgmentForm,
            services.record_judgment,
            lambda v: v.access.court and _has("defendants")(v),
            "One defendant's judgment at an instance, with the sentence; 'below the statutory "
            "minimum' is computed from the offence catalogue.",
        ),
        Step(
            "confiscation",
            _("Record seizure or confiscation"),
            step_forms.ConfiscationForm,
            services.record_confiscation,
            lambda v: v.access.can_edit,
        ),
        Step(
            "injured_party",
            _("Add an injured party"),
            step_forms.InjuredPartyForm,
            services.add_injured_party,
            lambda v: v.access.prosecution and _has("victim_cases")(v),
        ),
        Step(
            "claim",
            _("Property claim"),
            step_forms.ClaimForm,
            services.record_claim,
            _party_step,
        ),
        Step(
            "compensation",
            _("State compensation"),
            step_forms.CompensationForm,
            services.record_state_compensation,
            _party_step,
        ),
        Step(
            "residence_permit",
            _("Residence permit"),
            step_forms.PermitForm,
            services.record_residence_permit,
            _party_step,
        ),
        Step(
            "interview",
            _("Record a victim interview"),
            step_forms.InterviewForm,
            services.record_interview,
            lambda v: v.access.can_edit and _parties(v),
        ),
        Step(
            "witness",
            _("Add a witness"),
            step_forms.WitnessForm,
            services.add_witness,
            lambda v: v.access.prosecution,
            "The witness gets the next pseudonym; the person named stays sealed.",
        ),
        Step(
            "protection_order",
            _("Record a protective measure order"),
            step_forms.ProtectionOrderForm,
            services.order_protection,
            lambda v: (v.access.prosecution or v.access.court) and _has("witnesses")(v),
        ),
    )
}


@dataclass(frozen=True)
class Button:
    step: str
    label: str
    query: str = ""


def offered_steps(view: CaseView) -> list[str]:
    return [name for name, step in STEPS.items() if step.offered(view)]


def next_buttons(view: CaseView, offered: list[str]) -> list[Button]:
    """The case page's buttons: first the procedure's next events (each its own button with
    the event chosen), then the other steps in the registry's order."""
    buttons = []
    if "event" in offered:
        buttons = [
            Button("event", enum_label(EventKind, kind), f"?kind={kind}")
            for kind in services.allowed_event_kinds(view.access, view.case)
        ]
    buttons += [Button(name, str(STEPS[name].label)) for name in offered if name != "event"]
    return buttons
