"""``selectors_batch.read_together``: several querysets read in one query give exactly what each
gives alone (models with their joined objects and annotations, values_list rows, flat values,
empty querysets), each in its own order and limit. Run on SQLite and on PostgreSQL."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from streha.cases import selectors
from streha.cases.models import Case, CaseEvent
from streha.cases.selectors_batch import read_together
from streha.cases.tests.test_case_page_queries import add_records

pytestmark = pytest.mark.django_db


def snapshot(result):
    """Comparable form of a queryset's result: field values, joined objects, annotations."""
    shown = []
    for item in result:
        if hasattr(item, "_meta"):
            values = {f.attname: getattr(item, f.attname) for f in item._meta.concrete_fields}
            for name in ("provider", "to_agency", "actor", "questionnaire"):
                if name in item._state.fields_cache:
                    related = item._state.fields_cache[name]
                    values[name] = related and related.pk
            for name in ("n_events",):
                if hasattr(item, name):
                    values[name] = getattr(item, name)
            shown.append((type(item).__name__, values))
        else:
            shown.append(item)
    return shown


def test_read_together_equals_each_queryset_alone(worker, case):
    add_records(worker, case, 3)
    querysets = [
        case.services.select_related("provider"),
        case.tasks.filter(done_at__isnull=True),
        selectors.latest_events(case),
        case.referrals.select_related("to_agency").order_by("sent_at", "pk"),
        selectors.consents(case)[:2],
        selectors.notes(case)[1:3],
        case.notes.none(),
        Case.objects.filter(pk=case.pk).annotate(n_events=Count("events")),
        CaseEvent.objects.filter(case=case).order_by("-pk").values_list("pk", "kind", "at"),
        CaseEvent.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)[:2],
    ]
    alone = [snapshot(queryset.all()) for queryset in querysets]
    assert all(alone[i] for i in (0, 1, 2, 3, 4, 5, 7, 8, 9))  # something to compare
    with CaptureQueriesContext(connection) as queries:
        together = read_together(*querysets)
    assert len(queries.captured_queries) == 1
    assert [snapshot(result) for result in together] == alone
    # The related manager's case is the same object (no query to reach it).
    with CaptureQueriesContext(connection) as queries:
        assert all(task.case is case for task in together[1])
    assert not queries.captured_queries


def test_read_together_of_empty_querysets_asks_nothing(case):
    with CaptureQueriesContext(connection) as queries:
        assert read_together(case.notes.none(), Case.objects.filter(pk__in=[])) == [[], []]
    assert not queries.captured_queries


def test_read_together_refuses_what_it_cannot_read_alike(case):
    with pytest.raises(TypeError):
        read_together(Case.objects.prefetch_related("notes"))
    with pytest.raises(TypeError):
        read_together(Case.objects.values("pk"))


def test_counted_members_count_like_the_sliced_queryset(worker, case):
    from streha.cases.selectors_batch import counted

    add_records(worker, case, 3)
    events = CaseEvent.objects.filter(case=case)
    total = events.count()
    assert total > 2
    with CaptureQueriesContext(connection) as queries:
        found = read_together(
            counted(events),
            counted(events[:2]),
            counted(events.none()),
            events.order_by("pk").values_list("pk", flat=True)[:1],
        )
    assert len(queries.captured_queries) == 1
    assert found == [[total], [2], [0], [events.order_by("pk").first().pk]]
