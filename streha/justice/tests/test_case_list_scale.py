"""The criminal case list at scale, without timing: it shows exactly the policy's scope, reads
each part of it newest first through an index (no sort of every case of an office), never
counts the whole list, and runs the same queries at 2 cases and at 30."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from streha.access import policy
from streha.justice import selectors, services
from streha.justice.models import CriminalCase, Stage
from streha.justice.tests.conftest import DAY
from streha.testing.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def _open(world, n: int, office=None, start=0) -> None:
    for i in range(start, start + n):
        case = services.open_case(
            world.users["investigator"],
            opened_on=DAY - timedelta(days=i % 7),  # ties on the date: the id breaks them
            prosecution_office=office or world.office,
        )
        if i % 3 == 0:
            services.record_event(
                world.users["investigator"], case, kind="criminal_report", occurred_on=DAY
            )


def _expected(user, **filters) -> list[int]:
    cases = policy.criminal_cases_visible_to(user)
    if filters.get("stage"):
        cases = cases.filter(stage=filters["stage"])
    if filters.get("year"):
        cases = cases.filter(opened_on__year=filters["year"])
    return list(cases.order_by("-opened_on", "-pk").values_list("pk", flat=True))


def test_the_list_shows_exactly_the_policy_scope_page_by_page(world, reported):
    from streha.accounts.models import AgencyKind

    elsewhere = AgencyFactory(code="office-x", name="Elsewhere", kind=AgencyKind.PROSECUTION)
    _open(world, 31)
    _open(world, 4, office=elsewhere, start=40)  # the police see them, the office does not
    party = reported.injured_parties.first()
    assert party is None or party.represented_by is None
    users = [world.users[name] for name in ("prosecutor", "investigator", "liaison", "advocate")]
    users.append(world.users["shelter_worker"])
    for user in users:
        for filters in ({}, {"stage": Stage.REPORTED}, {"stage": Stage.POLICE}, {"year": 2025}):
            expected = _expected(user, **filters)
            shown = []
            for number in range(1, 4):
                page = selectors.list_cases(user, page=number, **filters)
                if page.number != number:
                    break  # past the end: the last page again
                shown += [c.pk for c in page]
                assert page.more == (len(expected) > number * selectors.PAGE_SIZE)
                assert page.count == min(len(expected), number * selectors.PAGE_SIZE)
            assert shown == expected[: len(shown)] and len(shown) == min(len(expected), 75)
    assert not selectors.list_cases(world.users["shelter_worker"]).object_list
    assert len(_expected(world.users["investigator"])) > len(_expected(world.users["prosecutor"]))


def test_a_page_past_the_end_is_the_last_page(world):
    _open(world, 27)
    page = selectors.list_cases(world.users["prosecutor"], page=9)
    assert (page.number, len(page), page.more, page.count) == (2, 2, False, 27)
    assert selectors.list_cases(world.users["prosecutor"], page="x").number == 1


def test_the_page_says_more_than_when_it_did_not_count_everything(world, client):
    _open(world, 26)
    client.force_login(world.users["prosecutor"])
    first = client.get("/justice/").content.decode()
    assert '<p class="muted" id="criminal-count">Më shumë se 25 çështje penale</p>' in first
    second = client.get("/justice/?page=2").content.decode()
    assert '<p class="muted" id="criminal-count">26 ' in second and "Më shumë se" not in second


def _list_queries(client) -> int:
    client.get("/justice/")  # warm: the user's agency and roles are read once per request
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/justice/").status_code == 200
        assert client.get("/justice/?stage=reported&page=2").status_code == 200
    return len(queries)


def test_the_list_runs_the_same_queries_at_two_cases_and_at_thirty(world, client):
    client.force_login(world.users["prosecutor"])
    _open(world, 2)
    few = _list_queries(client)
    _open(world, 60, start=2)
    assert CriminalCase.objects.count() == 62
    assert _list_queries(client) == few


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"stage": Stage.REPORTED},
        {"reclassified": True},
        {"below_minimum": True},
        {"year": 2025},
    ],
)
def test_each_part_of_the_list_is_read_newest_first_through_an_index(world, filters):
    user = world.users["prosecutor"]
    parts = selectors.list_parts(user, **filters)
    office_part = parts[0]  # the prosecution office's own cases: the large part
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # tiny test tables: make the planner show its index
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    plan = office_part.values_list("opened_on", "pk")[:26].explain()
    assert "crim_office_" in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # no sort of the office's cases
