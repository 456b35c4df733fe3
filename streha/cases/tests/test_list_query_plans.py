"""The case list's queries are served by indexes, whatever the number of cases (issue 17: the
list flat from 3,000 to 1,000,000 persons). At 1,000,000 persons the "next due" query walked
all of an agency's open tasks and the sorted columns sorted all of its cases; each test here
reads the plan of the query the page really runs (EXPLAIN on SQLite and PostgreSQL) and fails
when the index meant for it is no longer used. No timing: the plan is the regression."""

import pytest
from django.utils import timezone

from streha.cases import services
from streha.cases.models import Task, TaskKind
from streha.testing.factories import PersonFactory
from streha.testing.plans import explain, indexes_where, page_queries, union_members

pytestmark = pytest.mark.django_db


def _open_cases(worker, ngo, n=3):
    today = timezone.localdate()
    for i in range(n):
        person = PersonFactory(owner_agency=ngo, given_name=f"Name{i}", family_name="Testi")
        case = services.open_case(worker, person, source="ngo", first_contact_on=today)
        Task.objects.create(case=case, agency=ngo, kind=TaskKind.PLAN_REVIEW, due_on=today)


def _plan(sql: str, params, *, rivals: tuple[tuple[str, str], ...] = (), keep: str = "") -> str:
    """The plan of one query (``streha.testing.plans.explain``), scans and sorts priced out.

    ``rivals`` (pairs of table, leading column) names the indexes PostgreSQL's planner, without
    the statistics of a large table, finds as cheap as the right one on a handful of rows (at
    scale their agency-wide walk and sort are what made the page slow); all but ``keep`` are
    dropped, so the plan shows whether the index meant for the query serves it rather than a
    plain index on the column. A sort costs next to nothing on a handful of rows, and the
    planner's choice then turned on the table's last statistics (seen flipping with the order
    of the tests): a sort-free path must be found, and the assertions say which index gives it."""

    def drop():
        return [
            name
            for table, column in rivals
            for name in indexes_where(
                "tablename = %s AND indexdef LIKE %s AND indexname <> %s",
                [table, f"%({column}%", keep],
            )
        ]

    return explain(sql, params, drop=drop, off=("seqscan", "sort"))


def _the_query(executed, *fragments: str) -> tuple[str, tuple]:
    found = [
        (member, member_params)
        for sql, params in executed
        for member, member_params in union_members(sql, params)
        if all(f in member for f in fragments)
    ]
    assert found, f"no query with {fragments}"
    return found[0]


# The agency-wide walks the index is meant to avoid, and the plain case key index, which on a
# handful of rows is as cheap as the case's next-due index (the plan flipped between them with
# the statistics earlier tests left on PostgreSQL).
_TASK_RIVALS = (("cases_task", "agency_id"), ("cases_task", "case_id"))


def test_the_next_due_column_probes_each_case_by_the_case_index(client, worker, ngo):
    _open_cases(worker, ngo)
    client.force_login(worker)
    executed = page_queries(client, "/cases/")
    sql, params = _the_query(executed, 'MIN("cases_task"."due_on")', '"cases_task"."case_id" IN')
    assert "task_case_next_due" in _plan(
        sql, params, rivals=_TASK_RIVALS, keep="task_case_next_due"
    )


def test_sorting_by_next_due_probes_each_case_by_the_case_index(client, worker, ngo):
    _open_cases(worker, ngo)
    client.force_login(worker)
    executed = page_queries(client, "/cases/?sort=due")
    sql, params = _the_query(executed, 'AS "sort_value"', 'FROM "cases_task" U0')
    assert "task_case_next_due" in _plan(
        sql, params, rivals=_TASK_RIVALS, keep="task_case_next_due"
    )


