"""Issue 10, point 1 and 9: the insider paths an ordinary administrator had, each tried as an
attacker would, now refused; and the audit events every account act leaves behind.

- an administrator gives themselves a role (supervisor: identities and break-glass);
- a role carrying personal data takes effect without a second administrator;
- a token acts as a colleague, so its reads are logged under the colleague's name;
- role changes, tokens and second-factor resets leave no audit event; revoking deletes the row;
- resetting or removing a second factor leaves the user's other sessions signed in.
"""

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from streha.access import policy
from streha.accounts import services
from streha.accounts.models import ApiToken, Role, RoleGrant, User
from streha.audit.models import AuditEvent
from streha.testing.auth import pass_second_factor, reauthenticate
from streha.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def account_events(event):
    return AuditEvent.objects.filter(details__event=event).order_by("seq")


@pytest.fixture
def second_admin(make_user, agency):
    return make_user(Role.AGENCY_ADMIN, agency=agency, username="second.admin")


# --- Self-administration -------------------------------------------------------------------------


@pytest.mark.parametrize("admin_role", [Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN])
def test_an_administrator_cannot_give_themselves_a_role(api_client, make_user, agency, admin_role):
    admin = make_user(admin_role, agency=agency)
    with pytest.raises(PermissionDenied):
        services.update_user(admin, admin, roles=[admin_role, Role.SUPERVISOR])
    api_client.force_authenticate(admin)
    response = api_client.patch(
        f"/api/v1/users/{admin.pk}/", {"roles": [admin_role, Role.SUPERVISOR]}, format="json"
    )
    assert response.status_code == 403
    assert not policy.can_break_glass(User.objects.get(pk=admin.pk))
    assert not RoleGrant.objects.filter(user=admin, role=Role.SUPERVISOR).exists()


def test_a_requested_role_gives_nothing_until_a_second_admin_approves(
    agency_admin, second_admin, colleague
):
    services.update_user(agency_admin, colleague, roles=[Role.CASE_WORKER, Role.SUPERVISOR])
    grant = RoleGrant.objects.get(user=colleague, role=Role.SUPERVISOR)
    assert grant.is_pending
    colleague = User.objects.get(pk=colleague.pk)
    assert not policy.can_break_glass(colleague)

    with pytest.raises(PermissionDenied):  # the administrator who asked
        services.approve_role_grant(agency_admin, grant)
    services.approve_role_grant(second_admin, grant)

    grant.refresh_from_db()
    assert grant.is_effective and grant.approved_by == second_admin
    assert policy.can_break_glass(User.objects.get(pk=colleague.pk))
    requested, approved = account_events("role_requested"), account_events("role_approved")
    assert requested.get().actor == agency_admin and approved.get().actor == second_admin
    assert approved.get().details["method"] == "system"  # called without a request here
    assert approved.get().details["role"] == Role.SUPERVISOR


def test_nobody_approves_a_grant_they_receive(agency_admin, second_admin, make_user, agency):
    """Two administrators cannot trade favours through the grantee: the receiver is refused."""
    services.update_user(agency_admin, second_admin, roles=[Role.AGENCY_ADMIN, Role.SUPERVISOR])
    grant = RoleGrant.objects.get(user=second_admin, role=Role.SUPERVISOR)
    with pytest.raises(PermissionDenied):
        services.approve_role_grant(second_admin, grant)
    assert RoleGrant.objects.get(pk=grant.pk).is_pending


def test_a_sock_puppet_administrator_approves_nothing(agency_admin, agency):
    """An administrator creates a second account for themselves and makes it administrator:
    its administrator role waits for approval too, so it can approve nothing."""
    puppet = services.create_user(
        agency_admin,
        agency=agency,
        username="puppet",
        email="puppet@example.invalid",
        roles=[Role.AGENCY_ADMIN],
    )
    target = services.create_user(
        agency_admin,
        agency=agency,
        username="target",
        email="target@example.invalid",
        roles=[Role.SUPERVISOR],
    )
    puppet = User.objects.get(pk=puppet.pk)
    assert not policy.is_agency_admin(puppet)
    with pytest.raises(PermissionDenied):
        services.approve_role_grant(puppet, target.role_grants.get())


def test_the_system_administrator_approves_when_the_agency_has_one_admin(
    agency_admin, system_admin, colleague
):
    services.update_user(agency_admin, colleague, roles=[Role.CASE_WORKER, Role.AUDITOR])
    grant = RoleGrant.objects.get(user=colleague, role=Role.AUDITOR)
    assert [g.pk for g in policy.role_grants_awaiting(system_admin)] == [grant.pk]
    assert list(policy.role_grants_awaiting(agency_admin)) == []
    services.approve_role_grant(system_admin, grant)
    assert User.objects.get(pk=colleague.pk).roles == {Role.CASE_WORKER, Role.AUDITOR}


