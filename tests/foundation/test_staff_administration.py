"""Agencies, staff, roles and API tokens: who may manage whom, and nothing half-written."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from streha.accounts import services
from streha.accounts.models import ApiToken, Role, RoleGrant, User


@pytest.fixture
def agency_admin(make_user, agency):
    return make_user(Role.AGENCY_ADMIN, agency=agency)


@pytest.mark.django_db
class TestAgencyAdministrator:
    def test_creates_staff_in_own_agency_with_invitation(
        self, agency_admin, agency, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            user = services.create_user(
                agency_admin,
                agency=agency,
                username="new.worker",
                email="new.worker@example.invalid",
                roles=[Role.CASE_WORKER],
            )
        assert user.agency == agency and user.roles == frozenset()  # until approved
        assert user.role_grants.pending().get().role == Role.CASE_WORKER
        assert not user.has_usable_password()  # the colleague chooses it through the link
        assert len(mail.outbox) == 1
        assert "/accounts/password/reset/key/" in mail.outbox[0].body
        assert "new.worker" in mail.outbox[0].body

    def test_cannot_touch_another_agency(self, agency_admin, other_agency, make_user):
        with pytest.raises(PermissionDenied):
            services.create_user(
                agency_admin, agency=other_agency, username="x", email="x@example.invalid"
            )
        outsider = make_user(Role.CASE_WORKER, agency=other_agency)
        with pytest.raises(PermissionDenied):
            services.update_user(agency_admin, outsider, is_active=False)
        assert User.objects.filter(username="x").count() == 0
        assert User.objects.get(pk=outsider.pk).is_active

    def test_cannot_grant_system_admin_nor_demote_self(self, agency_admin, agency):
        with pytest.raises(ValidationError):
            services.create_user(
                agency_admin,
                agency=agency,
                username="boss",
                email="b@example.invalid",
                roles=[Role.SYSTEM_ADMIN],
            )
        assert not User.objects.filter(username="boss").exists()
        with pytest.raises(PermissionDenied):
            services.update_user(agency_admin, agency_admin, roles=[Role.CASE_WORKER])
        with pytest.raises(PermissionDenied):
            services.update_user(agency_admin, agency_admin, is_active=False)
        assert User.objects.get(pk=agency_admin.pk).has_role(Role.AGENCY_ADMIN)

    def test_invalid_user_leaves_nothing(self, agency_admin, agency, make_user):
        make_user(agency=agency, username="taken")
        with pytest.raises(ValidationError):
            services.create_user(
                agency_admin,
                agency=agency,
                username="taken",
                email="t@example.invalid",
                roles=[Role.CASE_WORKER],
            )
        with pytest.raises(ValidationError):
            services.create_user(
                agency_admin, agency=agency, username="nomail", email="", roles=[Role.CASE_WORKER]
            )
        assert User.objects.filter(username="nomail").count() == 0
        assert RoleGrant.objects.filter(user__username__in=["taken", "nomail"]).count() == 0

    def test_pages_show_only_own_agency(self, client, agency_admin, make_user, other_agency):
        outsider = make_user(Role.CASE_WORKER, agency=other_agency, username="outsider")
        colleague = make_user(Role.CASE_WORKER, agency=agency_admin.agency, username="colleague")
        client.force_login(agency_admin)
        page = client.get("/staff/").content.decode()
        assert "colleague" in page and "outsider" not in page
        assert client.get(f"/staff/{outsider.pk}/").status_code == 404
        response = client.post(
            f"/staff/{colleague.pk}/",
            {
                "email": "colleague@example.invalid",
                "roles": [Role.SUPERVISOR],
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        stored = User.objects.get(pk=colleague.pk)
        assert stored.roles == frozenset() and stored.role_grants.pending().get().role == (
            Role.SUPERVISOR
        )

    def test_form_errors_rerender_and_write_nothing(self, client, agency_admin):
        client.force_login(agency_admin)
        response = client.post(
            "/staff/new/",
            {"username": "", "email": "not-an-email", "agency": agency_admin.agency_id},
        )
        assert response.status_code == 200
        assert (
            "aria-invalid" in response.content.decode()
            or "field-error" in response.content.decode()
        )
        assert User.objects.count() == 1

    def test_non_admins_do_not_see_administration(self, client, make_user, agency):
        client.force_login(make_user(Role.CASE_WORKER, agency=agency))
        for url in ("/staff/", "/staff/new/", "/api-tokens/"):
            assert client.get(url).status_code == 404


@pytest.mark.django_db
class TestApiTokens:
    def test_issue_use_and_revoke(self, api_client, agency_admin, make_user, agency):
        client_account = make_user(Role.CASE_WORKER, agency=agency, is_service_account=True)
        token, secret = services.issue_api_token(agency_admin, user=client_account, name="Sync")
        assert secret.startswith("strh_") and secret not in token.key_digest
        assert ApiToken.objects.filter(key_digest=ApiToken.digest(secret)).exists()
        me = api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {secret}")
        assert me.status_code == 200 and me.json()["username"] == client_account.username
        services.revoke_api_token(agency_admin, token)
        refused = api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {secret}")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "authentication_failed"

    def test_bad_tokens_are_refused_with_json(self, api_client, agency_admin, make_user, agency):
        for header in ("Token nonsense", "Token", "Token a b", "Bearer strh_x_y"):
            response = api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=header)
            assert response.status_code == 401, header
            assert set(response.json()["error"]) >= {"code", "message"}
        user = make_user(Role.CASE_WORKER, agency=agency, is_service_account=True)
        _, secret = services.issue_api_token(agency_admin, user=user, name="c")
        user.is_active = False
        user.save()
        assert (
            api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {secret}").status_code
            == 401
        )

    def test_api_issue_shows_secret_once(self, api_client, agency_admin, make_user, agency):
        user = make_user(Role.CASE_WORKER, agency=agency, is_service_account=True)
        api_client.force_authenticate(agency_admin)
        created = api_client.post(
            "/api/v1/api-tokens/", {"name": "Client", "user": user.pk}, format="json"
        )
        assert created.status_code == 201 and created.json()["token"].startswith("strh_")
        listed = api_client.get("/api/v1/api-tokens/").json()["results"]
        assert "token" not in listed[0]

    def test_htmx_revoke_returns_the_row(self, client, agency_admin, make_user, agency):
        machine = make_user(agency=agency, is_service_account=True)
        token, _ = services.issue_api_token(agency_admin, user=machine, name="t")
        client.force_login(agency_admin)
        response = client.post(f"/api-tokens/{token.pk}/revoke/", headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert response.content.decode().strip().startswith(f'<tr id="token-{token.pk}"')
        assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


@pytest.mark.django_db
class TestApiShape:
    def test_errors_are_json_with_a_message(self, api_client, make_user, agency):
        assert api_client.get("/api/v1/users/me/").json()["error"]["code"] in {
            "not_authenticated",
            "authentication_failed",
        }
        api_client.force_authenticate(make_user(Role.AGENCY_ADMIN, agency=agency))
        missing = api_client.get("/api/v1/no-such-thing/")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        invalid = api_client.post(
            "/api/v1/users/",
            {"username": "<script>", "email": "nope", "agency": agency.code},
            format="json",
        )
        assert invalid.status_code == 400
        body = invalid.json()["error"]
        assert "email" in body["fields"] and "nope" not in invalid.content.decode()
        wrong_method = api_client.delete("/api/v1/users/me/")
        assert wrong_method.status_code == 405 and "error" in wrong_method.json()

    def test_schema_is_openapi_3_with_token_scheme(self, client, make_user):
        client.force_login(make_user(Role.CASE_WORKER))
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert "/api/v1/persons/{public_id}/" in schema["paths"]
        assert "agencyToken" in schema["components"]["securitySchemes"]
        assert client.get("/api/docs/").status_code == 200

    def test_request_id_and_security_headers(self, client, make_user):
        client.force_login(make_user(Role.CASE_WORKER))
        response = client.get("/")
        assert len(response["X-Request-ID"]) >= 8
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cache-Control"] == "no-store, private"
        assert "camera=()" in response["Permissions-Policy"]
