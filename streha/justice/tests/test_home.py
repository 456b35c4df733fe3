"""The justice part of the home page, per role: the prosecutor's deadlines, the cases of each
role's agency by stage linking to the filtered list, and the latest events."""

import re
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from streha.justice import selectors, services
from streha.testing.plans import assert_walks_in_order, explain, queries_of

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    """The page's words, tags replaced by spaces, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def today(monkeypatch):
    """The clock, frozen at a day the test names (deadlines are due relative to it)."""

    def freeze(day: date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)

    return freeze


def _home(client, user, language="en") -> str:
    client.force_login(user)
    response = client.get(reverse("web:home"), headers={"accept-language": language})
    assert response.status_code == 200
    return response.content.decode()


def test_the_prosecutor_sees_deadlines_due_then_overdue(client, world, reported, today):
    case_url = reverse("justice:detail", args=[reported.public_id])
    today(date(2025, 3, 20))  # the decision on the report is due on 2 April 2025
    body = _home(client, world.users["prosecutor"])
    assert "Deadlines of the proceedings" in body
    due = _text(body)
    assert "Overdue deadlines 0" in due and "Deadlines in the next 14 days 1" in due
    assert (
        f'<a href="{case_url}">02/04/2025 · {reported.reference} · Decide on the criminal report'
        in body
    )
    today(date(2025, 5, 1))
    due = _text(_home(client, world.users["prosecutor"]))
    assert "Overdue deadlines 1" in due and "Deadlines in the next 14 days 0" in due


def test_the_prosecutor_sees_the_office_cases_by_stage_linking_to_the_list(client, world, reported):
    body = _home(client, world.users["prosecutor"])
    assert "Criminal cases by stage" in body
    listed = reverse("justice:list") + "?stage=reported"
    assert f'<a href="{listed}">1</a>' in body
    assert "?stage=trial" not in body  # only the stages the office has cases at
    assert client.get(listed).status_code == 200
    assert reported.reference in client.get(listed).content.decode()


def test_the_prosecutor_sees_the_recent_events(client, world, reported):
    body = _home(client, world.users["prosecutor"])
    assert "Recent events in criminal cases" in body
    case_url = reverse("justice:detail", args=[reported.public_id])
    assert (
        f'<a href="{case_url}">{reported.reference} · Criminal report sent to the prosecutor · '
        "03/03/2025</a>" in body
    )


def _events_query(user) -> tuple[str, tuple]:
    queries = queries_of(lambda: selectors.recent_events(user))
    (sql, params), *_ = [(s, p) for s, p in queries if 'FROM "justice_proceedingevent"' in s]
    return sql, params


def test_a_large_caseload_walks_the_latest_events_through_their_index(world, reported, monkeypatch):
    """At 1,000,000 persons the police unit (most criminal cases) sorted every event of its
    cases for its home page: 100 ms on PostgreSQL, 240 ms on SQLite. Past ``SMALL_CASELOAD``
    the events are walked newest first through ``proceeding_recorded``, each probed against
    the agency's cases: 0.3 ms and 5 ms. The plan is the regression, on both databases."""
    monkeypatch.setattr(selectors, "SMALL_CASELOAD", 0)  # the test's one case is "many"
    investigator = world.users["investigator"]
    assert selectors.recent_events(investigator)  # the same events whichever way (below)
    sql, params = _events_query(investigator)

    assert_walks_in_order(sql, params, table="justice_proceedingevent", index="proceeding_recorded")


def test_both_ways_give_the_same_latest_events(world, reported, monkeypatch):
    by_case = selectors.recent_events(world.users["investigator"])
    monkeypatch.setattr(selectors, "SMALL_CASELOAD", 0)
    walked = selectors.recent_events(world.users["investigator"])
    assert by_case and walked == by_case