def test_revoking_keeps_the_grant_and_ends_the_role(agency_admin, colleague):
    grant = colleague.role_grants.get()
    services.revoke_role_grant(agency_admin, grant)
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == agency_admin
    assert RoleGrant.objects.filter(pk=grant.pk).exists()
    assert User.objects.get(pk=colleague.pk).roles == frozenset()
    event = account_events("role_revoked").get()
    assert event.actor == agency_admin and event.details["account"] == colleague.pk
    with pytest.raises(ValidationError):
        services.revoke_role_grant(agency_admin, grant)


def test_approvals_page_approves_and_refuses(client, agency_admin, second_admin, colleague):
    services.update_user(
        agency_admin, colleague, roles=[Role.CASE_WORKER, Role.SUPERVISOR, Role.ANALYST]
    )
    supervisor = RoleGrant.objects.get(user=colleague, role=Role.SUPERVISOR)
    analyst = RoleGrant.objects.get(user=colleague, role=Role.ANALYST)
    client.force_login(agency_admin)
    assert list(client.get("/staff/approvals/").context["grants"]) == []
    assert client.post(f"/staff/grants/{supervisor.pk}/approve/").status_code == 302
    assert RoleGrant.objects.get(pk=supervisor.pk).is_pending  # the asker cannot

    client.force_login(second_admin)
    page = client.get("/staff/approvals/")
    assert {g.pk for g in page.context["grants"]} == {supervisor.pk, analyst.pk}
    response = client.post(f"/staff/grants/{supervisor.pk}/approve/")
    assert response.status_code == 302 and response["Location"] == "/staff/approvals/"
    response = client.post(f"/staff/grants/{analyst.pk}/revoke/", {"back": "account"})
    assert response["Location"] == f"/staff/{colleague.pk}/"
    assert User.objects.get(pk=colleague.pk).roles == {Role.CASE_WORKER, Role.SUPERVISOR}
    assert RoleGrant.objects.get(pk=analyst.pk).revoked_by == second_admin
    assert account_events("role_refused").get().details["method"] == "session"


def test_approvals_are_for_administrators_only(client, colleague, outsider, agency_admin):
    grant = colleague.role_grants.get()
    client.force_login(outsider)
    assert client.get("/staff/approvals/").status_code == 404
    assert client.post(f"/staff/grants/{grant.pk}/revoke/").status_code == 404
    client.force_login(agency_admin)
    foreign = outsider.role_grants.get()
    assert client.post(f"/staff/grants/{foreign.pk}/revoke/").status_code == 404
    assert RoleGrant.objects.get(pk=foreign.pk).revoked_at is None


