"""``read_together(..., shape=...)``: a call site's members compiled once and reused between
requests (only their WHERE clauses compiled again), with each request's own values. Reading
with a shape gives exactly what reading without one gives, for one case after another; what
cannot be reused (a value outside the WHERE clause, an annotation) is compiled every time.
Run on SQLite and on PostgreSQL."""

from unittest import mock

import pytest
from django.db import connection
from django.db.models import Count, Value
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streha.cases import selectors, selectors_batch, services
from streha.cases.models import Case, CaseEvent, Task
from streha.cases.selectors_batch import counted, read_together
from streha.cases.tests.test_case_page_queries import add_records
from streha.cases.tests.test_read_together import snapshot
from streha.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    selectors_batch._REUSED.members = {}
    yield
    selectors_batch._REUSED.members = {}


@pytest.fixture
def other_case(worker, ngo):
    person = PersonFactory(owner_agency=ngo, given_name="Besa")
    return services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())


def members(case):
    return [
        case.services.select_related("provider"),
        case.tasks.filter(done_at__isnull=True),
        selectors.latest_events(case),
        case.referrals.select_related("to_agency").order_by("sent_at", "pk"),
        selectors.consents(case)[:2],
        selectors.notes(case)[1:3],
        case.notes.none(),
        CaseEvent.objects.filter(case=case).order_by("-pk").values_list("pk", "kind", "at"),
        CaseEvent.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)[:2],
        counted(CaseEvent.objects.filter(case=case)[:3]),
    ]


def full_compilations(function):
    """``function()``'s result and how many times Django compiled a whole SELECT for it."""
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql):
        result = function()
        return result, SQLCompiler.as_sql.call_count


def test_a_shape_reads_each_cases_own_records_as_a_plain_read_does(worker, case, other_case):
    add_records(worker, case, 3)
    add_records(worker, other_case, 2)
    for current in (case, other_case, case, other_case):
        alone = [snapshot(result) for result in read_together(*members(current))]
        with CaptureQueriesContext(connection) as queries:
            shaped = read_together(*members(current), shape="test")
        assert len(queries.captured_queries) == 1
        assert [snapshot(result) for result in shaped] == alone
        # each member's rows are this case's (the reused SQL holds no value of another case)
        assert {service.case_id for service in shaped[0]} == {current.pk}
        assert shaped[9] == [min(3, CaseEvent.objects.filter(case=current).count())]
    # The related manager's case is this request's object (no query to reach it).
    with CaptureQueriesContext(connection) as queries:
        assert all(task.case is other_case for task in shaped[1])
    assert not queries.captured_queries


def test_a_shape_compiles_only_the_where_clauses_after_its_first_read(worker, case, other_case):
    add_records(worker, case, 1)
    _, first = full_compilations(lambda: read_together(*members(case), shape="test"))
    _, again = full_compilations(lambda: read_together(*members(other_case), shape="test"))
    _, unshaped = full_compilations(lambda: read_together(*members(other_case)))
    assert first >= 9  # each member (the empty one raises before its select is compiled)
    assert again == 0
    assert unshaped >= 9


def test_a_value_outside_the_where_clause_is_never_reused(case, other_case):
    def annotated(current, label):
        return (
            Case.objects.filter(pk=current.pk)
            .annotate(label=Value(label))
            .values_list("pk", "label")
        )

    assert read_together(annotated(case, "a"), shape="test") == [[(case.pk, "a")]]
    assert read_together(annotated(other_case, "b"), shape="test") == [[(other_case.pk, "b")]]
    assert not selectors_batch._REUSED.members


def test_a_grouped_count_is_reused_with_each_requests_own_values(worker, case, other_case):
    """A count by group (the home page's criminal cases by stage, a list's earliest due date)
    holds no value outside its WHERE clause: compiled once, then each call counts its own."""
    add_records(worker, case, 3)
    add_records(worker, other_case, 1)

    def counted_events(current):
        return Case.objects.filter(pk=current.pk).annotate(n=Count("events")).values_list("n")

    def events_by_kind(current):
        return (
            CaseEvent.objects.filter(case=current)
            .order_by()
            .values_list("kind")
            .annotate(n=Count("pk"))
        )

    def both(current):
        return read_together(counted_events(current), events_by_kind(current), shape="test")

    expected = {
        current.pk: [list(counted_events(current)), sorted(events_by_kind(current))]
        for current in (case, other_case)
    }
    assert expected[case.pk] != expected[other_case.pk]
    _, first = full_compilations(lambda: both(case))
    assert first == 2
    for current in (other_case, case, other_case):
        found, compiled = full_compilations(lambda current=current: both(current))
        assert compiled == 0
        assert [found[0], sorted(found[1])] == expected[current.pk]
    # A different grouping or aggregate is a different structure, never the kept SQL.
    by_actor = (
        CaseEvent.objects.filter(case=case)
        .order_by()
        .values_list("actor_id")
        .annotate(n=Count("pk"))
    )
    assert sorted(read_together(by_actor, shape="test")[0]) == sorted(by_actor)


def test_a_shape_keeps_each_slice_and_each_where_clause_apart(worker, case):
    add_records(worker, case, 3)
    tasks = Task.objects.filter(case=case).order_by("pk")
    every = list(tasks.values_list("pk", flat=True))
    assert read_together(tasks.values_list("pk", flat=True)[:1], shape="test") == [every[:1]]
    assert read_together(tasks.values_list("pk", flat=True)[1:3], shape="test") == [every[1:3]]
    some = tasks.filter(pk__in=every[:2]).values_list("pk", flat=True)
    more = tasks.filter(pk__in=every).values_list("pk", flat=True)
    assert read_together(some, shape="test") == [every[:2]]
    assert read_together(more, shape="test") == [every]
    assert read_together(tasks.none(), shape="test") == [[]]


def test_a_shape_refuses_what_read_together_cannot_read_alike(case):
    for _ in range(2):
        with pytest.raises(TypeError):
            read_together(Case.objects.prefetch_related("notes"), shape="test")
        with pytest.raises(TypeError):
            read_together(Case.objects.values("pk"), shape="test")


def test_the_kept_sql_holds_nothing_of_the_request_that_compiled_it(worker, case):
    """A related manager's filter holds its case object: what a shape keeps between requests
    (its compiled SQL and a compiler to turn rows into objects) must not keep that object."""
    import gc
    import weakref

    add_records(worker, case, 1)
    read = Case.objects.get(pk=case.pk)
    kept = weakref.ref(read)
    [services_] = read_together(read.services.select_related("provider"), shape="test")
    assert services_ and selectors_batch._REUSED.members
    del read, services_
    gc.collect()
    assert kept() is None
    again = read_together(case.services.select_related("provider"), shape="test")
    assert [service.case is case for service in again[0]] == [True]
