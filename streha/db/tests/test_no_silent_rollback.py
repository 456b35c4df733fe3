"""An acknowledged write is a stored write, even when code swallowed a database error.

PostgreSQL turns COMMIT of a transaction an earlier error aborted into a silent rollback; the
project's backend (``streha.db.postgresql``) refuses that commit instead, so the request answers
503 "nothing was stored" rather than "201 Created" (``make faults`` once lost an acknowledged
person that way, while the disk was full). And the one place that catches every error of an
advisory step inside a request, the duplicate check at registration, keeps it in a savepoint, so
the registration stands. Both run on SQLite and PostgreSQL with real commits
(``transaction=True``); on SQLite a failed statement aborts nothing, so the write is stored."""

import contextlib

import pytest
from django.db import DatabaseError, connection, transaction

from streha.accounts.models import Agency, AgencyKind, Role
from streha.people.models import Person
from streha.testing.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _failing_statement():
    """A statement the database refuses (on both: no such table), as a full disk refuses a
    write; it raises a ``DatabaseError``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM streha_no_such_table")


def test_a_transaction_whose_error_was_swallowed_is_never_reported_committed():
    code = "SWALLOWED-1"
    try:
        with transaction.atomic():
            AgencyFactory(code=code)
            # The mistake this guards against: an error caught without a savepoint.
            with contextlib.suppress(DatabaseError):
                _failing_statement()
    except DatabaseError as error:
        assert connection.vendor == "postgresql"
        assert "nothing of it was stored" in str(error)
        assert not Agency.objects.filter(code=code).exists()
    else:
        assert connection.vendor == "sqlite"  # the failed statement aborted nothing there
        assert Agency.objects.filter(code=code).exists()


def test_a_savepoint_keeps_the_transaction_around_a_failed_step():
    code = "SAVEPOINT-1"
    with transaction.atomic():
        AgencyFactory(code=code)
        with pytest.raises(DatabaseError), transaction.atomic():
            _failing_statement()
    assert Agency.objects.filter(code=code).exists()


@pytest.fixture
def registrar():
    agency = AgencyFactory(kind=AgencyKind.POLICE)
    return UserFactory(agency=agency, roles=[Role.CASE_WORKER])


PERSON = {"given_name": "Drita", "family_name": "Berisha", "gender": "feminine"}


def test_a_failing_duplicate_check_leaves_the_registration_acknowledged_and_stored(
    registrar, api_client, monkeypatch
):
    from streha.linkage import services as linkage

    def check_fails(actor, person):
        _failing_statement()

    monkeypatch.setattr(linkage, "check_registration", check_fails)
    api_client.force_authenticate(registrar)
    response = api_client.post("/api/v1/persons/", PERSON, format="json")
    assert response.status_code == 201
    assert response.json()["possible_matches"] == {"in_scope": [], "elsewhere": False}
    assert Person.objects.filter(public_id=response.json()["public_id"]).exists()


def test_a_request_that_swallowed_a_database_error_never_acknowledges_a_lost_write(
    registrar, api_client, monkeypatch
):
    """Were another step to catch a database error without a savepoint, the registration
    would be rolled back by the database: the answer is then 503 with nothing stored, never a
    201 for a person who does not exist."""
    from streha.people import api

    def swallowing_check(actor, person):
        with contextlib.suppress(DatabaseError):
            _failing_statement()
        return {"in_scope": [], "elsewhere": False}

    monkeypatch.setattr(api, "registration_matches_for_api", swallowing_check)
    api_client.force_authenticate(registrar)
    before = Person.objects.count()
    response = api_client.post("/api/v1/persons/", PERSON, format="json")
    if connection.vendor == "postgresql":
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "service_unavailable"
        assert Person.objects.count() == before
    else:
        assert response.status_code == 201
        assert Person.objects.filter(public_id=response.json()["public_id"]).exists()
