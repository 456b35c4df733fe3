"""The NRM state machine, referrals and tasks, through the service layer."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from streha.access import policy
from streha.access.models import AccessGrant
from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.cases import selectors, services
from streha.cases.models import (
    Case,
    Questionnaire,
    ReferralStatus,
    Status,
    Task,
    TaskKind,
)
from streha.cases.tests.factories import CaseFactory
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(ngo):
    return PersonFactory(owner_agency=ngo, given_name="Arbenita", birth_year=1995)


def ilo():
    return Questionnaire.objects.get(code="ilo-forced-labour", version=1)


def open_and_presume(worker, person):
    case = services.open_case(
        worker,
        person,
        source="ngo",
        first_contact_on=timezone.localdate(),
        exploitation_types=["ForcedLabour"],
    )
    services.record_screening(
        worker,
        case,
        expected_version=case.version,
        questionnaire=ilo(),
        indicators_met=["debt_bondage", "isolation"],
    )
    services.confirm_screening(worker, case, expected_version=case.version, presumed=True)
    return case


def test_questionnaires_are_seeded_as_versioned_data():
    codes = set(Questionnaire.objects.values_list("code", flat=True))
    assert {
        "ilo-forced-labour",
        "unodc-sexual-exploitation",
        "unodc-forced-begging",
        "unodc-forced-criminality",
        "unodc-child-trafficking",
    } <= codes
    assert len(ilo().indicators) == 11


def test_screening_scores_and_recommends():
    result = services.score(ilo(), ["debt_bondage"])
    assert result.strong_met == 1 and result.recommends_presumed
    assert not services.score(ilo(), ["isolation"]).recommends_presumed
    with pytest.raises(ValidationError):
        services.score(ilo(), ["not_an_indicator"])


def test_full_nrm_path_records_every_transition(worker, person, make_user):
    police = AgencyFactory(kind=AgencyKind.POLICE)
    investigator = make_user(Role.INVESTIGATOR, agency=police)
    case = open_and_presume(worker, person)
    assert case.status == Status.PRESUMED_VICTIM
    assert case.reflection_ends_on == timezone.localdate() + timedelta(days=30)
    assert Task.objects.filter(case=case, kind=TaskKind.REFLECTION_END).exists()
    # The police need the case referred to them to decide.
    referral = services.send_referral(
        worker, case, to_agency=police, field_groups=["identity", "narrative"]
    )
    services.answer_referral(investigator, referral, status=ReferralStatus.ACCEPTED)
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        services.decide_identification(
            investigator, case, expected_version=case.version, identified=True, reasons=""
        )
    services.decide_identification(
        investigator,
        case,
        expected_version=case.version,
        identified=True,
        reasons="Indicators confirmed by interview.",
    )
    assert case.status == Status.IDENTIFIED and case.decided_by == investigator
    services.start_assistance(worker, case, expected_version=case.version)
    services.add_service(
        worker,
        case,
        expected_version=case.version,
        kind="medical",
        provider=worker.agency,
        starts_on=timezone.localdate(),
    )
    services.start_return_or_reintegration(
        worker,
        case,
        expected_version=case.version,
        assisted_voluntary_return=False,
        next_review_on=timezone.localdate() + timedelta(days=60),
    )
    services.close_case(worker, case, expected_version=case.version, reason="Reintegrated well.")
    assert case.status == Status.CLOSED
    assert not Task.objects.filter(case=case, done_at__isnull=True).exists()
    kinds = list(case.events.values_list("kind", flat=True))
    for kind in (
        "open",
        "screen",
        "presume",
        "reflection_started",
        "identify",
        "assist",
        "return_reintegrate",
        "close",
    ):
        assert kind in kinds
    closing = case.events.get(kind="close")
    assert closing.actor == worker and closing.reason == "Reintegrated well."
    assert closing.from_status == Status.RETURN_REINTEGRATION
    assert AuditEvent.objects.filter(object_id=str(case.public_id)).count() >= 7


def test_reflection_period_is_configurable_but_never_under_30(worker, person, settings):
    settings.STREHA_REFLECTION_PERIOD_DAYS = 90
    case = open_and_presume(worker, person)
    assert case.reflection_ends_on == timezone.localdate() + timedelta(days=90)
    settings.STREHA_REFLECTION_PERIOD_DAYS = 10
    assert services.reflection_period_days() == 30


def test_reflection_starts_without_any_police_involvement(worker, person):
    case = open_and_presume(worker, person)
    assert case.presumed_on == timezone.localdate()
    assert case.events.filter(kind="reflection_started").exists()


def test_transitions_only_from_allowed_stages(worker, person):
    case = services.open_case(
        worker, person, source="police", first_contact_on=timezone.localdate()
    )
    with pytest.raises(ValidationError):
        services.start_assistance(worker, case, expected_version=case.version)
    with pytest.raises(ValidationError):
        services.confirm_screening(worker, case, expected_version=case.version, presumed=True)


def test_only_the_competent_authority_decides(worker, person):
    case = open_and_presume(worker, person)
    with pytest.raises(PermissionDenied):
        services.decide_identification(
            worker, case, expected_version=case.version, identified=True, reasons="Because."
        )


def test_not_identified_needs_reasons_and_records_informing(worker, person, make_user):
    coordinator = make_user(
        Role.SUPERVISOR, agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)
    )
    case = open_and_presume(worker, person)
    referral = services.send_referral(worker, case, to_agency=coordinator.agency, field_groups=[])
    services.answer_referral(
        make_user(Role.CASE_WORKER, agency=coordinator.agency), referral, status="accepted"
    )
    case.refresh_from_db()
    services.decide_identification(
        coordinator,
        case,
        expected_version=case.version,
        identified=False,
        reasons="No indicator confirmed.",
        person_informed_on=timezone.localdate(),
    )
    assert case.status == Status.NOT_IDENTIFIED and case.person_informed_on


def test_close_and_reopen_need_reasons_and_reopen_is_for_supervisors(worker, person, make_user):
    supervisor = make_user(Role.SUPERVISOR, agency=worker.agency)
    case = open_and_presume(worker, person)
    with pytest.raises(ValidationError):
        services.close_case(worker, case, expected_version=case.version, reason="")
    services.close_case(worker, case, expected_version=case.version, reason="Moved abroad.")
    with pytest.raises(PermissionDenied):
        services.reopen_case(worker, case, expected_version=case.version, reason="Came back.")
    services.reopen_case(supervisor, case, expected_version=case.version, reason="Came back.")
    assert case.status == Status.PRESUMED_VICTIM
    assert case.events.get(kind="reopen").reason == "Came back."


def test_screened_out_closes_with_reason(worker, person):
    case = services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())
    services.record_screening(
        worker, case, expected_version=case.version, questionnaire=ilo(), indicators_met=[]
    )
    with pytest.raises(ValidationError):
        services.confirm_screening(worker, case, expected_version=case.version, presumed=False)
    services.confirm_screening(
        worker, case, expected_version=case.version, presumed=False, reason="No indicators."
    )
    assert case.status == Status.CLOSED


def test_optimistic_locking_refuses_stale_writes(worker, person):
    case = services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())
    stale = Case.objects.get(pk=case.pk)
    services.record_screening(
        worker,
        case,
        expected_version=case.version,
        questionnaire=ilo(),
        indicators_met=["deception"],
    )
    with pytest.raises(services.CaseConflict) as conflict:
        services.close_case(worker, stale, expected_version=stale.version, reason="Duplicate case.")
    assert conflict.value.current == stale.version + 1
    assert Case.objects.get(pk=case.pk).status == Status.SCREENED


def test_child_without_guardian_is_flagged_until_appointed(worker, ngo):
    child = PersonFactory(owner_agency=ngo, birth_year=timezone.localdate().year - 14)
    case = services.open_case(
        worker, child, source="social_work", first_contact_on=timezone.localdate()
    )
    assert case.is_child and case.needs_guardian
    assert Task.objects.filter(case=case, kind=TaskKind.GUARDIAN, done_at__isnull=True).exists()
    services.appoint_guardian(
        worker,
        case,
        expected_version=case.version,
        guardian="Centre for Social Work",
        appointed_on=timezone.localdate(),
    )
    assert not case.needs_guardian
    assert not Task.objects.filter(case=case, kind=TaskKind.GUARDIAN, done_at__isnull=True).exists()


def test_enumerations_follow_htcds(worker, person):
    with pytest.raises(ValidationError):
        services.open_case(
            worker,
            person,
            source="ngo",
            first_contact_on=timezone.localdate(),
            exploitation_types=["sexual"],
        )
    case = services.open_case(
        worker,
        person,
        source="ngo",
        first_contact_on=timezone.localdate(),
        exploitation_types=["SexualExploitation"],
        control_methods=["DebtBondage"],
        recruitment_methods=["ThroughOnlineSocialNetworks"],
    )
    assert case.exploitation_types == ["SexualExploitation"]


def test_roles_without_case_rights_cannot_open(make_user, ngo, person):
    for role in (Role.ANALYST, Role.AUDITOR, Role.PROSECUTOR):
        with pytest.raises(PermissionDenied):
            services.open_case(
                make_user(role, agency=ngo),
                person,
                source="ngo",
                first_contact_on=timezone.localdate(),
            )


def test_outsider_cannot_open_a_case_on_someone_elses_person(make_user, person):
    outsider = make_user(Role.CASE_WORKER, agency=AgencyFactory())
    with pytest.raises(PermissionDenied):
        services.open_case(outsider, person, source="ngo", first_contact_on=timezone.localdate())


# --- Referrals ---------------------------------------------------------------------------------


def test_accepting_a_referral_grants_only_what_was_shared(worker, person, make_user):
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    shelter_worker = make_user(Role.CASE_WORKER, agency=shelter)
    case = open_and_presume(worker, person)
    referral = services.send_referral(
        worker, case, to_agency=shelter, field_groups=["identity"], purpose="Shelter place"
    )
    # Before accepting: nothing visible; a task and notifications for the receiver.
    assert not policy.cases_visible_to(shelter_worker).filter(pk=case.pk).exists()
    assert not policy.persons_visible_to(shelter_worker).filter(pk=person.pk).exists()
    assert Task.objects.filter(agency=shelter, kind=TaskKind.REFERRAL_ANSWER, done_at=None).exists()
    assert shelter_worker.case_notifications.count() == 1
    services.answer_referral(shelter_worker, referral, status=ReferralStatus.ACCEPTED)
    grant = AccessGrant.objects.get(agency=shelter, person=person)
    assert grant.field_groups == ["identity"]
    assert policy.person_access(shelter_worker, person).field_groups == {"identity"}
    access = policy.case_access(shelter_worker, case)
    assert access.can_view and not access.can_edit and access.field_groups == {"identity"}
    view = selectors.read_case(shelter_worker, case.public_id)
    assert not view.shows("narrative")
    assert not Task.objects.filter(
        agency=shelter, kind=TaskKind.REFERRAL_ANSWER, done_at=None
    ).exists()
    services.answer_referral(shelter_worker, referral, status=ReferralStatus.IN_PROGRESS)
    services.answer_referral(shelter_worker, referral, status=ReferralStatus.COMPLETED)
    assert case.events.filter(kind="referral_completed").exists()


def test_declining_needs_a_reason_and_grants_nothing(worker, person, make_user):
    shelter = AgencyFactory(kind=AgencyKind.SHELTER)
    shelter_worker = make_user(Role.CASE_WORKER, agency=shelter)
    case = open_and_presume(worker, person)
    referral = services.send_referral(worker, case, to_agency=shelter, field_groups=["identity"])
    with pytest.raises(ValidationError):
        services.answer_referral(shelter_worker, referral, status=ReferralStatus.DECLINED)
    services.answer_referral(
        shelter_worker, referral, status=ReferralStatus.DECLINED, reason="No place free."
    )
    assert not AccessGrant.objects.filter(agency=shelter).exists()
    assert not policy.cases_visible_to(shelter_worker).filter(pk=case.pk).exists()
    with pytest.raises(ValidationError):
        services.answer_referral(shelter_worker, referral, status=ReferralStatus.ACCEPTED)


def test_only_the_receiving_agency_answers(worker, person, make_user):
    shelter = AgencyFactory()
    case = open_and_presume(worker, person)
    referral = services.send_referral(worker, case, to_agency=shelter, field_groups=[])
    for user in (
        worker,
        make_user(Role.CASE_WORKER, agency=AgencyFactory()),
        make_user(Role.ANALYST, agency=shelter),
    ):
        with pytest.raises(PermissionDenied):
            services.answer_referral(user, referral, status=ReferralStatus.ACCEPTED)


def test_cannot_share_what_the_sender_cannot_see(make_user, ngo, person):
    hotline = make_user(Role.HOTLINE_OPERATOR, Role.CASE_WORKER, agency=ngo)
    case = services.open_case(
        hotline, person, source="hotline", first_contact_on=timezone.localdate()
    )
    with pytest.raises(ValidationError):
        services.send_referral(hotline, case, to_agency=AgencyFactory(), field_groups=["bogus"])
    with pytest.raises(ValidationError):
        services.send_referral(hotline, case, to_agency=ngo, field_groups=[])


def test_notification_email_has_no_personal_data(
    worker, person, make_user, django_capture_on_commit_callbacks
):
    shelter = AgencyFactory()
    make_user(Role.CASE_WORKER, agency=shelter, email="s@example.invalid")
    case = open_and_presume(worker, person)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_referral(worker, case, to_agency=shelter, field_groups=["identity"])
    assert len(mail.outbox) == 1
    text = mail.outbox[0].subject + mail.outbox[0].body
    assert "Arbenita" not in text and person.reference not in text and case.reference not in text


# --- Work management -------------------------------------------------------------------------


def test_my_work_shows_due_and_overdue(worker, person, make_user):
    supervisor = make_user(Role.SUPERVISOR, agency=worker.agency)
    other = make_user(Role.CASE_WORKER, agency=worker.agency)
    case = open_and_presume(worker, person)
    Task.objects.create(
        case=case,
        agency=worker.agency,
        kind=TaskKind.FOLLOW_UP,
        due_on=timezone.localdate() - timedelta(days=2),
        assignee=other,
    )
    Task.objects.create(
        case=case,
        agency=worker.agency,
        kind=TaskKind.PLAN_REVIEW,
        due_on=timezone.localdate() + timedelta(days=3),
    )
    mine = selectors.my_work(worker)
    assert mine.overdue_count == 0 and mine.due_soon_count == 1
    assert selectors.my_work(other).overdue_count == 1
    assert selectors.my_work(supervisor).overdue_count == 1
    task = selectors.tasks_for(worker).first()
    services.complete_task(worker, task)
    assert selectors.my_work(worker).due_soon_count == 0


def test_case_search_by_blind_index(worker, person, ngo):
    case = CaseFactory(owner_agency=ngo, person=person)
    CaseFactory(owner_agency=ngo)
    page = selectors.list_cases(worker, query="arbenita synthetic")
    assert [c.pk for c in page] == [case.pk]
    assert [c.pk for c in selectors.list_cases(worker, query=case.reference)] == [case.pk]
    assert len(selectors.list_cases(worker)) == 2
    assert len(selectors.list_cases(AgencyFactory() and worker, status="closed")) == 0


def test_daily_reminders_notify_without_personal_data(worker, person):
    case = open_and_presume(worker, person)
    Task.objects.create(
        case=case, agency=worker.agency, kind=TaskKind.PLAN_REVIEW, due_on=timezone.localdate()
    )
    assert services.send_due_reminders() == 1
    notice = worker.case_notifications.get()
    assert "Arbenita" not in notice.message and case.reference not in notice.message


def test_case_scopes_equal_the_policy(worker, person, make_user):
    shelter = AgencyFactory()
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    own = CaseFactory(owner_agency=shelter)
    case = open_and_presume(worker, person)
    referral = services.send_referral(worker, case, to_agency=shelter, field_groups=[])
    services.answer_referral(receiver, referral, status=ReferralStatus.ACCEPTED)
    for user in (worker, receiver):
        parts = selectors.case_scopes(user)
        union = {pk for part in parts for pk in part.values_list("pk", flat=True)}
        assert union == set(policy.cases_visible_to(user).values_list("pk", flat=True))
    assert [c.pk for c in selectors.list_cases(receiver)] == [case.pk, own.pk]


def test_case_list_pages(worker, ngo):
    for _ in range(30):
        CaseFactory(owner_agency=ngo)
    first = selectors.list_cases(worker)
    second = selectors.list_cases(worker, page=2)
    assert len(first) == 25 and len(second) == 5 and first.has_next()
    assert not {c.pk for c in first} & {c.pk for c in second}
    assert selectors.list_cases(worker, page="x").number == 1