def test_a_small_caseload_reads_its_events_by_case(world, reported):
    sql, params = _events_query(world.users["investigator"])
    plan = explain(sql, params)
    if connection.vendor == "sqlite":
        assert "USING INDEX justice_proceedingevent_case_id" in plan or "proceeding_case_date" in (
            plan
        ), plan
        assert "SCAN " not in plan.replace("SCAN CONSTANT", ""), plan
    else:
        assert "case_id" in plan and "Seq Scan on justice_proceedingevent" not in plan, plan


def test_the_home_speaks_albanian(client, world, reported):
    body = _home(client, world.users["prosecutor"], language="sq")
    assert "Criminal cases by stage" not in body and "Recent events" not in body
    assert "03.03.2025" in body


def test_the_investigator_sees_the_units_cases_and_events_without_deadlines(
    client, world, reported
):
    body = _home(client, world.users["investigator"])
    assert "Deadlines of the proceedings" not in body
    assert f"{reverse('justice:list')}?stage=reported" in body
    assert f"{reported.reference} · Criminal report sent to the prosecutor" in body


def test_the_court_liaison_sees_the_courts_cases_and_what_the_court_recorded(
    client, world, reported
):
    prosecutor, liaison = world.users["prosecutor"], world.users["liaison"]
    services.record_event(
        prosecutor, reported, kind="indictment_filed", occurred_on=date(2025, 4, 1)
    )
    services.record_event(
        liaison, reported, kind="indictment_confirmed", occurred_on=date(2025, 4, 9)
    )
    body = _home(client, liaison)
    assert "Deadlines of the proceedings" not in body
    assert f"{reverse('justice:list')}?stage=indicted" in body
    assert f"{reported.reference} · Indictment confirmed · 09/04/2025" in body


def test_roles_without_justice_work_get_no_justice_panel(client, world, reported):
    for role in ("shelter_worker", "analyst", "advocate"):
        body = _home(client, world.users[role])
        assert "Criminal cases by stage" not in body
        assert reported.reference not in body


def test_the_cases_by_stage_count_each_case_of_the_scope_once(world, reported):
    """The counts are read part by part of the scope (the user's own kind of agency first, so
    that part reads its index alone); an agency named twice on a case, or a case the user also
    sees as an injured party's representative, is still counted once, as the scope holds it."""
    from django.db.models import Count

    from streha.access import policy
    from streha.justice.models import CriminalCase, InjuredParty, Stage

    police, office, court = world.police, world.office, world.court
    made = [
        (police, office, court, Stage.TRIAL),
        (police, police, None, Stage.POLICE),  # the police unit named twice
        (police, None, police, Stage.INDICTED),
        (None, office, court, Stage.TRIAL),
        (None, None, court, Stage.FINAL),
        (office, office, court, Stage.INVESTIGATION),  # an office wrongly named as the police
    ]
    for number, (police_agency, prosecution_office, case_court, stage) in enumerate(made):
        CriminalCase.objects.create(
            reference=f"TEST-{number}",
            police_agency=police_agency,
            prosecution_office=prosecution_office,
            court=case_court,
            stage=stage,
            opened_on=date(2025, 5, 1 + number),
        )
    advocate = world.users["advocate"]
    InjuredParty.objects.create(
        case=CriminalCase.objects.get(reference="TEST-0"),
        victim_case=world.victim_case,
        label="A",
        represented_by=advocate,
    )
    InjuredParty.objects.create(
        case=CriminalCase.objects.get(reference="TEST-3"),
        victim_case=world.victim_case,
        label="B",
        represented_by=world.users["prosecutor"],
    )
    for role in ("investigator", "prosecutor", "liaison", "advocate"):
        user = world.users[role]
        expected = dict(
            policy.criminal_cases_visible_to(user)
            .order_by()
            .values_list("stage")
            .annotate(n=Count("pk"))
        )
        assert expected, role
        assert selectors._stage_counts(user) == expected, role
    investigator_parts = policy.criminal_case_scope_parts(world.users["investigator"])
    assert "NOT" not in str(investigator_parts[0].query)
    assert "police_agency_id" in str(investigator_parts[0].query)
