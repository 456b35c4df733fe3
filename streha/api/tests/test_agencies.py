"""/api/v1/agencies/: every member of staff reads the directory; system administrators add to it."""

import pytest

from streha.accounts.models import Agency, AgencyKind, Role
from streha.testing.factories import AgencyFactory, MunicipalityFactory, RegionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/agencies/"


def new_agency(**overrides):
    return {
        "code": "police-prizren",
        "name": "Regional police Prizren",
        "kind": "police",
    } | overrides


def test_anonymous_gets_401(api_client, agency):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.ANALYST, Role.AGENCY_ADMIN])
def test_every_member_of_staff_lists_all_agencies(
    api_client, make_user, agency, other_agency, role
):
    api_client.force_authenticate(make_user(role, agency=agency))
    response = api_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {item["code"] for item in body["results"]} == {agency.code, other_agency.code}


def test_agency_representation(api_client, make_user):
    region = RegionFactory(code="mitrovice", name_en="Mitrovica")
    municipality = MunicipalityFactory(code="vushtrri", region=region, name_en="Vushtrri")
    agency = AgencyFactory(
        code="csw-vushtrri",
        name="Centre for social work Vushtrri",
        name_sq="Qendra për Punë Sociale Vushtrri",
        kind=AgencyKind.SOCIAL_WORK,
        municipality=municipality,
    )
    national = AgencyFactory(code="nc", kind=AgencyKind.NATIONAL_COORDINATOR, municipality=None)
    api_client.force_authenticate(make_user(Role.CASE_WORKER, agency=agency))
    detail = api_client.get(f"{URL}{agency.pk}/")
    assert detail.status_code == 200
    assert detail.json() == {
        "id": agency.pk,
        "code": "csw-vushtrri",
        "name": "Centre for social work Vushtrri",
        "name_sq": "Qendra për Punë Sociale Vushtrri",
        "name_sr": "",
        "name_en": "",
        "kind": "social_work",
        "municipality": "vushtrri",
        "region": "mitrovice",
        "is_active": True,
    }
    seatless = api_client.get(f"{URL}{national.pk}/").json()
    assert seatless["municipality"] is None and seatless["region"] is None


def test_unknown_agency_is_404(api_client, make_user):
    api_client.force_authenticate(make_user(Role.CASE_WORKER))
    response = api_client.get(f"{URL}999999/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_list_can_be_filtered_by_kind(api_client, make_user, agency):
    """The viewset declares ``filterset_fields = ["kind", "is_active"]``: the filter must apply."""
    police = AgencyFactory(kind=AgencyKind.POLICE)
    api_client.force_authenticate(make_user(Role.CASE_WORKER, agency=agency))
    response = api_client.get(URL, {"kind": "police"})
    assert response.status_code == 200
    assert [item["code"] for item in response.json()["results"]] == [police.code]


def test_system_admin_creates_agency(api_client, system_admin):
    MunicipalityFactory(code="prizren", name_en="Prizren")
    api_client.force_authenticate(system_admin)
    response = api_client.post(URL, new_agency(municipality="prizren"), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "police-prizren" and body["kind"] == "police"
    assert body["municipality"] == "prizren"
    stored = Agency.objects.get(code="police-prizren")
    assert stored.pk == body["id"] and stored.municipality.code == "prizren"


def test_an_agency_without_a_seat_is_refused(api_client, system_admin):
    """Issue 10 point 9: every agency names its seat (a national or international one, the
    municipality of its office); the region of regional work and statistics follows from it."""
    api_client.force_authenticate(system_admin)
    response = api_client.post(URL, new_agency(kind="international_organisation"), format="json")
    assert response.status_code == 400
    assert "municipality" in response.json()["error"]["fields"]
    assert not Agency.objects.filter(code="police-prizren").exists()


@pytest.mark.parametrize(
    "role", [Role.AGENCY_ADMIN, Role.CASE_WORKER, Role.SUPERVISOR, Role.ANALYST, Role.AUDITOR]
)
def test_only_system_admin_creates_agencies(api_client, make_user, agency, role):
    api_client.force_authenticate(make_user(role, agency=agency))
    response = api_client.post(URL, new_agency(), format="json")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied" and error["message"]
    assert not Agency.objects.filter(code="police-prizren").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (new_agency(code="not a slug"), "code"),
        (new_agency(name=""), "name"),
        (new_agency(kind=""), "kind"),
        (new_agency(municipality="atlantis"), "municipality"),
        ({"name": "Nameless"}, "code"),
    ],
)
def test_invalid_agency_is_400_and_not_written(api_client, system_admin, data, field):
    api_client.force_authenticate(system_admin)
    before = Agency.objects.count()
    response = api_client.post(URL, data, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert field in error["fields"]
    assert Agency.objects.count() == before


def test_duplicate_code_is_400(api_client, system_admin, agency):
    api_client.force_authenticate(system_admin)
    taken = new_agency(code=agency.code, municipality=agency.municipality.code)
    response = api_client.post(URL, taken, format="json")
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]
    assert Agency.objects.filter(code=agency.code).count() == 1


def test_unknown_kind_is_refused_without_echoing_it(api_client, system_admin):
    api_client.force_authenticate(system_admin)
    response = api_client.post(URL, new_agency(kind="Zyra-e-Sekretit-77"), format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]
    assert "Zyra-e-Sekretit-77" not in response.content.decode()


@pytest.mark.parametrize("method", ["put", "delete"])
def test_agencies_are_not_replaced_or_deleted_through_the_api(
    api_client, system_admin, agency, method
):
    api_client.force_authenticate(system_admin)
    response = getattr(api_client, method)(f"{URL}{agency.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert Agency.objects.get(pk=agency.pk).name == agency.name
