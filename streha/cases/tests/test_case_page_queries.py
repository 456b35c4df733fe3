"""The case page's cost is pinned: a fixed number of queries whatever the case holds (no query
per note, referral, service, task or event), so a change that adds one fails here rather than in
the benchmarks (bench/pages.py; issue 17: the page within 2x the audited shell)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from streha.accounts.models import AgencyKind
from streha.cases import services
from streha.cases.models import AssistanceService, ConsentPurpose, ServiceKind, Task, TaskKind
from streha.testing.factories import AgencyFactory
from streha.testing.queries import AUDIT_APPEND_QUERIES

pytestmark = pytest.mark.django_db

# Session (1) and the user with their agency, role grants, second factor and jobs (1:
# ``accounts.selectors.signed_in_user``, session 16; they were four queries), the case (1), the
# questionnaires offered (1), the page's records in ONE query (services, tasks, events,
# screening, documents, referrals, consents, notes and the profile's municipalities:
# ``selectors_batch.read_together``, session 8; they were nine queries), the header's menu check
# for court cases (1; session 12: the tip queue is not asked when another list may be exported)
# and the audit event with its subject (``AUDIT_APPEND_QUERIES``: 4 on SQLite, chain head,
# event, subject, head update; 2 on PostgreSQL, session 17: the head and one statement). Not
# counted: transaction control (BEGIN, savepoints), which differs between SQLite, PostgreSQL
# and the test's transaction.
# No session write: the idle timeout is renewed once a minute (SessionRenewalMiddleware).
CASE_PAGE_QUERIES = 6 + AUDIT_APPEND_QUERIES
TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "COMMIT")


def page_queries(client, case) -> tuple[int, list[str]]:
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(f"/cases/{case.public_id}/")
    assert response.status_code == 200
    queries = [sql for sql in executed if not sql.startswith(TRANSACTION_CONTROL)]
    return len(queries), executed


def add_records(worker, case, n):
    today = timezone.localdate()
    for i in range(n):
        services.add_note(worker, case, body=f"Note {i}")
        services.record_consent(worker, case, purpose=ConsentPurpose.values[0], given=True)
        Task.objects.create(
            case=case, agency_id=case.owner_agency_id, kind=TaskKind.FOLLOW_UP, due_on=today
        )
        AssistanceService.objects.create(
            case=case,
            kind=ServiceKind.values[i % len(ServiceKind.values)],
            provider_id=case.owner_agency_id,
            starts_on=today - timedelta(days=i),
        )
        case.refresh_from_db()
        services.send_referral(
            worker, case, to_agency=AgencyFactory(kind=AgencyKind.SHELTER), field_groups=[]
        )
        case.refresh_from_db()


def test_case_page_queries_do_not_grow_with_its_records(client, worker, case):
    client.force_login(worker)
    client.get(f"/cases/{case.public_id}/")  # the session's first renewal is not the page's
    add_records(worker, case, 1)
    few, _ = page_queries(client, case)
    add_records(worker, case, 4)
    many, executed = page_queries(client, case)
    assert many == few, executed


def test_case_page_query_count_is_pinned(client, worker, case):
    client.force_login(worker)
    client.get(f"/cases/{case.public_id}/")
    add_records(worker, case, 2)
    count, executed = page_queries(client, case)
    assert count == CASE_PAGE_QUERIES, "\n".join(executed)


def test_case_page_reads_only_the_persons_columns_it_shows(client, worker, case):
    """Of the person, the case page reads its link, reference, name and data key: not its sealed
    numbers, address, narrative, health notes or search indexes (never shown there). The name
    still opens, and no deferred field is read later (that would be one more query)."""
    client.force_login(worker)
    client.get(f"/cases/{case.public_id}/")
    count, executed = page_queries(client, case)
    assert count == CASE_PAGE_QUERIES, "\n".join(executed)
    [joined] = [sql for sql in executed if 'JOIN "people_person"' in sql]
    for column in ("narrative", "health_notes", "personal_number", "address", "name_index"):
        assert f'"people_person"."{column}"' not in joined
    for column in ("data_key", "public_id", "reference", "given_name", "family_name"):
        assert f'"people_person"."{column}"' in joined
    response = client.get(f"/cases/{case.public_id}/")
    from streha.audit import read_context

    with read_context.system("test: the name shown"):
        name = f"{case.person.given_name} {case.person.family_name}"
    assert name in response.content.decode()


def test_the_case_page_compiles_its_case_read_and_records_once(client, worker, case, ngo):
    """The case read and the nine record lists are the same queries on every case page: after
    the first page, another case's page compiles only their WHERE clauses (``read_together``'s
    ``shape``), not their ~200 columns again; the page shows that case's own records."""
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    from streha.cases import selectors_batch
    from streha.testing.factories import PersonFactory

    selectors_batch._REUSED.members = {}
    other = services.open_case(
        worker,
        PersonFactory(owner_agency=ngo),
        source="ngo",
        first_contact_on=case.first_contact_on,
    )
    add_records(worker, case, 1)
    services.add_note(worker, other, body="Only on the other case")
    client.force_login(worker)

    def compilations(shown):
        with mock.patch.object(
            SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql
        ):
            response = client.get(f"/cases/{shown.public_id}/")
            return response, SQLCompiler.as_sql.call_count

    first_response, first = compilations(case)
    second_response, second = compilations(other)
    assert second <= first - 10, (first, second)
    assert "Only on the other case" in second_response.content.decode()
    assert "Only on the other case" not in first_response.content.decode()
    assert other.reference in second_response.content.decode()
    count, executed = page_queries(client, other)
    assert count == CASE_PAGE_QUERIES, "\n".join(executed)
