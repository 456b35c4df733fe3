"""/api/v1/api-tokens/: issue (the secret is shown once), list, revoke."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from streha.accounts import services
from streha.accounts.models import ApiToken, Role

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-tokens/"
FIELDS = {
    "id",
    "name",
    "key_prefix",
    "agency",
    "user",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "scopes",
    "is_active",
}


def test_issue_returns_the_secret_once_and_stores_a_digest(
    api_client, agency_admin, service_account
):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(
        URL, {"name": "Shelter sync", "user": service_account.pk}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == FIELDS | {"token"}
    secret = body["token"]
    assert secret.startswith("strh_") and body["key_prefix"] == secret.split("_")[1]
    assert (body["user"], body["agency"], body["is_active"]) == (
        "sync.client",
        service_account.agency.code,
        True,
    )

    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.key_digest == ApiToken.digest(secret)
    row = ApiToken.objects.filter(pk=stored.pk).values().get()
    assert all(secret not in str(value) for value in row.values())

    listed = api_client.get(URL)
    detail = api_client.get(f"{URL}{stored.pk}/")
    for response in (listed, detail):
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert stored.key_digest not in response.content.decode()
    assert set(detail.json()) == FIELDS
    assert [item["id"] for item in listed.json()["results"]] == [stored.pk]

    used = APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert used.status_code == 200 and used.json()["username"] == "sync.client"


def test_issue_with_expiry(api_client, agency_admin, service_account):
    api_client.force_authenticate(agency_admin)
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = api_client.post(
        URL,
        {"name": "Monthly", "user": service_account.pk, "expires_at": expires.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).expires_at == expires


def test_expiry_in_the_past_is_400(api_client, agency_admin, service_account):
    api_client.force_authenticate(agency_admin)
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = api_client.post(
        URL, {"name": "Late", "user": service_account.pk, "expires_at": past}, format="json"
    )
    assert response.status_code == 400
    assert "expires_at" in response.json()["error"]["fields"]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"user": "not-a-number"}, "user"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"expires_at": "someday"}, "expires_at"),
    ],
)
def test_invalid_issue_is_400(api_client, agency_admin, service_account, data, field):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(
        URL, {"name": "Sync", "user": service_account.pk} | data, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not ApiToken.objects.exists()


def test_deactivated_account_gets_no_token(api_client, agency_admin, service_account):
    service_account.is_active = False
    service_account.save()
    api_client.force_authenticate(agency_admin)
    response = api_client.post(URL, {"name": "Sync", "user": service_account.pk}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()["error"]["fields"]
    assert not ApiToken.objects.exists()


def test_token_for_another_agency_user_is_404(api_client, agency_admin, outside_service_account):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(
        URL, {"name": "Sync", "user": outside_service_account.pk}, format="json"
    )
    assert response.status_code == 404
    assert not ApiToken.objects.exists()


def test_non_admin_cannot_issue_nor_list(api_client, agency_admin, service_account):
    services.issue_api_token(agency_admin, user=service_account, name="existing")
    api_client.force_authenticate(service_account)
    response = api_client.post(URL, {"name": "Mine", "user": service_account.pk}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert ApiToken.objects.count() == 1
    listed = api_client.get(URL)
    assert listed.status_code == 200 and listed.json()["count"] == 0


def test_lists_are_scoped(
    api_client, agency_admin, system_admin, service_account, outside_service_account
):
    own, _ = services.issue_api_token(agency_admin, user=service_account, name="own")
    foreign, _ = services.issue_api_token(
        system_admin, user=outside_service_account, name="foreign"
    )
    api_client.force_authenticate(agency_admin)
    assert [item["id"] for item in api_client.get(URL).json()["results"]] == [own.pk]
    assert api_client.get(f"{URL}{foreign.pk}/").status_code == 404
    api_client.force_authenticate(system_admin)
    assert {item["id"] for item in api_client.get(URL).json()["results"]} == {own.pk, foreign.pk}


def test_revoke(api_client, agency_admin, service_account):
    token, secret = services.issue_api_token(agency_admin, user=service_account, name="Sync")
    api_client.force_authenticate(agency_admin)
    response = api_client.post(f"{URL}{token.pk}/revoke/")
    assert response.status_code == 200
    body = response.json()
    assert body["is_active"] is False and body["revoked_at"] is not None
    assert "token" not in body
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.revoked_by == agency_admin
    api_client.force_authenticate(None)
    refused = api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"


def test_revoke_twice_keeps_the_first_record(api_client, agency_admin, service_account):
    token, _ = services.issue_api_token(agency_admin, user=service_account, name="Sync")
    api_client.force_authenticate(agency_admin)
    first = api_client.post(f"{URL}{token.pk}/revoke/").json()["revoked_at"]
    second = api_client.post(f"{URL}{token.pk}/revoke/")
    assert second.status_code == 200 and second.json()["revoked_at"] == first


def test_revoking_another_agency_token_is_404(
    api_client, agency_admin, system_admin, outside_service_account
):
    token, _ = services.issue_api_token(system_admin, user=outside_service_account, name="foreign")
    api_client.force_authenticate(agency_admin)
    response = api_client.post(f"{URL}{token.pk}/revoke/")
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_token_can_revoke_itself(api_client, agency_admin, make_user, agency):
    provisioning = make_user(Role.AGENCY_ADMIN, agency=agency, is_service_account=True)
    token, secret = services.issue_api_token(
        agency_admin, user=provisioning, name="admin client", scopes=["read", "write"]
    )
    headers = {"HTTP_AUTHORIZATION": f"Token {secret}"}
    assert api_client.post(f"{URL}{token.pk}/revoke/", **headers).status_code == 200
    assert api_client.get(URL, **headers).status_code == 401


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_tokens_cannot_be_edited_or_deleted(api_client, agency_admin, service_account, method):
    token, _ = services.issue_api_token(agency_admin, user=service_account, name="Sync")
    api_client.force_authenticate(agency_admin)
    response = getattr(api_client, method)(f"{URL}{token.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert ApiToken.objects.get(pk=token.pk).name == "Sync"


def test_system_admin_issues_in_any_agency(api_client, system_admin, make_user, agency):
    """The token's agency follows the account it acts as."""
    worker = make_user(Role.CASE_WORKER, agency=agency, is_service_account=True)
    api_client.force_authenticate(system_admin)
    response = api_client.post(URL, {"name": "Sync", "user": worker.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["agency"] == agency.code


def test_a_token_acting_as_a_person_is_refused(api_client, agency_admin, colleague):
    """Issue 10: a token acting as a colleague put its reads under the colleague's name."""
    api_client.force_authenticate(agency_admin)
    response = api_client.post(URL, {"name": "As colleague", "user": colleague.pk}, format="json")
    assert response.status_code == 400
    assert "service accounts" in response.json()["error"]["fields"]["user"][0]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["admin"]}, "scopes"),
        ({"expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_scopes_and_expiry_are_checked(api_client, agency_admin, service_account, data, field):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(
        URL, {"name": "Sync", "user": service_account.pk} | data, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not ApiToken.objects.exists()


def test_issued_token_has_scopes_and_an_expiry(api_client, agency_admin, service_account):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(URL, {"name": "Sync", "user": service_account.pk}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["scopes"] == ["read"] and body["expires_at"] is not None
