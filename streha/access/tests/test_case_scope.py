"""The case list's scope parts (``policy.case_scope_parts``) and how the referred part is read.

At 1,000,000 persons / 300,000 cases on PostgreSQL the list of an agency receiving referrals
(shelters, social work) spent 130-900 ms in one query: the bounded count of its referred
cases, which PostgreSQL planned as a scan of every case in the country hashed against the
agency's referrals. A count now reads each referred case by its key from the agency's
referrals (index ``referral_shared_cases``). These tests pin that the rows are the same
either way (whatever the route a case reached the user by) and that the plan never scans the
cases table (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite). No timing: the plan is the
regression."""

import re

import pytest
from django.db import connection
from django.utils import timezone

from streha.access import policy
from streha.accounts.models import Role
from streha.cases import selectors
from streha.cases.models import Case, Referral, ReferralStatus, Status
from streha.cases.tests.factories import CaseFactory
from streha.testing.factories import AgencyFactory
from streha.testing.plans import explain, indexes_where, queries_of, union_members

pytestmark = pytest.mark.django_db


def _refer(case, to_agency, status):
    return Referral.objects.create(
        case=case,
        from_agency=case.owner_agency,
        to_agency=to_agency,
        field_groups=["identity"],
        answer_due_on=timezone.localdate(),
        status=status,
    )


@pytest.fixture
def shelter_world(make_user):
    """A shelter receiving referrals by every route, and cases it must not see."""
    shelter, police, ngo = AgencyFactory(), AgencyFactory(), AgencyFactory()
    worker = make_user(Role.CASE_WORKER, agency=shelter)
    seen = {
        "own": CaseFactory(owner_agency=shelter),
        "own, also referred to itself": CaseFactory(owner_agency=shelter),
        "assigned from another agency": CaseFactory(owner_agency=ngo, assigned_to=worker),
        "assigned and referred": CaseFactory(owner_agency=ngo, assigned_to=worker),
        "referred twice (both sharing)": CaseFactory(owner_agency=police),
    }
    for status in (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED):
        case = CaseFactory(owner_agency=police, status=Status.ASSISTANCE)
        _refer(case, shelter, status)
        seen[f"referred, {status}"] = case
    _refer(seen["own, also referred to itself"], shelter, ReferralStatus.ACCEPTED)
    _refer(seen["assigned and referred"], shelter, ReferralStatus.ACCEPTED)
    _refer(seen["referred twice (both sharing)"], shelter, ReferralStatus.ACCEPTED)
    _refer(seen["referred twice (both sharing)"], shelter, ReferralStatus.COMPLETED)
    unseen = {
        "another agency's": CaseFactory(owner_agency=police),
        "referred, sent (not answered)": CaseFactory(owner_agency=police),
        "referred, declined": CaseFactory(owner_agency=police),
        "referred to another agency": CaseFactory(owner_agency=police),
    }
    _refer(unseen["referred, sent (not answered)"], shelter, ReferralStatus.SENT)
    _refer(unseen["referred, declined"], shelter, ReferralStatus.DECLINED)
    _refer(unseen["referred to another agency"], ngo, ReferralStatus.ACCEPTED)
    return worker, seen, unseen


