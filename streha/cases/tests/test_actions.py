"""The registry of case actions (streha/cases/actions.py): every step reachable in HTML and API
for exactly the roles whose access grants it, and its form, serializer and service in agreement."""

import inspect

import pytest
from django.utils import timezone

from streha.access import policy
from streha.accounts.models import AgencyKind, Role
from streha.cases import actions, presentation
from streha.cases.models import AssistanceService, Questionnaire, Referral, ReferralStatus
from streha.cases.tests.factories import CaseFactory

POLICE, SHELTER = AgencyKind.POLICE, AgencyKind.SHELTER
CHILD_CONDITIONS = {"_child_protection", "_child_without_guardian"}


def _case_for(world, step: actions.CaseAction):
    """A police case at the first stage ``step`` starts from (a child if the step is for
    children), referred to and accepted by the shelter, sharing every field group."""
    police = world.agency(POLICE)
    case = CaseFactory(
        owner_agency=police,
        person=world.person(POLICE),
        status=sorted(step.stages)[0],
        is_child=step.when.__name__ in CHILD_CONDITIONS,
    )
    Referral.objects.create(
        case=case,
        from_agency=police,
        to_agency=world.agency(SHELTER),
        field_groups=["identity", "narrative", "protection", "health"],
        answer_due_on=timezone.localdate(),
        status=ReferralStatus.ACCEPTED,
    )
    return case


def _query(step, case) -> str:
    """The query that picks the step's object: the questionnaire, or a service the receiving
    agency provides (so that it, as well as the owner, may change its status)."""
    if step.name == "screen":
        return f"?questionnaire={Questionnaire.objects.filter(is_current=True).first().code}"
    if step.name == "service_status":
        service = AssistanceService.objects.create(
            case=case,
            kind="safe_accommodation",
            provider=case.referrals.get().to_agency,
            starts_on=timezone.localdate(),
        )
        return f"?service={service.pk}"
    return ""


def _api_request(client, step, case):
    """A request each step's operation refuses without writing anything once past the policy:
    missing input (400) or, for state-machine steps, a version the case never had (409)."""
    if step.api.path == actions.TRANSITION:
        url = f"/api/v1/cases/{case.public_id}/transition/"
        data = {"action": step.name, "expected_version": 999_999}
        return client.post(url, data, content_type="application/json")
    url = f"/api/v1/cases/{case.public_id}/{step.api.path}/"
    return getattr(client, step.api.method)(url, {}, content_type="application/json")


USERS = [(POLICE, role) for role in Role.values] + [
    (SHELTER, Role.CASE_WORKER),  # an editing role of the agency that accepted the referral
    (SHELTER, Role.PROSECUTOR),  # sees the referred case, may add nothing
]


@pytest.mark.parametrize("name", list(actions.ACTIONS))
def test_every_step_is_reachable_in_html_and_api_for_exactly_who_may_take_it(name, world, client):
    step = actions.ACTIONS[name]
    case = _case_for(world, step)
    query = _query(step, case)
    takers = set()
    for kind, role in USERS:
        user = world.user(role, kind)
        access = policy.case_access(user, case)
        may = step.offered(case, access)
        client.force_login(user)
        page = client.get(f"/cases/{case.public_id}/{name}/{query}")
        assert page.status_code == (200 if may else 404), (name, kind, role)
        api = _api_request(client, step, case)
        if may:
            takers.add((kind, role))
            assert api.status_code in (400, 409), (name, kind, role, api.content)
        else:
            expected = 403 if access.can_view else 404
            assert api.status_code == expected, (name, kind, role, api.content)
        if may and step.button:
            detail = client.get(f"/cases/{case.public_id}/").content.decode()
            assert f'href="/cases/{case.public_id}/{name}/' in detail, (name, kind, role)
    # Nothing was written by any of these requests.
    case.refresh_from_db()
    assert case.version == 1
    # Every step is someone's to take.
    assert takers, name


def test_the_receiving_agency_contributes_and_nothing_more(world):
    """An agency that accepted a referral may add its own services and notes, never decide,
    refer, close or edit the case itself."""
    step_names = set()
    for step in actions.ACTIONS.values():
        case = _case_for(world, step)
        access = policy.case_access(world.user(Role.CASE_WORKER, SHELTER), case)
        if step.offered(case, access):
            step_names.add(step.name)
    assert step_names == {"service", "service_status", "note"}


def _service_arguments(step) -> set[str]:
    parameters = inspect.signature(step.service).parameters
    return {name for name in parameters if name not in ("actor", "case", "request")}


def _serializer_arguments(step) -> set[str]:
    names = set()
    for name, field in step.serializer().fields.items():
        if field.read_only:
            continue
        names.add(step_resolves(step).get(name, field.source or name))
    return names


def step_resolves(step) -> dict:
    """Serializer fields the serializer resolves into another argument (the assignee is named
    by user name or by id, the form asks for the user name)."""
    return {"username": "assignee", "user_id": "assignee"} if step.name == "assign" else {}


