import pytest

from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
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