def _ids(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def test_counting_parts_hold_the_same_cases_as_the_page_parts(shelter_world):
    worker, seen, unseen = shelter_world
    visible = set(policy.cases_visible_to(worker).values_list("pk", flat=True))
    assert visible == {case.pk for case in seen.values()}
    assert not visible & {case.pk for case in unseen.values()}
    pages = policy.case_scope_parts(worker)
    counted = policy.case_scope_parts(worker, counting=True)
    assert len(pages) == len(counted) == 3
    for page_part, count_part in zip(pages, counted, strict=True):
        assert _ids(page_part) == _ids(count_part)
        # Disjoint and without duplicates (a case referred twice is one case): the list adds
        # the parts' counts.
        assert count_part.order_by().values("pk")[:1001].count() == len(_ids(page_part))
    union = [pk for part in counted for pk in part.values_list("pk", flat=True)]
    assert sorted(union) == sorted(visible)


def test_the_list_counts_each_visible_case_once_whatever_its_stage(shelter_world):
    worker, seen, _unseen = shelter_world
    assert selectors.list_cases(worker).paginator.count == len(seen)
    assisted = [case for case in seen.values() if case.status == Status.ASSISTANCE]
    page = selectors.list_cases(worker, status=Status.ASSISTANCE)
    assert page.paginator.count == len(assisted) == 3
    assert {case.pk for case in page} == {case.pk for case in assisted}


def test_without_case_work_there_are_no_parts(make_user):
    auditor = make_user(Role.AUDITOR, agency=AgencyFactory())
    assert policy.case_scope_parts(auditor) == []
    assert policy.case_scope_parts(auditor, counting=True) == []
    assert policy.case_scope_parts_paged_and_counted(auditor) == ([], [])


def test_both_forms_built_at_once_are_the_two_forms(shelter_world):
    """The list builds its page parts and its counting parts in one call (one less build of
    the scope per page): the same querysets, part by part, as the two calls."""
    worker, _seen, _unseen = shelter_world
    paged, counted = policy.case_scope_parts_paged_and_counted(worker)
    pairs = [
        (paged, policy.case_scope_parts(worker)),
        (counted, policy.case_scope_parts(worker, counting=True)),
    ]
    for built, alone in pairs:
        assert [str(part.query) for part in built] == [str(part.query) for part in alone]
        assert [_ids(part) for part in built] == [_ids(part) for part in alone]
    # The own and assigned parts are one queryset in both forms (filtered once by the list).
    assert paged[0] is counted[0] and paged[2] is counted[2]


def test_the_list_builds_the_scope_once(shelter_world, monkeypatch):
    worker, seen, _unseen = shelter_world
    built = []
    original = policy.case_scope_parts_paged_and_counted

    def counting(user):
        built.append(user.pk)
        return original(user)

    monkeypatch.setattr(policy, "case_scope_parts_paged_and_counted", counting)
    monkeypatch.setattr(
        policy, "case_scope_parts", lambda *a, **k: pytest.fail("scope built a second time")
    )
    assert selectors.list_cases(worker).paginator.count == len(seen)
    assert built == [worker.pk]


def _count_query_of_referred_part(worker, status: str) -> tuple[str, tuple]:
    executed = queries_of(lambda: selectors.list_cases(worker, status=status))
    # The list reads its scopes' counts together (``read_together``: one ``UNION ALL`` of
    # ``SELECT ... FROM (SELECT COUNT(*) FROM (...))`` members); each member is a query alone.
    found = [
        (sql, params)
        for statement, statement_params in executed
        for sql, params in union_members(statement, statement_params)
        if "SELECT COUNT(*)" in sql
        and '"cases_referral"' in sql
        and "NOT (" in sql
        # the assigned part tests the referrals too, to leave them out: not this one
        and "assigned_to_id" not in sql
    ]
    assert len(found) == 1, executed
    return found[0]


def _plan(sql: str, params) -> str:
    """The plan of the count (``streha.testing.plans.explain``). The indexes a walk of every
    case would take instead (cheap on a handful of rows) are dropped, with the referral indexes
    that lead by agency as the covering one does; scans are priced out. The old ``id IN
    (referrals)`` left the join to the planner's costs: here a probe by each referral, at
    300,000 cases a scan of every case hashed against the referrals (300 ms).
    ``id = ANY(ARRAY(referrals))`` has one way in, the primary key probed for each id, which
    the assertions check."""

    def drop():
        return indexes_where(
            "(tablename = 'cases_case' OR (tablename = 'cases_referral'"
            " AND indexdef LIKE '%%(to_agency_id%%' AND indexname <> 'referral_shared_cases'))"
            " AND indexdef NOT LIKE 'CREATE UNIQUE INDEX %%'"
        )

    return explain(sql, params, drop=drop, off=("seqscan", "bitmapscan"))


@pytest.mark.parametrize("status", ["", Status.ASSISTANCE])
def test_the_referred_count_reads_cases_by_key_from_the_agencys_referrals(shelter_world, status):
    worker, _seen, _unseen = shelter_world
    plan = _plan(*_count_query_of_referred_part(worker, status))
    assert "referral_shared_cases" in plan, plan  # the referrals from their index alone
    if connection.vendor == "postgresql":
        # Each case probed by its key for the ids the referrals give; no other read of cases.
        reads = [line for line in plan.splitlines() if " on cases_case" in line]
        assert len(reads) == 1 and "using cases_case_pkey" in reads[0], plan
        assert re.search(r"Index Cond: \(id = ANY \(", plan), plan
        assert "Seq Scan on cases_case" not in plan and "Hash" not in plan, plan
    else:
        assert "SEARCH cases_case USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        assert "USING COVERING INDEX referral_shared_cases" in plan, plan
        assert "SCAN cases_case" not in plan, plan


def test_the_referred_count_reads_no_case_of_an_agency_without_referrals(make_user):
    """The count's shape holds with no referral at all (an empty array of ids)."""
    worker = make_user(Role.CASE_WORKER, agency=AgencyFactory())
    CaseFactory(owner_agency=worker.agency)
    CaseFactory()  # another agency's
    counted = policy.case_scope_parts(worker, counting=True)
    assert [part.count() for part in counted] == [1, 0, 0]
    assert Case.objects.count() == 2
