"""The demo generator for cases: realistic proportions, deterministic, idempotent."""

import pytest

from streha.cases.demo import generate_cases
from streha.cases.models import Case, Referral, Task
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_generates_thirty_percent_idempotently():
    agency = AgencyFactory()
    AgencyFactory(kind="social_work")
    persons = [PersonFactory(owner_agency=agency, birth_year=2000) for _ in range(100)]
    created, total = generate_cases(3, [p.pk for p in persons])
    assert created == total == 30 == Case.objects.count()
    assert Case.objects.filter(owner_agency=agency).count() == 30
    assert Referral.objects.exists() and Task.objects.exists()
    assert generate_cases(3, [p.pk for p in persons]) == (0, 30)