def test_role_grants_through_the_api(api_client, agency_admin, second_admin, colleague):
    services.update_user(agency_admin, colleague, roles=[Role.CASE_WORKER, Role.SUPERVISOR])
    grant = RoleGrant.objects.get(user=colleague, role=Role.SUPERVISOR)
    api_client.force_authenticate(agency_admin)
    assert api_client.post(f"/api/v1/role-grants/{grant.pk}/approve/").status_code == 403
    api_client.force_authenticate(second_admin)
    listed = api_client.get("/api/v1/role-grants/").json()["results"]
    assert {item["role"] for item in listed} >= {Role.SUPERVISOR, Role.CASE_WORKER}
    approved = api_client.post(f"/api/v1/role-grants/{grant.pk}/approve/")
    assert approved.status_code == 200 and approved.json()["approved_by"] == "second.admin"
    again = api_client.post(f"/api/v1/role-grants/{grant.pk}/approve/")
    assert again.status_code == 400
    revoked = api_client.post(f"/api/v1/role-grants/{grant.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "second.admin"


# --- Tokens: service accounts only, scopes, audit with the token id ---------------------------


def test_no_token_acts_as_a_colleague(agency_admin, colleague):
    with pytest.raises(ValidationError) as error:
        services.issue_api_token(agency_admin, user=colleague, name="as colleague")
    assert "user" in error.value.message_dict
    assert not ApiToken.objects.exists()


def test_a_token_issued_before_the_rule_for_a_person_no_longer_works(agency_admin, colleague):
    """Rows made before tokens were restricted: the authentication refuses them."""
    legacy = ApiToken.objects.create(
        agency=colleague.agency,
        user=colleague,
        name="legacy",
        key_prefix="0badc0de",
        key_digest=ApiToken.digest("strh_0badc0de_legacy-secret"),
        scopes=["read", "write"],
    )
    response = APIClient().get(
        "/api/v1/users/me/", HTTP_AUTHORIZATION="Token strh_0badc0de_legacy-secret"
    )
    assert response.status_code == 401
    assert legacy.pk


def test_a_read_token_cannot_write(agency_admin, service_account, make_user, agency):
    provisioning = make_user(Role.AGENCY_ADMIN, agency=agency, is_service_account=True)
    _token, secret = services.issue_api_token(agency_admin, user=provisioning, name="ro")
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Token {secret}"}
    assert client.get("/api/v1/users/me/", **headers).status_code == 200
    refused = client.post(
        "/api/v1/api-tokens/", {"name": "x", "user": service_account.pk}, format="json", **headers
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert ApiToken.objects.count() == 1


def test_token_events_carry_the_actor_method_and_token_id(agency_admin, make_user, agency):
    provisioning = make_user(Role.AGENCY_ADMIN, agency=agency, is_service_account=True)
    token, secret = services.issue_api_token(
        agency_admin, user=provisioning, name="provisioning", scopes=["read", "write"]
    )
    issued = account_events("token_issued").get()
    assert issued.actor == agency_admin and issued.details["token"] == token.pk
    assert issued.details["scopes"] == ["read", "write"]

    response = APIClient().post(
        f"/api/v1/api-tokens/{token.pk}/revoke/", HTTP_AUTHORIZATION=f"Token {secret}"
    )
    assert response.status_code == 200
    revoked = account_events("token_revoked").get()
    assert revoked.actor == provisioning
    assert revoked.details["method"] == "token" and revoked.details["token_id"] == token.pk
    assert revoked.request_id  # the server's own id for that request


def test_a_service_account_never_holds_a_session(client, service_account):
    response = client.post("/accounts/login/", {"login": "sync.client", "password": TEST_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200
    # A session made for it some other way is not honoured either.
    client.force_login(service_account, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/").status_code == 302


def test_account_creation_and_changes_are_audited(agency_admin, agency, colleague):
    machine = services.create_user(
        agency_admin,
        agency=agency,
        username="etl.client",
        email="",
        service_account=True,
        roles=[Role.ANALYST],
    )
    created = account_events("account_created").get()
    assert created.actor == agency_admin and created.object_id == str(machine.pk)
    assert created.details["service_account"] is True
    assert not machine.has_usable_password()
    services.update_user(agency_admin, colleague, is_active=False)
    changed = account_events("account_changed").get()
    assert changed.details["fields"] == ["is_active"] and changed.details["is_active"] is False


# --- A reset or removed second factor ends the other sessions --------------------------------


@pytest.fixture
def not_demo(settings):
    settings.DEMO_MODE = False


def signed_in_with_factor(user):
    browser = Client()
    browser.force_login(user)
    pass_second_factor(browser, user)
    return browser


def test_resetting_a_second_factor_ends_the_users_sessions(not_demo, agency_admin, colleague):
    Authenticator.objects.create(user=colleague, type=Authenticator.Type.TOTP, data={})
    Authenticator.objects.create(user=agency_admin, type=Authenticator.Type.TOTP, data={})
    laptop = signed_in_with_factor(colleague)
    assert laptop.get("/").status_code == 200

    admin = signed_in_with_factor(agency_admin)
    assert admin.post(f"/staff/{colleague.pk}/reset-two-factor/").status_code == 302

    response = laptop.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    event = account_events("second_factor_reset_by_administrator").get()
    assert event.actor == agency_admin and event.object_id == str(colleague.pk)
    assert event.details["method"] == "session"
    assert admin.get("/staff/").status_code == 200  # the administrator's session goes on


def test_removing_ones_own_factor_ends_the_other_sessions_only(
    not_demo, colleague, django_capture_on_commit_callbacks
):
    totp = Authenticator.objects.create(user=colleague, type=Authenticator.Type.TOTP, data={})
    other_device = signed_in_with_factor(colleague)
    assert other_device.get("/").status_code == 200

    here = signed_in_with_factor(colleague)
    reauthenticate(here, colleague)  # allauth asks for the password again before removing
    response = here.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(pk=totp.pk).exists()

    assert other_device.get("/").status_code == 302
    assert "_auth_user_id" not in other_device.session
    # This session stays signed in, and must enrol a factor again before anything else.
    assert here.get("/").status_code == 302
    assert here.get("/").url == "/accounts/2fa/totp/activate/"
    assert here.session["_auth_user_id"] == str(colleague.pk)
    assert account_events("second_factor_removed").get().actor == colleague


def test_unchanged_accounts_keep_djangos_session_hash(colleague):
    """Raising the epoch is what ends sessions; accounts never reset keep their sessions on
    upgrade (the hash is Django's own until the first reset)."""
    assert colleague.session_epoch == 0
    before = colleague.get_session_auth_hash()
    services.end_sessions_of(colleague)
    assert colleague.session_epoch == 1 and colleague.get_session_auth_hash() != before
