import pytest

from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.testing.auth import reauthenticate
from streha.testing.factories import AgencyFactory, PersonFactory


@pytest.fixture
def national_analyst(make_user):
    return make_user(Role.ANALYST, agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR))


@pytest.mark.django_db
def test_counts_suppress_small_cells(api_client, national_analyst, agency):
    for _ in range(6):
        PersonFactory(owner_agency=agency, gender="feminine")
    PersonFactory(owner_agency=agency, gender="masculine", given_name="Rareperson")
    api_client.force_authenticate(national_analyst)
    rows = {
        r["value"]: r["count"]
        for r in api_client.get("/api/v1/statistics/persons/", {"by": "gender"}).json()
    }
    assert rows == {"feminine": 6, "masculine": None}
    bad = api_client.get("/api/v1/statistics/persons/", {"by": "given_name"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_pseudonymised_records_carry_no_identity_and_are_audited(
    api_client, national_analyst, agency
):
    person = PersonFactory(
        owner_agency=agency, given_name="Identifiable", personal_number="1231231231"
    )
    api_client.force_authenticate(national_analyst)
    # Records leave the system: a fresh password and second factor first (accounts.reauth).
    assert api_client.get("/api/v1/pseudonymised-persons/").status_code == 403
    api_client.force_authenticate(None)
    api_client.force_login(national_analyst)
    reauthenticate(api_client, national_analyst)
    response = api_client.get("/api/v1/pseudonymised-persons/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Identifiable" not in body and "1231231231" not in body
    assert str(person.public_id) not in body and person.reference not in body
    record = response.json()[0]
    assert len(record["pseudonym"]) == 16 and record["gender"] == person.gender
    again = api_client.get("/api/v1/pseudonymised-persons/").json()[0]
    assert again["pseudonym"] == record["pseudonym"]  # stable, so analysts can count records
    assert AuditEvent.objects.filter(purpose="statistics (pseudonymised)").count() == 2


@pytest.mark.django_db
def test_agency_analyst_counts_only_own_agency(api_client, make_user, agency, other_agency):
    for _ in range(5):
        PersonFactory(owner_agency=other_agency)
    analyst = make_user(Role.ANALYST, agency=agency)
    api_client.force_authenticate(analyst)
    assert api_client.get("/api/v1/statistics/persons/").json() == []
    case_worker = make_user(Role.CASE_WORKER, agency=agency)
    api_client.force_authenticate(case_worker)
    assert api_client.get("/api/v1/pseudonymised-persons/").status_code == 404


@pytest.mark.django_db
def test_pseudonymised_records_coarsen_dates_to_the_month_and_hide_registration_order(
    api_client, national_analyst, agency
):
    from datetime import datetime

    from django.utils import timezone

    from streha.people.models import Person

    persons = [PersonFactory(owner_agency=agency) for _ in range(6)]
    # Registered on six different days of one month, in primary-key order.
    for day, person in enumerate(persons, start=3):
        moment = timezone.make_aware(datetime(2026, 4, day, 10, 30))
        Person.objects.filter(pk=person.pk).update(created_at=moment)
    api_client.force_login(national_analyst)
    reauthenticate(api_client, national_analyst)
    records = api_client.get("/api/v1/pseudonymised-persons/").json()
    assert {record["registered_month"] for record in records} == {"2026-04"}
    assert not any("2026-04-" in str(value) for record in records for value in record.values())
    # Within the month the order follows the random public id, not who came first.
    by_public_id = sorted(persons, key=lambda person: str(person.public_id))
    from streha.protection import crypto, keys

    expected = [
        crypto.pseudonym(keys.keyring().index_key, "analysis", str(person.public_id))
        for person in by_public_id
    ]
    assert [record["pseudonym"] for record in records] == expected
