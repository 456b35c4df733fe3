"""``streha.sql.AmongIds``: a list of keys as ONE query parameter, the same rows as ``__in``;
and a search hands its candidates from query to query that way, however many namesakes."""

import pytest
from django.db import connection
from django.db.models import Q

from streha.accounts.models import AgencyKind, Role
from streha.cases import selectors as case_selectors
from streha.cases.tests.factories import CaseFactory
from streha.people import selectors
from streha.people.models import Person
from streha.sql import AmongIds
from streha.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_same_rows_as_in():
    persons = PersonFactory.create_batch(6)
    chosen = [persons[0].pk, persons[3].pk, persons[5].pk, 10**12]  # and a key of no one

    def keys(*conditions):
        return sorted(Person.objects.filter(*conditions).values_list("pk", flat=True))

    assert keys(AmongIds("pk", chosen)) == keys(Q(pk__in=chosen)) == sorted(chosen[:3])
    assert keys(AmongIds("pk", [])) == []
    # Combined with other conditions, negated, and through a foreign key column.
    other = Q(reference=persons[0].reference)
    assert keys(Q(AmongIds("pk", chosen)) & ~other) == sorted(chosen[1:3])
    assert keys(~Q(AmongIds("pk", chosen))) == keys(~Q(pk__in=chosen))
    case = CaseFactory(person=persons[3])
    found = case.__class__.objects.filter(AmongIds("person_id", chosen))
    assert list(found.values_list("pk", flat=True)) == [case.pk]


def test_a_search_sends_its_candidates_as_one_parameter_however_many(world):
    user = world.user(Role.CASE_WORKER, AgencyKind.POLICE)
    namesakes = [
        world.person(AgencyKind.POLICE, given_name="Vjosa", family_name="Kelmendi")
        for _ in range(80)
    ]
    for person in namesakes[:60]:
        CaseFactory(person=person, owner_agency=user.agency)
    sent = []

    def parameters(execute, sql, params, many, context):
        sent.append(len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(parameters):
        persons = list(selectors.list_persons(user, query="Vjosa Kelmendi"))
        cases = case_selectors.list_cases(user, query="Kelmendi Vjosa")
    ids = {person.pk for person in namesakes}
    assert len(persons) == selectors.PAGE_SIZE and {row.person.pk for row in persons} <= ids
    assert len(cases.object_list) == case_selectors.PAGE_SIZE and cases.more_results
    assert {case.person_id for case in cases.object_list} <= ids
    # Eighty candidates went from the name index to the scope, and sixty cases on: no query
    # grew by one parameter per candidate (those of a page, its 25 rows, are bounded anyway).
    assert sent and max(sent) < 60