@pytest.mark.parametrize(
    ("sort", "column", "index"),
    [
        ("reference", '"cases_case"."reference"', "case_agency_reference"),
        ("-reference", '"cases_case"."reference"', "case_agency_reference"),
        ("first_contact", '"cases_case"."first_contact_on"', "case_agency_first_contact"),
        ("-first_contact", '"cases_case"."first_contact_on"', "case_agency_first_contact"),
    ],
)
def test_a_sorted_column_is_read_in_order_from_its_index(client, worker, ngo, sort, column, index):
    _open_cases(worker, ngo)
    client.force_login(worker)
    executed = page_queries(client, f"/cases/?sort={sort}")
    sql, params = _the_query(executed, "ORDER BY", column, '"cases_case"."owner_agency_id" =')
    plan = _plan(sql, params, rivals=(("cases_case", "owner_agency_id"),), keep=index)
    assert index in plan
    assert "TEMP B-TREE" not in plan  # SQLite: no sort of the agency's cases
    assert "Sort Key" not in plan  # PostgreSQL: the same


def _other_agencies_cases(n: int) -> None:
    """``n`` cases of another agency, written in one statement (their content is not read:
    they only give the table the proportions of a national register), and the table analysed
    on PostgreSQL so that its plans rest on these rows and not on earlier tests' statistics."""
    from django.db import connection

    from streha.cases.models import Case, Source
    from streha.protection.models import assign_ids

    person = PersonFactory()
    today = timezone.localdate()
    cases = [
        Case(
            reference=f"OTHER-{i:05d}",
            person=person,
            owner_agency=person.owner_agency,
            source=Source.values[0],
            first_contact_on=today,
        )
        for i in range(n)
    ]
    assign_ids(cases)
    Case.objects.bulk_create(cases)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case")


@pytest.mark.parametrize("sort", ["stage", "-stage"])
def test_sorting_by_stage_reads_each_stage_in_order_from_its_index(client, worker, ngo, sort):
    """At 1,000,000 persons sorting by stage ranked and sorted all of an agency's cases in
    memory; now each stage is read in key order from (agency, status, id) up to the page end.

    The query orders by the primary key, so on PostgreSQL the key's own index is a sort-free
    rival that cannot be dropped; which of the two a handful of rows makes cheaper turned on
    whatever statistics earlier tests had left (it failed only in some orders). So the table is
    given what it has at scale, other agencies' cases outnumbering this one's, and analysed
    inside the test: the planner then decides on these rows alone, the same in every order."""
    _open_cases(worker, ngo)
    _other_agencies_cases(300)
    client.force_login(worker)
    executed = page_queries(client, f"/cases/?sort={sort}")
    sql, params = _the_query(
        executed, "ORDER BY", '"cases_case"."status" =', '"cases_case"."owner_agency_id" ='
    )
    assert "CASE WHEN" not in sql  # no computed rank to sort by
    plan = _plan(sql, params, rivals=(("cases_case", "owner_agency_id"),), keep="case_agency_stage")
    assert "case_agency_stage" in plan
    assert "TEMP B-TREE" not in plan
    assert "Sort Key" not in plan


def test_sorting_by_stage_orders_stage_by_stage_then_by_key(client, worker, ngo):
    """The order the index walk gives is the stages' order (not alphabetical), the primary key
    breaking ties, reversed for "-stage"."""
    from streha.cases import selectors
    from streha.cases.models import Case, Status

    _open_cases(worker, ngo, n=6)
    ranks = {code: rank for rank, code in enumerate(Status.values)}
    cases = list(Case.objects.filter(owner_agency=ngo).order_by("pk"))
    for case, status in zip(
        cases, [Status.CLOSED, Status.SCREENED, Status.ASSISTANCE] * 2, strict=True
    ):
        Case.objects.filter(pk=case.pk).update(status=status)
    expected = sorted(
        Case.objects.filter(owner_agency=ngo).values_list("status", "pk"),
        key=lambda row: (ranks[row[0]], row[1]),
    )
    expected = [pk for _status, pk in expected]
    for sort, wanted in (("stage", expected), ("-stage", expected[::-1])):
        page = selectors.list_cases(worker, sort=sort)
        assert [case.pk for case in page] == wanted, sort
