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