@pytest.mark.parametrize("name", list(actions.ACTIONS))
def test_form_serializer_and_service_agree(name, world):
    step = actions.ACTIONS[name]
    case = _case_for(world, step)
    user = world.user(Role.SUPERVISOR, POLICE)
    access = policy.case_access(user, case)
    selector = {"questionnaire": "ilo-forced-labour"} if name == "screen" else {}
    if name == "service_status":
        selector = {"service": _query(step, case).split("=")[1]}
    if name == "screen" and not Questionnaire.objects.filter(code="ilo-forced-labour").exists():
        selector = {"questionnaire": Questionnaire.objects.first().code}
    form = step.form(case=case, access=access, user=user, selector=selector)
    form_fields = set(form.fields)
    serializer_fields = _serializer_arguments(step)
    arguments = _service_arguments(step)
    keywords = any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        for p in inspect.signature(step.service).parameters.values()
    )
    if keywords:  # the profile: fields the service validates by name
        from streha.cases.services import OPEN_FIELDS

        arguments = (arguments - {"fields"}) | set(OPEN_FIELDS)
    assert form_fields <= arguments, form_fields - arguments
    assert serializer_fields <= arguments, serializer_fields - arguments
    assert form_fields == serializer_fields, form_fields ^ serializer_fields


def test_opening_a_case_asks_the_same_in_html_and_api():
    from streha.cases.forms import OpenCaseForm
    from streha.cases.serializers import CaseOpenSerializer

    api = set(CaseOpenSerializer().fields) - {"person"}  # the page has it in its address
    assert set(OpenCaseForm().fields) == api


def test_labels_and_buttons_come_from_the_registry():
    assert {n: s.label for n, s in actions.ACTIONS.items()} == presentation.ACTION_LABELS
    steps = presentation.next_steps({"close", "assist", "refer", "note"})
    # Registry order, and only the steps that are buttons (notes are added beside the notes).
    assert [step.action for step in steps] == ["assist", "refer", "close"]


def test_receiving_agency_has_next_steps_on_the_case_page(world, client):
    """Issue 9: after accepting a referral, the receiving agency's page offered nothing."""
    from streha.cases.models import Status, Task, TaskKind

    step = actions.ACTIONS["service"]
    case = _case_for(world, step)
    assert case.status == Status.ASSISTANCE
    shelter, police = world.agency(SHELTER), world.agency(POLICE)
    task = Task.objects.create(
        case=case, agency=shelter, kind=TaskKind.PLAN_REVIEW, due_on=timezone.localdate()
    )
    police_task = Task.objects.create(
        case=case, agency=police, kind=TaskKind.PLAN_REVIEW, due_on=timezone.localdate()
    )
    worker = world.user(Role.CASE_WORKER, SHELTER)
    client.force_login(worker)
    page = client.get(f"/cases/{case.public_id}/").content.decode()
    assert 'id="step-service"' in page and 'id="step-note"' in page
    assert f'id="task-done-{task.pk}"' in page and f'id="task-done-{police_task.pk}"' not in page

    # Its own services, through the page and the API; never another agency's.
    form = client.get(f"/cases/{case.public_id}/service/").content.decode()
    assert f'<option value="{shelter.pk}"' in form
    assert f'<option value="{police.pk}"' not in form
    data = {
        "expected_version": case.version,
        "kind": "safe_accommodation",
        "provider": shelter.pk,
        "starts_on": timezone.localdate().isoformat(),
        "status": "planned",
    }
    assert client.post(f"/cases/{case.public_id}/service/", data).status_code == 302
    case.refresh_from_db()
    api = f"/api/v1/cases/{case.public_id}/services/"
    refused = client.post(
        api,
        {**data, "expected_version": case.version, "provider": police.code},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "provider" in refused.json()["error"]["fields"]
    added = client.post(
        api,
        {**data, "expected_version": case.version, "provider": shelter.code},
        content_type="application/json",
    )
    assert added.status_code == 201 and added.json()["provider"] == shelter.code
    assert AssistanceService.objects.filter(case=case, provider=shelter).count() == 2

    # A note (the referral shares the narrative), and its task done from the case page.
    note = client.post(
        f"/api/v1/cases/{case.public_id}/notes/", {"body": "Arrived safely."}, format="json"
    )
    assert note.status_code == 201
    done = client.post(f"/cases/tasks/{task.pk}/done/", {"back": "case"})
    assert done.status_code == 302 and done["Location"] == f"/cases/{case.public_id}/"
    task.refresh_from_db()
    assert task.done_at is not None
    assert client.post(f"/cases/tasks/{police_task.pk}/done/").status_code == 404


def test_api_completes_a_task_of_ones_agency(world, client):
    from streha.cases.models import Task, TaskKind

    case = _case_for(world, actions.ACTIONS["close"])
    task = Task.objects.create(
        case=case, agency=world.agency(POLICE), kind=TaskKind.PLAN_REVIEW, due_on=case.opened_at
    )
    client.force_login(world.user(Role.PROSECUTOR, POLICE))  # sees cases, does not edit them
    assert client.post(f"/api/v1/case-tasks/{task.pk}/done/").status_code == 403
    client.force_login(world.user(Role.CASE_WORKER, SHELTER))  # another agency's task
    assert client.post(f"/api/v1/case-tasks/{task.pk}/done/").status_code == 404
    client.force_login(world.user(Role.CASE_WORKER, POLICE))
    answer = client.post(f"/api/v1/case-tasks/{task.pk}/done/")
    assert answer.status_code == 200 and answer.json()["done_at"]
    task.refresh_from_db()
    assert task.done_at is not None


def test_the_transition_operation_takes_exactly_the_registered_stage_steps():
    from streha.cases.serializers import TransitionSerializer

    envelope = TransitionSerializer()
    assert list(envelope.fields["action"].choices) == list(actions.TRANSITION_ACTIONS)
    # Its schema names every field the steps taken through it accept.
    wire = {
        name for step in actions.TRANSITION_ACTIONS.values() for name in step.serializer().fields
    }
    assert wire <= set(envelope.fields)
