"""The other lists of an agency receiving referrals, at 1,000,000 persons on PostgreSQL: the
referral inbox sorted all of the agency's referrals (12,000 for one shelter: 80-140 ms a
query) and "my work" all of its open tasks (26,000: 100-125 ms, and its count 55-70 ms) for
every page. Each is now read in order from an index up to the page's end
(``referral_inbox_sent``, ``task_agency_open_due``); these tests read the plan of the query
the page runs (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) and fail when the index
is not used or the rows are sorted. No timing: the plan is the regression."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streha.accounts.models import Role
from streha.cases.models import Referral, ReferralStatus, Task, TaskKind
from streha.cases.tests.factories import CaseFactory
from streha.testing.factories import AgencyFactory
from streha.testing.plans import explain, other_indexes, page_queries, union_members

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelter_worker(make_user):
    shelter, police = AgencyFactory(), AgencyFactory()
    worker = make_user(Role.CASE_WORKER, agency=shelter)
    today = timezone.localdate()
    for i in range(4):
        case = CaseFactory(owner_agency=police)
        Referral.objects.create(
            case=case,
            from_agency=police,
            to_agency=shelter,
            field_groups=[],
            answer_due_on=today,
            status=ReferralStatus.SENT,
        )
        own = CaseFactory(owner_agency=shelter)
        Task.objects.create(
            case=own, agency=shelter, kind=TaskKind.PLAN_REVIEW, due_on=today - timedelta(i)
        )
    return worker


def _the_query(executed, *fragments: str) -> tuple[str, tuple]:
    """The first query (or member of a ``read_together`` UNION ALL) with all ``fragments``."""
    members = [member for sql, params in executed for member in union_members(sql, params)]
    found = [(sql, params) for sql, params in members if all(f in sql for f in fragments)]
    assert found, f"no query with {fragments}"
    return found[0]


def _plan(sql: str, params, *, table: str, keep: str) -> str:
    """The plan of one query, the other indexes of ``table`` that a handful of rows makes as
    cheap (at scale: a walk and a sort of the agency's rows) dropped and scans and sorts priced
    out: the plan shows whether ``keep`` gives the rows in order."""

    return explain(sql, params, drop=other_indexes(table, keep), off=("seqscan", "sort"))


def test_the_referral_inbox_reads_a_page_in_order_from_its_index(client, shelter_worker):
    client.force_login(shelter_worker)
    executed = page_queries(client, "/cases/referrals/")
    sql, params = _the_query(
        executed, 'FROM "cases_referral"', 'ORDER BY "cases_referral"."sent_at" DESC'
    )
    plan = _plan(sql, params, table="cases_referral", keep="referral_inbox_sent")
    assert "referral_inbox_sent" in plan, plan
    assert "Sort Key" not in plan and "TEMP B-TREE" not in plan, plan


def test_my_work_reads_open_tasks_in_due_order_from_its_index(client, shelter_worker):
    client.force_login(shelter_worker)
    executed = page_queries(client, "/cases/tasks/")
    sql, params = _the_query(executed, 'FROM "cases_task"', 'ORDER BY "cases_task"."due_on" ASC')
    plan = _plan(sql, params, table="cases_task", keep="task_agency_open_due")
    assert "task_agency_open_due" in plan, plan
    assert "Sort Key" not in plan and "TEMP B-TREE" not in plan, plan
