"""The demo's criminal cases: realistic proportions, deterministic, idempotent, consistent with
what the services would derive."""

import pytest

from streha.demo import generator
from streha.justice import services
from streha.justice.demo import generate_criminal_cases
from streha.justice.models import CriminalCase, Stage, Witness, WitnessSeal

pytestmark = pytest.mark.django_db

BEFORE_INDICTMENT = {
    Stage.POLICE,
    Stage.REPORTED,
    Stage.INVESTIGATION,
    Stage.SUSPENDED,
    Stage.DISCONTINUED,
}


def test_demo_criminal_cases():
    from streha.cases.models import Case

    generator.run(seed=5, persons=1200)
    victims = Case.objects.filter(reference__startswith="DC5-").count()
    cases = CriminalCase.objects.filter(reference__startswith="CRD5-")
    total = cases.count()
    assert 0 < total < victims * 0.3  # most victims never reach a criminal case
    before = cases.filter(stage__in=BEFORE_INDICTMENT).count()
    assert before > total * 0.6  # most cases stop before an indictment
    assert cases.filter(victim_cases__isnull=False).distinct().count() == total
    # Derived fields are what the services derive from the events.
    for case in cases[:40]:
        stage, on = services.derive_stage(services.effective_events(case))
        assert (case.stage, case.stage_on) == (stage, on)
    # Witnesses are sealed, never linked.
    for witness in Witness.objects.all()[:10]:
        assert WitnessSeal.objects.filter(witness=witness).exists()
    # Deterministic and idempotent.
    stages = sorted(cases.values_list("reference", "stage"))
    assert generate_criminal_cases(5) == 0
    assert sorted(cases.values_list("reference", "stage")) == stages


def test_demo_justice_dates_follow_first_contact_in_procedural_order():
    """Every date of a demo criminal case is on or after its victim's first contact and not
    after the demo's today; events follow the procedure; charges, judgments, witnesses,
    orders and interviews are dated where the procedure puts them; open deadlines are the
    services' own."""
    from streha.justice.demo import TODAY
    from streha.justice.models import Deadline, VictimInterview

    generator.run(seed=7, persons=900)
    cases = CriminalCase.objects.filter(reference__startswith="CRD7-").prefetch_related(
        "victim_cases", "events", "defendants__charges", "judgments", "witnesses__orders"
    )
    assert cases.exists()
    checked_judgments = checked_witnesses = 0
    for case in cases.order_by("pk"):
        first_contact = min(v.first_contact_on for v in case.victim_cases.all())
        events = sorted(case.events.all(), key=lambda e: e.pk)
        assert events[0].kind == "police_case_opened"
        assert events[0].occurred_on == case.opened_on >= first_contact
        stage = ""
        for before, event in zip([None, *events], events, strict=False):
            assert event.kind in services.NEXT_EVENTS[stage], (case.reference, event.kind)
            assert before is None or before.occurred_on <= event.occurred_on
            stage = services.EVENT_STAGE[event.kind]
        dated = {e.kind: e.occurred_on for e in events}
        assert max(dated.values()) <= TODAY
        for defendant in case.defendants.all():
            for charge in defendant.charges.all():
                expected = case.opened_on if charge.stage == "report" else dated["indictment_filed"]
                assert charge.recorded_on == expected
        for judgment in case.judgments.all():
            assert dated["main_trial"] <= judgment.decided_on <= TODAY
            assert dated["first_instance_judgment"] == judgment.decided_on
            checked_judgments += 1
        for witness in case.witnesses.all():
            assert dated["indictment_filed"] <= witness.added_on <= TODAY
            assert all(o.ordered_on >= witness.added_on for o in witness.orders.all())
            checked_witnesses += 1
        reported = min(
            (d for k, d in dated.items() if k in ("criminal_report", "special_report")),
            default=None,
        )
        interviews = VictimInterview.objects.filter(injured_party__case=case)
        for interview in interviews:
            assert reported <= interview.interviewed_on <= TODAY
        due = {
            kind: on
            for kind, (_rule, on) in services.due_deadlines(services.effective_events(case)).items()
            if on is not None and case.prosecution_office_id
        }
        open_deadlines = Deadline.objects.filter(case=case, done_at__isnull=True)
        assert dict(open_deadlines.values_list("kind", "due_on")) == due
    assert checked_judgments and checked_witnesses  # the showcase cases reach them
