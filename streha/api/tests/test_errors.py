"""Every API error is JSON of one shape: {"error": {"code", "message", "fields"?}}."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions

from streha.accounts.models import Role
from streha.api.errors import exception_handler

pytestmark = pytest.mark.django_db


def error_of(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.mark.parametrize(
    "url",
    ["/api/", "/api/nope/", "/api/v1/nope/", "/api/v2/users/", "/api/v1/users/x/y/", "/api/x"],
)
def test_unknown_api_urls_are_json_404(client, url):
    error = error_of(client.get(url), 404)
    assert error == {"code": "not_found", "message": "Not found."}


@pytest.mark.parametrize("url", ["/api/nope/", "/api/v1/nope/", "/api/v1/users/x/y/"])
def test_unknown_api_urls_are_json_404_with_debug_on(client, settings, url):
    """Issue 10 point 9: a development server's debug page listed every URL pattern."""
    settings.DEBUG = True
    response = client.get(url)
    error = error_of(response, 404)
    assert error == {"code": "not_found", "message": "Not found."}
    assert b"URLconf" not in response.content and b"cases/" not in response.content


def test_domain_errors_answer_their_status_once_for_every_view():
    from streha.errors import Conflict, DomainError

    class Gone(DomainError):
        status_code = 410
        code = "gone"

    for error, status, code in ((Conflict("Changed."), 409, "conflict"), (Gone(), 410, "gone")):
        response = exception_handler(error, {})
        assert response.status_code == status
        assert response.data["error"]["code"] == code


def test_unknown_api_urls_are_json_404_for_signed_in_users(client, make_user):
    client.force_login(make_user(Role.CASE_WORKER))
    assert error_of(client.post("/api/v1/nothing-here/", {}), 404)["code"] == "not_found"


def test_unknown_html_urls_are_html_404(client):
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_400_has_fields(api_client, agency_admin, agency):
    api_client.force_authenticate(agency_admin)
    response = api_client.post("/api/v1/users/", {"agency": agency.code}, format="json")
    error = error_of(response, 400)
    assert error["code"] == "invalid"
    assert {"username", "email"} <= set(error["fields"])
    assert all(isinstance(message, str) for message in error["fields"]["username"])


def test_malformed_json_is_400_without_echo(api_client, agency_admin):
    api_client.force_authenticate(agency_admin)
    response = api_client.generic(
        "POST", "/api/v1/users/", '{"username": "Geheim-Wert-5', content_type="application/json"
    )
    error = error_of(response, 400)
    assert error["code"] == "parse_error"
    assert "Geheim-Wert-5" not in response.content.decode()


def test_401_shape(api_client):
    assert error_of(api_client.get("/api/v1/users/"), 401)["code"] == "not_authenticated"
    bad = api_client.get("/api/v1/users/", HTTP_AUTHORIZATION="Token wrong")
    assert error_of(bad, 401)["code"] == "authentication_failed"


def test_403_shape(api_client, make_user, agency):
    api_client.force_authenticate(make_user(Role.AGENCY_ADMIN, agency=agency))
    response = api_client.post(
        "/api/v1/agencies/", {"code": "x", "name": "X", "kind": "police"}, format="json"
    )
    error = error_of(response, 403)
    assert error["code"] == "permission_denied"
    assert "fields" not in error


def test_404_shape_for_objects(api_client, make_user):
    api_client.force_authenticate(make_user(Role.AGENCY_ADMIN))
    error = error_of(api_client.get("/api/v1/users/999999/"), 404)
    assert error == {"code": "not_found", "message": "Not found."}


def test_405_shape(api_client, make_user):
    api_client.force_authenticate(make_user(Role.CASE_WORKER))
    error = error_of(api_client.delete("/api/v1/users/me/"), 405)
    assert error["code"] == "method_not_allowed"


# --- The handler on its own -------------------------------------------------------------------


def test_django_validation_error_becomes_400_with_fields():
    response = exception_handler(
        DjangoValidationError({"username": ["Taken."], "email": ["Missing."]}), {}
    )
    assert response.status_code == 400
    assert response.data["error"]["fields"] == {"username": ["Taken."], "email": ["Missing."]}
    assert response.data["error"]["code"] == "invalid"


def test_django_validation_error_without_fields():
    response = exception_handler(DjangoValidationError("Not like this."), {})
    assert response.status_code == 400
    assert response.data["error"]["fields"] == {"non_field_errors": ["Not like this."]}


def test_django_permission_denied_keeps_its_message():
    response = exception_handler(DjangoPermissionDenied("You may not."), {})
    assert response.status_code == 403
    assert response.data == {"error": {"code": "permission_denied", "message": "You may not."}}


def test_http404_becomes_not_found():
    response = exception_handler(Http404("secret detail /path/123"), {})
    assert response.status_code == 404
    assert response.data == {"error": {"code": "not_found", "message": "Not found."}}


def test_nested_validation_details_are_flattened_to_strings():
    error = exceptions.ValidationError({"roles": {0: ["Bad."]}, "items": [{"name": ["Long."]}]})
    fields = exception_handler(error, {}).data["error"]["fields"]
    assert fields == {"roles": {0: ["Bad."]}, "items": [{"name": ["Long."]}]}
    assert type(fields["roles"][0][0]) is str


def test_list_validation_error_goes_to_non_field_errors():
    response = exception_handler(exceptions.ValidationError(["Whole request wrong."]), {})
    assert response.data["error"]["fields"] == {"non_field_errors": ["Whole request wrong."]}


def test_other_exceptions_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None


def test_throttled_has_the_shape():
    response = exception_handler(exceptions.Throttled(wait=30), {})
    assert response.status_code == 429
    assert response.data["error"]["code"] == "throttled"
    assert response.data["error"]["message"]


def test_an_agency_without_a_municipality_is_refused_with_a_clear_400(api_client, make_user):
    """Issue 10 point 9 (found by schemathesis): the seat decides the agency's region."""
    from streha.accounts.models import Agency

    api_client.force_authenticate(make_user(Role.SYSTEM_ADMIN))
    for missing in ({}, {"municipality": None}, {"municipality": ""}):
        response = api_client.post(
            "/api/v1/agencies/",
            {"code": "seatless", "name": "Seatless", "kind": "police", **missing},
            format="json",
        )
        error = error_of(response, 400)
        assert "municipality" in error["fields"]
    assert not Agency.objects.filter(code="seatless").exists()


@pytest.mark.parametrize("page", ["null", "x", "0", "-1"])
def test_a_page_that_is_not_a_whole_number_from_1_is_a_400(api_client, make_user, page):
    """Issue 10 point 9 (found by schemathesis): ``page=null`` was a 404 "invalid page"."""
    api_client.force_authenticate(make_user(Role.SYSTEM_ADMIN))
    error = error_of(api_client.get("/api/v1/agencies/", {"page": page}), 400)
    assert "page" in error["fields"]
