"""The case list's cost is pinned (issue 17: the list within 2x the audited shell): its
queries do not grow with its rows, and it decrypts exactly the two names of each person shown
whose identity the user may see (no other protected column of the person or the case)."""

import pytest
from django.db import connection
from django.utils import timezone, translation

from streha.cases import services
from streha.protection import crypto
from streha.testing.factories import PersonFactory
from streha.testing.queries import AUDIT_APPEND_QUERIES

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "COMMIT")
# Session (1) and the user with their agency, role grants, second factor and jobs (1:
# ``accounts.selectors.signed_in_user``, session 16); the scopes' capped counts and keys (one
# query for all three scopes, ``selectors_batch.read_together``: they were three counts and a
# keys query per scope with cases); the page's cases with their persons' names and next due
# dates (one query: they were three); the header's menu check for court cases (1; session 12:
# the tip queue is not asked when another list may be exported); the two audit events, the
# list's and the names', in one append (``AUDIT_APPEND_QUERIES``: 4 on SQLite, chain head,
# events, subjects, head update; 2 on PostgreSQL, session 17). Session 8: 18 down to 13 for a
# case worker; session 12: 12; session 16: 9 (7 on PostgreSQL since session 17).
CASE_LIST_QUERIES = 5 + AUDIT_APPEND_QUERIES


def open_cases(worker, ngo, n):
    for i in range(n):
        person = PersonFactory(owner_agency=ngo, given_name=f"Name{i}", family_name="Testi")
        services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())


def list_cost(client, monkeypatch) -> tuple[int, int, str]:
    executed: list[str] = []
    opened = []
    real_open = crypto.open_sealed

    def counting_open(*args, **kwargs):
        opened.append(1)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(crypto, "open_sealed", counting_open)

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get("/cases/")
    monkeypatch.setattr(crypto, "open_sealed", real_open)
    assert response.status_code == 200
    queries = [sql for sql in executed if not sql.startswith(TRANSACTION_CONTROL)]
    return len(queries), len(opened), response.content.decode()


def test_the_case_list_queries_do_not_grow_with_its_rows(client, worker, ngo, monkeypatch):
    client.force_login(worker)
    open_cases(worker, ngo, 2)
    client.get("/cases/")  # the session's first renewal is not the list's
    few, few_opened, body = list_cost(client, monkeypatch)
    assert body.count("Testi</td>") == 2
    open_cases(worker, ngo, 10)
    many, many_opened, body = list_cost(client, monkeypatch)
    assert body.count("Testi</td>") == 12
    assert many == few == CASE_LIST_QUERIES
    # Two names a person, nothing else of the person or the case.
    assert (few_opened, many_opened) == (2 * 2, 12 * 2)


def test_a_list_of_the_agencys_own_cases_asks_nothing_about_break_glass(
    client, worker, ngo, monkeypatch
):
    client.force_login(worker)
    open_cases(worker, ngo, 3)
    client.get("/cases/")
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get("/cases/").status_code == 200
    assert not [sql for sql in executed if "access_breakglassgrant" in sql]


def test_another_agencys_case_reached_by_break_glass_is_still_flagged(
    client, worker, ngo, make_user, settings
):
    from datetime import timedelta

    from streha.access.models import BreakGlassGrant
    from streha.accounts.models import AgencyKind, Role
    from streha.cases.models import ReferralStatus
    from streha.testing.factories import AgencyFactory

    other = AgencyFactory(kind=AgencyKind.SOCIAL_WORK)
    sender = make_user(Role.CASE_WORKER, agency=other)
    stranger = PersonFactory(owner_agency=other, given_name="Far", family_name="Away")
    shared = services.open_case(
        sender, stranger, source="ngo", first_contact_on=timezone.localdate()
    )
    referral = services.send_referral(sender, shared, to_agency=ngo, field_groups=["narrative"])
    services.answer_referral(worker, referral, status=ReferralStatus.ACCEPTED)
    open_cases(worker, ngo, 1)
    BreakGlassGrant.objects.create(
        user=worker,
        person=stranger,
        field_groups=["identity"],
        justification="A demonstration of the flag",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client.force_login(worker)
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        body = client.get("/cases/").content.decode()
    shared_row = body.split(f">{shared.reference}</a>")[1].split("</tr>")[0]
    own_rows = body.split(f">{shared.reference}</a>")[0]
    assert "Break-glass" in shared_row
    assert "Break-glass" not in own_rows
