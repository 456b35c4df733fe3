"""Agency API tokens and sessions as ways into /api/v1/."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from streha.accounts import services
from streha.accounts.models import ApiToken, Role
from streha.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


@pytest.fixture
def issued(agency_admin, service_account):
    """(token, secret) of a client acting as ``service_account``."""
    return services.issue_api_token(agency_admin, user=service_account, name="Shelter sync")


def call(api_client, authorization, url=ME):
    return api_client.get(url, HTTP_AUTHORIZATION=authorization)


def assert_refused(response):
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"] == "Token"
    error = response.json()["error"]
    assert error["code"] in {"authentication_failed", "not_authenticated"}
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_token_authenticates_as_its_user(api_client, issued, service_account):
    _token, secret = issued
    response = call(api_client, f"Token {secret}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == service_account.pk and body["username"] == "sync.client"
    assert body["agency"] == service_account.agency.code
    assert body["roles"] == [Role.CASE_WORKER]


@pytest.mark.parametrize("keyword", ["Token", "token", "Bearer", "bearer"])
def test_token_and_bearer_keywords(api_client, issued, keyword):
    assert call(api_client, f"{keyword} {issued[1]}").status_code == 200


def test_token_use_is_recorded_at_most_once_a_minute(api_client, issued):
    token, secret = issued
    assert token.last_used_at is None
    call(api_client, f"Token {secret}")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    call(api_client, f"Token {secret}")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    call(api_client, f"Token {secret}")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - timedelta(minutes=5)


def test_no_credentials_is_401(api_client):
    error = assert_refused(call(api_client, ""))
    assert error["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Token ",
        "Bearer",
        "Token a b",
        "Token strh_deadbeef_not-a-real-secret",
        "Token nonsense",
        "Bearer strh_x_y",
    ],
)
def test_unknown_and_malformed_tokens_are_401(api_client, issued, header):
    error = assert_refused(call(api_client, header))
    assert error["code"] == "authentication_failed"


def test_non_utf8_token_is_401(api_client):
    response = APIClient().get(ME, HTTP_AUTHORIZATION="Token \xe9\xe8strh")
    error = assert_refused(response)
    assert error["code"] == "authentication_failed"


def test_digest_is_not_a_credential(api_client, issued):
    token, _secret = issued
    assert_refused(call(api_client, f"Token {token.key_digest}"))


def test_revoked_token_is_401(api_client, issued, agency_admin):
    token, secret = issued
    services.revoke_api_token(agency_admin, token)
    error = assert_refused(call(api_client, f"Token {secret}"))
    assert error["code"] == "authentication_failed"


def test_expired_token_is_401(api_client, issued):
    token, secret = issued
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(call(api_client, f"Token {secret}"))


def test_token_with_future_expiry_works(api_client, agency_admin, service_account):
    _token, secret = services.issue_api_token(
        agency_admin, user=service_account, name="t", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert call(api_client, f"Token {secret}").status_code == 200


def test_token_of_deactivated_user_is_401(api_client, issued, service_account, agency_admin):
    _token, secret = issued
    services.update_user(agency_admin, service_account, is_active=False)
    assert_refused(call(api_client, f"Token {secret}"))


def test_token_of_deactivated_agency_is_401(api_client, issued, agency):
    _token, secret = issued
    agency.is_active = False
    agency.save()
    assert_refused(call(api_client, f"Token {secret}"))


def test_token_of_user_moved_to_another_agency_is_401(
    api_client, issued, service_account, other_agency
):
    _token, secret = issued
    service_account.agency = other_agency
    service_account.save()
    assert_refused(call(api_client, f"Token {secret}"))


def test_unknown_scheme_is_not_authenticated(api_client):
    error = assert_refused(call(api_client, "Basic dXNlcjpwYXNz"))
    assert error["code"] == "not_authenticated"


def test_token_clients_need_no_csrf_token(issued, service_account, agency_admin):
    provisioning = UserFactory(
        agency=agency_admin.agency, roles=[Role.AGENCY_ADMIN], is_service_account=True
    )
    _token, admin_secret = services.issue_api_token(
        agency_admin, user=provisioning, name="adm", scopes=["read", "write"]
    )
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/api-tokens/",
        {"name": "Second client", "user": service_account.pk},
        format="json",
        HTTP_AUTHORIZATION=f"Token {admin_secret}",
    )
    assert response.status_code == 201


def test_token_responses_are_not_cached(api_client, issued):
    response = call(api_client, f"Token {issued[1]}")
    assert "no-store" in response["Cache-Control"]
    assert response["X-Request-ID"]


# --- Sessions ---------------------------------------------------------------------------------


def test_session_authentication_works(client, colleague):
    client.force_login(colleague)
    response = client.get(ME)
    assert response.status_code == 200 and response.json()["username"] == "colleague"


def test_session_writes_need_the_csrf_token(agency_admin, service_account):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(agency_admin)
    refused = client.post(
        "/api/v1/api-tokens/", {"name": "x", "user": service_account.pk}, format="json"
    )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "permission_denied" and "CSRF" in error["message"]
    assert not ApiToken.objects.exists()

    csrf = client.get("/api-tokens/").cookies["csrftoken"].value  # a page with a form
    accepted = client.post(
        "/api/v1/api-tokens/",
        {"name": "x", "user": service_account.pk},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert accepted.status_code == 201


def test_session_of_deactivated_user_is_refused(client, colleague):
    client.force_login(colleague)
    colleague.is_active = False
    colleague.save()
    assert_refused(client.get(ME))
