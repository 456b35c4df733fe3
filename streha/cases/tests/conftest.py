"""Fixtures shared by the case tests (the world of every role: the root conftest's ``world``)."""

import pytest
from django.utils import timezone

from streha.accounts.models import AgencyKind, Role
from streha.cases import services
from streha.testing.factories import AgencyFactory, PersonFactory


@pytest.fixture(autouse=True)
def _questionnaires(db):
    """The questionnaires come from a data migration; a transactional test run earlier in the
    session may have flushed them, so make sure they are there."""
    from streha.cases.models import Questionnaire
    from streha.cases.questionnaires import seed

    seed(Questionnaire)


@pytest.fixture
def ngo(db):
    """The agency of most case tests: a shelter (no competent authority for identification)."""
    return AgencyFactory(kind=AgencyKind.SHELTER)


@pytest.fixture
def worker(make_user, ngo):
    return make_user(Role.CASE_WORKER, agency=ngo, username="worker")


@pytest.fixture
def supervisor(make_user, ngo):
    return make_user(Role.SUPERVISOR, agency=ngo, username="boss")


@pytest.fixture
def prosecutor(make_user, ngo):
    """Sees the agency's cases but may not change them."""
    return make_user(Role.PROSECUTOR, agency=ngo)


@pytest.fixture
def outsider(make_user):
    return make_user(Role.SUPERVISOR, agency=AgencyFactory(kind=AgencyKind.POLICE))


@pytest.fixture
def case(worker, ngo):
    person = PersonFactory(owner_agency=ngo, given_name="Drita")
    return services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())


@pytest.fixture
def child_case(worker, ngo):
    person = PersonFactory(owner_agency=ngo, birth_year=timezone.localdate().year - 14)
    return services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())
