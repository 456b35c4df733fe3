"""The rules of the proceedings, at the service layer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from streha.audit.models import AuditEvent
from streha.justice import services
from streha.justice.errors import ProceedingsRefusal
from streha.justice.models import (
    AppendOnly,
    ChargeStage,
    CriminalCase,
    Deadline,
    DeadlineKind,
    DefendantStatus,
    ProceedingEvent,
    Stage,
)
from streha.justice.tests.conftest import DAY, offence

pytestmark = pytest.mark.django_db


def test_investigator_opens_from_a_victim_case_and_reports(world, reported):
    case = reported
    assert case.police_agency == world.police and case.prosecution_office == world.office
    assert list(case.victim_cases.all()) == [world.victim_case]
    assert case.stage == Stage.REPORTED and case.stage_on == DAY
    assert [e.kind for e in case.events.all()] == ["police_case_opened", "criminal_report"]
    assert AuditEvent.objects.filter(object_id=str(case.public_id), action="create").exists()


def test_the_police_outcome_is_an_event_not_a_flag(world):
    case = services.open_case(
        world.users["investigator"], opened_on=DAY, prosecution_office=world.office
    )
    services.record_event(world.users["investigator"], case, kind="special_report", occurred_on=DAY)
    case.refresh_from_db()
    assert case.stage == Stage.REPORTED
    assert case.events.filter(kind="special_report").exists()


def test_a_report_needs_a_prosecution_office(world):
    case = services.open_case(world.users["investigator"], opened_on=DAY)
    with pytest.raises(ProceedingsRefusal) as refused:
        services.record_event(
            world.users["investigator"], case, kind="criminal_report", occurred_on=DAY
        )
    assert (refused.value.status_code, refused.value.field) == (409, "kind")


def test_each_office_records_only_its_own_events(world, reported):
    users = world.users
    with pytest.raises(ProceedingsRefusal):  # not the police's to indict
        services.record_event(
            users["investigator"], reported, kind="indictment_filed", occurred_on=DAY
        )
    with pytest.raises(ProceedingsRefusal):  # the court confirms an indictment that exists
        services.record_event(
            users["liaison"], reported, kind="indictment_confirmed", occurred_on=DAY
        )
    with pytest.raises(PermissionDenied):  # a shelter never sees the case
        services.record_event(
            users["shelter_worker"], reported, kind="indictment_filed", occurred_on=DAY
        )
    services.record_event(users["prosecutor"], reported, kind="indictment_filed", occurred_on=DAY)
    reported.refresh_from_db()
    assert reported.stage == Stage.INDICTED
    assert set(reported.defendants.values_list("status", flat=True)) == {DefendantStatus.ACCUSED}


def test_events_out_of_order_or_in_the_future_are_refused(world, reported):
    with pytest.raises(ProceedingsRefusal):
        services.record_event(world.users["prosecutor"], reported, kind="final", occurred_on=DAY)
    from django.utils import timezone

    with pytest.raises(ValidationError):
        services.record_event(
            world.users["prosecutor"],
            reported,
            kind="investigation_initiated",
            occurred_on=timezone.localdate() + timedelta(days=1),
        )
    assert reported.events.count() == 2


def test_events_are_append_only(reported):
    event = reported.events.first()
    event.document = "changed"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()


def test_a_correction_is_a_new_event_with_a_reason(world, reported):
    prosecutor = world.users["prosecutor"]
    wrong = services.record_event(
        prosecutor, reported, kind="investigation_initiated", occurred_on=DAY + timedelta(days=9)
    )
    with pytest.raises(ValidationError):
        services.correct_event(prosecutor, reported, event=wrong, reason="", occurred_on=DAY)
    services.correct_event(
        prosecutor,
        reported,
        event=wrong,
        reason="Typed the wrong day",
        occurred_on=DAY + timedelta(days=2),
    )
    reported.refresh_from_db()
    assert reported.events.count() == 4  # the wrong event stays on record
    assert reported.stage == Stage.INVESTIGATION and reported.stage_on == DAY + timedelta(days=2)
    # Withdrawing the (corrected) event puts the case back at the report.
    services.correct_event(
        prosecutor, reported, event=wrong, reason="Never happened", withdraw=True
    )
    reported.refresh_from_db()
    assert reported.stage == Stage.REPORTED
    assert [e.kind for e in services.effective_events(reported)] == [
        "police_case_opened",
        "criminal_report",
    ]


def test_a_correction_is_for_whoever_may_record_the_event(world, reported):
    event = reported.events.get(kind="criminal_report")
    with pytest.raises(PermissionDenied):
        services.correct_event(
            world.users["prosecutor"], reported, event=event, reason="Not ours", withdraw=True
        )


def test_deadlines_follow_the_events(world, reported):
    prosecutor = world.users["prosecutor"]
    decide = Deadline.objects.get(case=reported, done_at__isnull=True)
    assert decide.kind == DeadlineKind.DECIDE_ON_REPORT
    assert decide.due_on == DAY + timedelta(days=30)
    assert decide.agency == world.office and decide.assignee == prosecutor
    services.record_event(prosecutor, reported, kind="investigation_initiated", occurred_on=DAY)
    open_kinds = set(
        Deadline.objects.filter(case=reported, done_at__isnull=True).values_list("kind", flat=True)
    )
    assert open_kinds == {DeadlineKind.INVESTIGATION_LIMIT}


def test_reclassification_keeps_the_earlier_charge_and_flags_a_downgrade(world, reported):
    prosecutor = world.users["prosecutor"]
    defendant = reported.defendants.first()
    first = defendant.charges.get()
    services.add_charge(
        prosecutor,
        reported,
        defendant=defendant,
        offence=offence("facilitating_prostitution"),
        stage=ChargeStage.INDICTMENT,
        recorded_on=DAY,
        replaces=first,
    )
    reported.refresh_from_db()
    assert reported.reclassified
    assert (
        defendant.charges.count() == 2
        and first.replaced_by.offence.key == "facilitating_prostitution"
    )
    with pytest.raises(ProceedingsRefusal):  # a charge is reclassified once
        services.add_charge(
            prosecutor,
            reported,
            defendant=defendant,
            offence=offence("trafficking"),
            stage=ChargeStage.INDICTMENT,
            recorded_on=DAY,
            replaces=first,
        )


def _to_trial(world, case):
    prosecutor = world.users["prosecutor"]
    services.record_event(prosecutor, case, kind="indictment_filed", occurred_on=DAY)
    services.record_event(
        world.users["liaison"], case, kind="indictment_confirmed", occurred_on=DAY
    )
    services.record_event(world.users["liaison"], case, kind="main_trial", occurred_on=DAY)
    case.refresh_from_db()


def test_sentence_below_the_statutory_minimum_is_computed(world, reported):
    _to_trial(world, reported)
    liaison = world.users["liaison"]
    first, second = reported.defendants.order_by("pk")
    ok = services.record_judgment(
        liaison,
        reported,
        defendant=first,
        instance="first",
        outcome="convicted",
        decided_on=DAY,
        sentence="imprisonment",
        months=72,
    )
    assert not ok.sentences.get().below_minimum
    assert ok.sentences.get().minimum_months == 60
    reported.refresh_from_db()
    assert not reported.below_minimum
    low = services.record_judgment(
        liaison,
        reported,
        defendant=second,
        instance="first",
        outcome="convicted",
        decided_on=DAY,
        sentence="imprisonment",
        months=36,
    )
    assert low.sentences.get().below_minimum
    reported.refresh_from_db()
    assert reported.below_minimum and reported.stage == Stage.JUDGED


def test_a_suspended_sentence_for_trafficking_is_below_the_minimum():
    assert services.below_minimum("suspended", 24, 60)
    assert services.below_minimum("fine", None, 60)
    assert not services.below_minimum("fine", None, None)
    assert not services.below_minimum("imprisonment", 60, 60)


def test_judgment_rules(world, reported):
    _to_trial(world, reported)
    liaison, defendant = world.users["liaison"], reported.defendants.first()
    with pytest.raises(ValidationError):
        services.record_judgment(
            liaison,
            reported,
            defendant=defendant,
            instance="first",
            outcome="convicted",
            decided_on=DAY,
        )
    with pytest.raises(ValidationError):
        services.record_judgment(
            liaison,
            reported,
            defendant=defendant,
            instance="first",
            outcome="acquitted",
            decided_on=DAY,
            sentence="fine",
            fine_eur=Decimal("100"),
        )
    with pytest.raises(PermissionDenied):
        services.record_judgment(
            world.users["prosecutor"],
            reported,
            defendant=defendant,
            instance="first",
            outcome="acquitted",
            decided_on=DAY,
        )


def test_a_final_judgment_makes_the_defendant_convicted(world, reported):
    _to_trial(world, reported)
    liaison, defendant = world.users["liaison"], reported.defendants.first()
    services.record_judgment(
        liaison,
        reported,
        defendant=defendant,
        instance="first",
        outcome="convicted",
        decided_on=DAY,
        sentence="imprisonment",
        months=60,
    )
    services.record_event(world.users["prosecutor"], reported, kind="appeal_filed", occurred_on=DAY)
    services.record_judgment(
        liaison,
        reported,
        defendant=defendant,
        instance="appeal",
        outcome="convicted",
        decided_on=DAY + timedelta(days=1),
        final=True,
        sentence="imprisonment",
        months=60,
    )
    reported.refresh_from_db()
    defendant.refresh_from_db()
    assert reported.stage == Stage.FINAL
    assert defendant.status == DefendantStatus.CONVICTED


def test_injured_party_claim_and_advocate_scope(world, reported):
    prosecutor, advocate = world.users["prosecutor"], world.users["advocate"]
    party = services.add_injured_party(
        prosecutor, reported, victim_case=world.victim_case, advocate="advocate"
    )
    from streha.access import policy

    access = policy.criminal_case_access(advocate, reported)
    assert access.can_view and access.injured_parties_only and not access.sees_defendants
    assert reported in policy.criminal_cases_visible_to(advocate)
    with pytest.raises(ValidationError):
        services.record_claim(
            advocate, reported, party=party, claim_filed=False, decision="granted"
        )
    services.record_claim(
        advocate,
        reported,
        party=party,
        claim_filed=True,
        decision="partly",
        amount_claimed=Decimal("5000"),
        amount_awarded=Decimal("2000"),
        amount_paid=Decimal("500"),
        decided_on=DAY,
    )
    with pytest.raises(ValidationError):
        services.record_claim(
            advocate,
            reported,
            party=party,
            claim_filed=True,
            decision="granted",
            amount_awarded=Decimal("100"),
            amount_paid=Decimal("200"),
            decided_on=DAY,
        )
    with pytest.raises(PermissionDenied):  # the advocate records claims, not events
        services.record_event(advocate, reported, kind="investigation_initiated", occurred_on=DAY)
    services.record_state_compensation(
        advocate,
        reported,
        party=party,
        applied_on=DAY,
        decision="granted",
        decided_on=DAY + timedelta(days=5),
        amount_eur=Decimal("3000"),
    )
    services.record_residence_permit(
        prosecutor,
        reported,
        party=party,
        ground="cooperation",
        status="issued",
        decided_on=DAY,
        expires_on=DAY + timedelta(days=365),
    )
    with pytest.raises(ValidationError):
        services.record_residence_permit(
            prosecutor,
            reported,
            party=party,
            ground="cooperation",
            status="refused",
            decided_on=DAY,
            expires_on=DAY + timedelta(days=1),
        )
    services.record_interview(
        world.users["investigator"],
        reported,
        party=party,
        interviewed_on=DAY,
        body="police",
        video_recorded=True,
    )
    party.refresh_from_db()
    assert party.amount_awarded == Decimal("2000")
    assert party.interviews.count() == 1 and party.state_compensations.count() == 1


def test_sharing_a_victim_case_grants_exactly_the_groups(world, reported):
    from streha.access import policy

    prosecutor = world.users["prosecutor"]
    person = world.victim_case.person
    assert not policy.person_access(prosecutor, person).can_view
    with pytest.raises(PermissionDenied):
        services.share_victim_case(
            world.users["shelter_worker"],
            world.victim_case,
            office=world.office,
            field_groups=["identity"],
        )
    with pytest.raises(ValidationError):
        services.share_victim_case(
            world.users["investigator"],
            world.victim_case,
            office=world.court,
            field_groups=["identity"],
        )
    services.share_victim_case(
        world.users["investigator"],
        world.victim_case,
        office=world.office,
        field_groups=["identity"],
    )
    access = policy.person_access(prosecutor, person)
    assert access.field_groups == frozenset({"identity"})


def test_assignment_is_within_the_office(world, reported):
    with pytest.raises(ValidationError):
        services.assign_prosecutor(world.users["prosecutor"], reported, prosecutor="inv")
    with pytest.raises(PermissionDenied):
        services.assign_prosecutor(world.users["investigator"], reported, prosecutor="pros2")
    services.assign_prosecutor(world.users["office_supervisor"], reported, prosecutor="pros2")
    reported.refresh_from_db()
    assert reported.prosecutor == world.users["other_prosecutor"]


def test_defendants_must_be_persons_the_user_may_see(world, reported):
    with pytest.raises(ValidationError) as refused:
        services.add_defendant(
            world.users["prosecutor"],
            reported,
            person_reference="T-SUSP0001",
            roles=[],
            detention="none",
        )
    assert "T-SUSP0001" not in str(refused.value)


def test_the_funnel_counts_standing_events_and_flags_the_series_break(world, reported):
    from streha.justice.selectors import attrition_funnel

    funnel = attrition_funnel(world.users["analyst"], DAY.year)
    assert funnel["cases"]["criminal_report"] == 1
    assert funnel["cases"]["police_case_opened"] == 1
    assert funnel["series_break"] is False
    assert attrition_funnel(world.users["analyst"], 2019)["series_break"] is True
    # Not an analyst: nothing.
    assert attrition_funnel(world.users["prosecutor"], DAY.year)["cases"]["criminal_report"] == 0


def test_case_reference_is_unique_per_year(world):
    first = services.open_case(world.users["investigator"], opened_on=DAY)
    second = services.open_case(world.users["investigator"], opened_on=DAY)
    assert first.reference != second.reference
    assert CriminalCase.objects.count() == 2
    assert ProceedingEvent.objects.filter(kind="police_case_opened").count() == 2
