"""Fixtures for the audit tests: auditors in and out of the national coordinator's office, and
a way to tamper with the log the way a database administrator could."""

import pytest
from django.db import connection
from django.utils import translation

from streha.accounts.models import AgencyKind, Role
from streha.audit import services, triggers
from streha.audit.models import Action
from streha.testing.factories import AgencyFactory


@pytest.fixture(autouse=True)
def _english():
    # Messages are translated (the default language is Albanian); tests read the English source.
    with translation.override("en"):
        yield


@pytest.fixture
def national_agency(db):
    return AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)


@pytest.fixture
def national_auditor(make_user, national_agency):
    return make_user(Role.AUDITOR, agency=national_agency)


@pytest.fixture
def auditor(make_user, agency):
    """An auditor of an ordinary agency: sees that agency's events only."""
    return make_user(Role.AUDITOR, agency=agency)


@pytest.fixture
def chain_of(make_user, agency):
    """``chain_of(n)`` appends n events (no personal data needed) and returns them."""

    def make(count: int, actor=None):
        actor = actor or make_user(Role.CASE_WORKER, agency=agency)
        return [
            services.record(
                actor,
                Action.READ,
                object_type="people.person",
                object_id=f"00000000-0000-4000-8000-{number:012d}",
                field_groups=["identity"],
                purpose=f"case work {number}",
                details={"n": number},
            )
            for number in range(1, count + 1)
        ]

    return make


@pytest.fixture
def raw_sql():
    """Run SQL with the append-only triggers dropped, as a DBA could.

    Inside the test's transaction, so the dropped triggers (and the damage) are rolled back.
    """

    def run(sql: str, params=()):
        triggers.uninstall(connection, keep_functions=True)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run
