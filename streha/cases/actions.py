"""The steps people and machine clients take on a victim case: one registry, read everywhere.

Each ``CaseAction`` says once what a step is called, when it is offered (the stages it starts
from, the right on ``policy.CaseAccess`` it needs, any further condition), the form people fill
in, the serializer machine clients send, and the service that does it. Everything else is
derived from ``ACTIONS``:

- the case page's next-step buttons and their labels (``presentation.next_steps``),
- the ``cases:act`` page of each step (``views.case_act``: GET its form, POST its service),
- the API operation of each step (``api.CaseViewSet``: one operation per ``ApiOperation``, the
  NRM stage steps through ``/transition/`` with ``action`` naming them), with its OpenAPI
  description,
- the rows of the authorization matrix and the test that every step is reachable in HTML and
  API for exactly the roles that may take it (``tests/test_actions.py``).

A form's cleaned data and a serializer's validated data are both the keyword arguments of the
service (the test checks they agree), so ``run`` needs no per-channel glue. The services check
the access policy and the stage again: what is offered here only keeps pages and clients from
trying what the services would refuse. Adding a step is adding one entry here (with its form,
serializer and service); docs/architecture.md walks through an example.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.access.models import FieldGroup
from streha.cases import forms, serializers, services
from streha.cases.models import Case, Questionnaire


@dataclass(frozen=True)
class ApiOperation:
    """Where a step lives in the API. ``path`` is the operation's address under the case
    (``/api/v1/cases/{public_id}/<path>/``); ``TRANSITION`` means the NRM step operation.
    ``returns`` is the serializer of the answer (None: the case as the user now sees it);
    ``created``: answer 201 rather than 200."""

    path: str
    method: str = "post"
    returns: type | None = None
    created: bool = False
    summary: str = ""


TRANSITION = "transition"


def _always(case: Case, access: policy.CaseAccess) -> bool:
    return True


def _child_protection(case: Case, access: policy.CaseAccess) -> bool:
    return case.is_child and FieldGroup.PROTECTION in access.field_groups


def _child_without_guardian(case: Case, access: policy.CaseAccess) -> bool:
    return _child_protection(case, access) and case.needs_guardian


def _shows_narrative(case: Case, access: policy.CaseAccess) -> bool:
    return FieldGroup.NARRATIVE in access.field_groups


def _questionnaire_variants() -> list[tuple[str, str]]:
    """One "screen" button per current questionnaire: (label, query)."""
    return [
        (gettext("Screen: %(title)s") % {"title": gettext(q.title)}, f"?questionnaire={q.code}")
        for q in Questionnaire.objects.filter(is_current=True).only("code", "title")
    ]


@dataclass(frozen=True)
class CaseAction:
    """One step a user can take on a case.

    ``may`` names the ``policy.CaseAccess`` right the step needs (``can_edit``,
    ``can_decide``, ``can_reopen``, ``can_assign``, ``can_contribute``); ``stages`` the case
    stages it starts from (for a state-machine step, its ``services.TRANSITIONS`` sources);
    ``when`` any further condition on the case and the access (a child, a field group).
    ``service`` does the step, called as ``service(actor, case, request=..., **data)``
    unless ``run`` says otherwise. ``button``: offered in the next-step card (False: offered
    where its object is shown, as notes and a service's status are).
    """

    name: str
    label: Promise
    form: type
    serializer: type
    service: Callable[..., Any]
    may: str
    stages: frozenset[str]
    api: ApiOperation
    when: Callable[[Case, policy.CaseAccess], bool] = _always
    run: Callable[..., Any] | None = None
    button: bool = True
    variants: Callable[[], list[tuple[str, str]]] | None = None
    aliases: dict[str, str] = field(default_factory=dict)

    def permitted(self, access: policy.CaseAccess) -> bool:
        """Does ``access`` carry the right this step needs (whatever the stage)?"""
        return bool(getattr(access, self.may))

    def offered(self, case: Case, access: policy.CaseAccess) -> bool:
        """Is the step open to this user on this case now (right, stage and condition)?"""
        return self.permitted(access) and case.status in self.stages and self.when(case, access)

    def take(self, actor, case: Case, data: dict, *, request=None):
        """Do the step with ``data`` (a form's cleaned data or a serializer's validated data)."""
        data = dict(data)
        if self.run is not None:
            return self.run(actor, case, data, request=request)
        return self.service(actor, case, request=request, **data)

    @property
    def versioned(self) -> bool:
        """Does the step carry the case version (optimistic locking)?"""
        return issubclass(self.form, forms.VersionedForm)


def _set_service_status(actor, case, data, *, request=None):
    # The service is the step's object: the form and serializer found it among the case's.
    return services.set_service_status(actor, data.pop("service"), request=request, **data)


def _assign(actor, case, data, *, request=None):
    return services.assign_case(actor, case, data.pop("assignee"), request=request, **data)


def _sources(transition: str) -> frozenset[str]:
    return services.TRANSITIONS[transition][0]


_steps = [
    CaseAction(
        name="screen",
        label=_("Record screening"),
        form=forms.ScreeningForm,
        serializer=serializers.ScreeningSerializer,
        service=services.record_screening,
        may="can_edit",
        stages=_sources("screen"),
        api=ApiOperation(TRANSITION),
        variants=_questionnaire_variants,
    ),
    CaseAction(
        name="confirm",
        label=_("Confirm the screening"),
        form=forms.ConfirmForm,
        serializer=serializers.ConfirmSerializer,
        service=services.confirm_screening,
        may="can_edit",
        stages=_sources("presume"),
        api=ApiOperation(TRANSITION),
    ),
    CaseAction(
        name="decide",
        label=_("Record the identification decision"),
        form=forms.DecisionForm,
        serializer=serializers.DecisionSerializer,
        service=services.decide_identification,
        may="can_decide",
        stages=_sources("identify"),
        api=ApiOperation(TRANSITION),
        aliases={"reasons": "reason"},
    ),
    CaseAction(
        name="assist",
        label=_("Start the assistance plan"),
        form=forms.VersionedForm,
        serializer=serializers.VersionedSerializer,
        service=services.start_assistance,
        may="can_edit",
        stages=_sources("assist"),
        api=ApiOperation(TRANSITION),
    ),
    CaseAction(
        name="service",
        label=_("Add a service"),
        form=forms.ServiceForm,
        serializer=serializers.ServiceAddSerializer,
        service=services.add_service,
        may="can_contribute",
        stages=services.SERVICE_STAGES,
        api=ApiOperation(
            "services",
            returns=serializers.AssistanceServiceSerializer,
            created=True,
            summary="Add a service to the assistance plan",
        ),
    ),
    CaseAction(
        name="service_status",
        label=_("Change a service's status"),
        form=forms.ServiceStatusForm,
        serializer=serializers.ServiceStatusSerializer,
        service=services.set_service_status,
        run=_set_service_status,
        may="can_contribute",
        stages=services.SERVICE_STAGES,
        api=ApiOperation(
            "service-status",
            returns=serializers.AssistanceServiceSerializer,
            summary="Change the status of one of the case's services",
        ),
        button=False,
    ),
    CaseAction(
        name="return",
        label=_("Start return or reintegration"),
        form=forms.ReturnForm,
        serializer=serializers.ReturnSerializer,
        service=services.start_return_or_reintegration,
        may="can_edit",
        stages=_sources("return_reintegrate"),
        api=ApiOperation(TRANSITION),
    ),
    CaseAction(
        name="follow_up",
        label=_("Record a reintegration follow-up"),
        form=forms.FollowUpForm,
        serializer=serializers.FollowUpSerializer,
        service=services.record_follow_up,
        may="can_edit",
        stages=services.FOLLOW_UP_STAGES,
        api=ApiOperation(TRANSITION),
    ),
    CaseAction(
        name="guardian",
        label=_("Appoint a guardian"),
        form=forms.GuardianForm,
        serializer=serializers.GuardianSerializer,
        service=services.appoint_guardian,
        may="can_edit",
        stages=services.OPEN_STAGES,
        when=_child_without_guardian,
        api=ApiOperation(TRANSITION),
    ),
    CaseAction(
        name="best_interests",
        label=_("Record the best-interests determination"),
        form=forms.BestInterestsForm,
        serializer=serializers.BestInterestsSerializer,
        service=services.record_best_interests,
        may="can_edit",
        stages=services.OPEN_STAGES,
        when=_child_protection,
        api=ApiOperation(
            "best-interests", summary="Record the best-interests determination (children)"
        ),
    ),
    CaseAction(
        name="refer",
        label=_("Refer to another agency"),
        form=forms.ReferralForm,
        serializer=serializers.ReferralSendSerializer,
        service=services.send_referral,
        may="can_edit",
        stages=services.OPEN_STAGES,
        api=ApiOperation(
            "refer",
            returns=serializers.ReferralSerializer,
            created=True,
            summary="Refer the case to another agency",
        ),
    ),
    CaseAction(
        name="assign",
        label=_("Assign the case"),
        form=forms.AssignForm,
        serializer=serializers.AssignSerializer,
        service=services.assign_case,
        run=_assign,
        may="can_assign",
        stages=services.OPEN_STAGES,
        api=ApiOperation(
            "assign",
            summary="Assign the case to a professional of any agency (supervisors of the owner)",
        ),
    ),
    CaseAction(
        name="consent",
        label=_("Record consent"),
        form=forms.ConsentForm,
        serializer=serializers.ConsentRecordSerializer,
        service=services.record_consent,
        may="can_edit",
        stages=services.OPEN_STAGES,
        api=ApiOperation(
            "consents",
            returns=serializers.ConsentSerializer,
            created=True,
            summary="Record that the person gave, refused or withdrew consent",
        ),
    ),
    CaseAction(
        name="profile",
        label=_("Edit exploitation and attributes"),
        form=forms.ProfileForm,
        serializer=serializers.ProfileSerializer,
        service=services.update_profile,
        may="can_edit",
        stages=services.OPEN_STAGES,
        api=ApiOperation(
            "profile", method="patch", summary="Correct the exploitation profile of the case"
        ),
    ),
    CaseAction(
        name="note",
        label=_("Add a note"),
        form=forms.NoteForm,
        serializer=serializers.NoteAddSerializer,
        service=services.add_note,
        may="can_contribute",
        stages=services.OPEN_STAGES,
        when=_shows_narrative,
        api=ApiOperation(
            "notes", returns=serializers.NoteSerializer, created=True, summary="Add a note"
        ),
        button=False,
    ),
    CaseAction(
        name="reopen",
        label=_("Reopen the case"),
        form=forms.ReasonForm,
        serializer=serializers.ReasonSerializer,
        service=services.reopen_case,
        may="can_reopen",
        stages=_sources("reopen"),
        api=ApiOperation(TRANSITION),
    ),
    CaseAction(
        name="close",
        label=_("Close the case"),
        form=forms.ReasonForm,
        serializer=serializers.ReasonSerializer,
        service=services.close_case,
        may="can_edit",
        stages=_sources("close"),
        api=ApiOperation(TRANSITION),
    ),
]

# In the order the case page offers them: the stage's own step first, housekeeping last.
ACTIONS: dict[str, CaseAction] = {step.name: step for step in _steps}
# The NRM stage steps of the API's transition operation, by the name it takes in ``action``.
TRANSITION_ACTIONS: dict[str, CaseAction] = {
    name: step for name, step in ACTIONS.items() if step.api.path == TRANSITION
}
LABELS: dict[str, Promise] = {name: step.label for name, step in ACTIONS.items()}


def allowed(case: Case, access: policy.CaseAccess) -> set[str]:
    """The names of the steps ``access`` may take on ``case`` at its stage now."""
    return {name for name, step in ACTIONS.items() if step.offered(case, access)}


@dataclass(frozen=True)
class LinkedStep:
    """A step another domain offers on the victim case page, taken on that domain's own page
    (opening a criminal case from the victim case, sharing it with a prosecution office).
    ``offered(user, case, access)`` asks the access policy; ``url(case)`` is the step's page.
    Other apps add theirs with ``register_linked_step`` when they are ready, so this module
    does not import them."""

    name: str
    label: Promise
    offered: Callable[[Any, Case, policy.CaseAccess], bool]
    url: Callable[[Case], str]


LINKED_STEPS: dict[str, LinkedStep] = {}


def register_linked_step(step: LinkedStep) -> None:
    LINKED_STEPS[step.name] = step


def linked_steps(user, case: Case, access: policy.CaseAccess) -> list[LinkedStep]:
    """The other domains' steps ``user`` may take from ``case``, in the order registered."""
    return [step for step in LINKED_STEPS.values() if step.offered(user, case, access)]
