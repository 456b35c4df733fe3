"""Staff administration pages: agencies, staff, API tokens, security."""

import html
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from streha.accounts import services
from streha.accounts.models import AgencyKind, ApiToken, Role, RoleGrant, User
from streha.testing.factories import AgencyFactory, MunicipalityFactory, RegionFactory

pytestmark = pytest.mark.django_db


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def token(agency_admin, service_account):
    issued, _secret = services.issue_api_token(agency_admin, user=service_account, name="Case sync")
    return issued


@pytest.fixture
def foreign_token(system_admin, outside_service_account):
    issued, _secret = services.issue_api_token(
        system_admin, user=outside_service_account, name="Foreign sync"
    )
    return issued


def test_urls_are_as_agreed():
    assert reverse("accounts:agency_list") == "/agencies/"
    assert reverse("accounts:user_list") == "/staff/"
    assert reverse("accounts:user_create") == "/staff/new/"
    assert reverse("accounts:user_edit", args=[4]) == "/staff/4/"
    assert reverse("accounts:user_reset_2fa", args=[4]) == "/staff/4/reset-two-factor/"
    assert reverse("accounts:token_list") == "/api-tokens/"
    assert reverse("accounts:token_revoke", args=[4]) == "/api-tokens/4/revoke/"
    assert reverse("accounts:security") == "/security/"


# --- Who gets in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/agencies/"),
        ("get", "/staff/"),
        ("get", "/staff/new/"),
        ("post", "/staff/new/"),
        ("get", "/staff/{pk}/"),
        ("post", "/staff/{pk}/"),
        ("post", "/staff/{pk}/reset-two-factor/"),
        ("get", "/api-tokens/"),
        ("post", "/api-tokens/"),
        ("post", "/api-tokens/{token}/revoke/"),
        ("get", "/security/"),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, colleague, token, method, url):
    url = url.format(pk=colleague.pk, token=token.pk)
    users = User.objects.count()
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert User.objects.count() == users


@pytest.mark.parametrize(
    "role",
    [
        Role.HOTLINE_OPERATOR,
        Role.CASE_WORKER,
        Role.SUPERVISOR,
        Role.INVESTIGATOR,
        Role.PROSECUTOR,
        Role.ANALYST,
        Role.AUDITOR,
    ],
)
def test_non_admins_get_404_on_admin_pages(client, make_user, agency, colleague, token, role):
    user = make_user(role, agency=agency)
    client.force_login(user)
    for url in ("/staff/", "/staff/new/", f"/staff/{colleague.pk}/", f"/staff/{user.pk}/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/api-tokens/").status_code == 404
    assert (
        client.post("/staff/new/", {"username": "x", "email": "x@example.invalid"}).status_code
        == 404
    )
    assert client.post(f"/staff/{colleague.pk}/", {"email": "a@example.invalid"}).status_code == (
        404
    )
    assert client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/staff/{colleague.pk}/reset-two-factor/").status_code == 404
    assert not User.objects.filter(username="x").exists()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    # …while the pages every member of staff uses answer.
    assert client.get("/agencies/").status_code == 200
    assert client.get("/security/").status_code == 200


def test_navigation_shows_administration_to_administrators_only(client, agency_admin, colleague):
    client.force_login(colleague)
    page = text(client.get("/agencies/"))
    assert 'href="/agencies/"' in page and 'href="/security/"' in page
    assert 'href="/staff/"' not in page and 'href="/api-tokens/"' not in page
    client.force_login(agency_admin)
    page = text(client.get("/agencies/"))
    assert 'href="/staff/"' in page and 'href="/api-tokens/"' in page


# --- Agencies ---------------------------------------------------------------------------------


def test_agency_list_shows_kind_municipality_and_region(client, colleague):
    region = RegionFactory(code="peje", name_en="Peja region")
    municipality = MunicipalityFactory(code="decan", region=region, name_en="Deçan")
    AgencyFactory(name="Regional police Deçan", kind=AgencyKind.POLICE, municipality=municipality)
    AgencyFactory(name="National coordinator office", kind=AgencyKind.NATIONAL_COORDINATOR)
    client.force_login(colleague)
    response = client.get("/agencies/")
    assert response.status_code == 200
    page = text(response)
    assert "Regional police Deçan" in page and "National coordinator office" in page
    assert "Police" in page and "National coordinator" in page
    assert {agency.name for agency in response.context["agencies"]} >= {
        "Regional police Deçan",
        "National coordinator office",
        colleague.agency.name,
    }
    row = page.split("Regional police Deçan", 1)[1].split("</tr>", 1)[0]
    assert str(municipality) in row and str(region) in row


# --- Staff list -------------------------------------------------------------------------------


def test_agency_admin_lists_own_agency_only(client, agency_admin, colleague, outsider):
    client.force_login(agency_admin)
    response = client.get("/staff/")
    assert response.status_code == 200
    assert set(response.context["staff"]) == {agency_admin, colleague}
    page = text(response)
    assert f'href="/staff/{colleague.pk}/"' in page
    assert "outsider" not in page
    assert "Case worker" in page  # role labels


def test_system_admin_lists_every_agency(client, system_admin, agency_admin, colleague, outsider):
    client.force_login(system_admin)
    response = client.get("/staff/")
    assert set(response.context["staff"]) == {system_admin, agency_admin, colleague, outsider}
    assert "outsider" in text(response)


def test_deactivated_accounts_are_marked(client, agency_admin, colleague):
    services.update_user(agency_admin, colleague, is_active=False)
    client.force_login(agency_admin)
    row = text(client.get("/staff/")).split(f'href="/staff/{colleague.pk}/"', 1)[1]
    assert "Deactivated" in row.split("</tr>", 1)[0]


# --- Staff create -----------------------------------------------------------------------------


def create_form(agency, **overrides):
    data = {
        "username": "new.colleague",
        "email": "new.colleague@example.invalid",
        "first_name": "Besa",
        "last_name": "Gashi",
        "agency": agency.pk,
        "roles": [Role.CASE_WORKER, Role.SUPERVISOR],
    }
    data.update(overrides)
    return data


def test_create_form_offers_own_agency_and_grantable_roles(client, agency_admin, agency):
    client.force_login(agency_admin)
    response = client.get("/staff/new/")
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["agency"].queryset) == [agency]
    offered = {value for value, _label in form.fields["roles"].choices}
    assert offered == set(Role.values) - {Role.SYSTEM_ADMIN}
    assert 'value="system_admin"' not in response.content.decode()


def test_system_admin_form_offers_active_agencies_and_every_role(
    client, system_admin, agency, other_agency
):
    closed = AgencyFactory(is_active=False)
    client.force_login(system_admin)
    form = client.get("/staff/new/").context["form"]
    agencies = set(form.fields["agency"].queryset)
    assert {agency, other_agency} <= agencies and closed not in agencies
    assert {value for value, _label in form.fields["roles"].choices} == set(Role.values)


def test_agency_admin_creates_colleague_and_invitation_is_sent(
    client, agency_admin, agency, django_capture_on_commit_callbacks
):
    client.force_login(agency_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/staff/new/", create_form(agency))
    assert response.status_code == 302 and response["Location"] == "/staff/"
    user = User.objects.get(username="new.colleague")
    assert user.agency == agency and user.roles == frozenset()  # until a second admin approves
    assert set(user.role_grants.pending().values_list("role", flat=True)) == {
        Role.CASE_WORKER,
        Role.SUPERVISOR,
    }
    assert (user.first_name, user.last_name) == ("Besa", "Gashi")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.colleague@example.invalid"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    follow = client.get("/staff/")
    assert "new.colleague" in text(follow)


def test_system_admin_creates_in_another_agency(client, system_admin, agency):
    client.force_login(system_admin)
    response = client.post("/staff/new/", create_form(agency, roles=[Role.SYSTEM_ADMIN]))
    assert response.status_code == 302
    grant = User.objects.get(username="new.colleague").role_grants.get()
    assert grant.role == Role.SYSTEM_ADMIN and grant.is_pending


def assert_rerendered_with(response, message):
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/user_form.html"
    assert response.context["form"].errors
    assert message in text(response)


def test_create_in_another_agency_is_refused(client, agency_admin, other_agency):
    client.force_login(agency_admin)
    response = client.post("/staff/new/", create_form(other_agency))
    assert_rerendered_with(response, "Select a valid choice")
    assert not User.objects.filter(username="new.colleague").exists()


def test_create_with_system_admin_role_is_refused(client, agency_admin, agency):
    client.force_login(agency_admin)
    response = client.post("/staff/new/", create_form(agency, roles=[Role.SYSTEM_ADMIN]))
    assert_rerendered_with(response, "Select a valid choice")
    assert not User.objects.filter(username="new.colleague").exists()
    assert not RoleGrant.objects.filter(role=Role.SYSTEM_ADMIN).exists()


def test_duplicate_username_shows_the_service_error(
    client, agency_admin, agency, colleague, django_capture_on_commit_callbacks
):
    client.force_login(agency_admin)
    users, grants = User.objects.count(), RoleGrant.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/staff/new/", create_form(agency, username=colleague.username))
    assert_rerendered_with(response, "A user with that username already exists.")
    assert "username" in response.context["form"].errors
    assert (User.objects.count(), RoleGrant.objects.count()) == (users, grants)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "An e-mail address is needed for the invitation."),
        ({"username": ""}, "username", "This field is required."),
        ({"username": "has space"}, "username", "Enter a valid username."),
    ],
)
def test_invalid_create_rerenders_and_writes_nothing(
    client, agency_admin, agency, overrides, field, message
):
    client.force_login(agency_admin)
    users = User.objects.count()
    response = client.post("/staff/new/", create_form(agency, **overrides))
    assert_rerendered_with(response, message)
    assert field in response.context["form"].errors
    assert User.objects.count() == users


# --- Staff edit -------------------------------------------------------------------------------


def edit_form(user, **overrides):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "roles": sorted(user.role_grants.live().values_list("role", flat=True)),
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_edit_form_is_filled_in(client, agency_admin, colleague):
    client.force_login(agency_admin)
    response = client.get(f"/staff/{colleague.pk}/")
    assert response.status_code == 200
    assert response.context["staff_member"] == colleague
    form = response.context["form"]
    assert form.initial["email"] == colleague.email
    assert form.initial["roles"] == [Role.CASE_WORKER]
    assert form.initial["is_active"] is True
    assert "colleague" in text(response)


def test_agency_admin_edits_colleague(client, agency_admin, colleague):
    client.force_login(agency_admin)
    response = client.post(
        f"/staff/{colleague.pk}/",
        edit_form(colleague, first_name="Vjosa", roles=[Role.SUPERVISOR, Role.ANALYST]),
    )
    assert response.status_code == 302 and response["Location"] == "/staff/"
    stored = User.objects.get(pk=colleague.pk)
    assert stored.first_name == "Vjosa"
    assert stored.roles == frozenset()  # case worker revoked; the new roles wait for approval
    assert set(stored.role_grants.pending().values_list("role", flat=True)) == {
        Role.SUPERVISOR,
        Role.ANALYST,
    }


def test_unticking_active_deactivates(client, agency_admin, colleague):
    client.force_login(agency_admin)
    response = client.post(f"/staff/{colleague.pk}/", edit_form(colleague, is_active=None))
    assert response.status_code == 302
    assert not User.objects.get(pk=colleague.pk).is_active


def test_other_agency_staff_answer_404(client, agency_admin, outsider):
    client.force_login(agency_admin)
    assert client.get(f"/staff/{outsider.pk}/").status_code == 404
    response = client.post(
        f"/staff/{outsider.pk}/", edit_form(outsider, email="mine@example.invalid", is_active=None)
    )
    assert response.status_code == 404
    stored = User.objects.get(pk=outsider.pk)
    assert stored.is_active and stored.email == "outsider@example.invalid"
    assert client.get("/staff/999999/").status_code == 404


def test_system_admin_edits_any_agency(client, system_admin, outsider):
    client.force_login(system_admin)
    response = client.post(f"/staff/{outsider.pk}/", edit_form(outsider, roles=[Role.AUDITOR]))
    assert response.status_code == 302
    assert User.objects.get(pk=outsider.pk).role_grants.pending().get().role == Role.AUDITOR


def test_admin_cannot_deactivate_self_through_the_form(client, agency_admin):
    client.force_login(agency_admin)
    response = client.post(f"/staff/{agency_admin.pk}/", edit_form(agency_admin, is_active=None))
    assert response.status_code == 404  # one's own account is not administered here
    assert User.objects.get(pk=agency_admin.pk).is_active


@pytest.mark.parametrize("admin_role", [Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN])
def test_nobody_changes_own_roles_through_the_form(client, make_user, agency, admin_role):
    admin = make_user(admin_role, agency=agency)
    client.force_login(admin)
    assert client.get(f"/staff/{admin.pk}/").status_code == 404
    response = client.post(
        f"/staff/{admin.pk}/", edit_form(admin, roles=[admin_role, Role.SUPERVISOR])
    )
    assert response.status_code == 404
    assert RoleGrant.objects.filter(user=admin).count() == 1
    assert f'href="/staff/{admin.pk}/"' not in text(client.get("/staff/"))


def test_invalid_edit_writes_nothing(client, agency_admin, colleague):
    client.force_login(agency_admin)
    response = client.post(
        f"/staff/{colleague.pk}/",
        edit_form(colleague, email="broken", first_name="Changed", roles=[Role.SUPERVISOR]),
    )
    assert_rerendered_with(response, "Enter a valid email address.")
    stored = User.objects.get(pk=colleague.pk)
    assert stored.first_name == "Test" and stored.roles == {Role.CASE_WORKER}


def test_reset_two_factor_of_colleague(client, agency_admin, colleague, outsider):
    Authenticator.objects.create(user=colleague, type=Authenticator.Type.TOTP, data={})
    Authenticator.objects.create(user=outsider, type=Authenticator.Type.TOTP, data={})
    client.force_login(agency_admin)
    assert client.get(f"/staff/{colleague.pk}/reset-two-factor/").status_code == 405
    response = client.post(f"/staff/{colleague.pk}/reset-two-factor/")
    assert response.status_code == 302 and response["Location"] == f"/staff/{colleague.pk}/"
    assert not Authenticator.objects.filter(user=colleague).exists()
    assert client.post(f"/staff/{outsider.pk}/reset-two-factor/").status_code == 404
    assert Authenticator.objects.filter(user=outsider).exists()


# --- API tokens -------------------------------------------------------------------------------


def test_token_list_shows_own_agency_tokens(client, agency_admin, token, foreign_token):
    client.force_login(agency_admin)
    response = client.get("/api-tokens/")
    assert response.status_code == 200
    assert list(response.context["tokens"]) == [token]
    page = text(response)
    assert "Case sync" in page and token.key_prefix in page
    assert "Foreign sync" not in page
    assert response.context["secret"] is None
    # Only service accounts: a token never acts as a person (the colleague, the admin).
    users = set(response.context["form"].fields["user"].queryset)
    assert users == {User.objects.get(username="sync.client")}


def test_system_admin_sees_every_token(client, system_admin, token, foreign_token):
    client.force_login(system_admin)
    assert set(client.get("/api-tokens/").context["tokens"]) == {token, foreign_token}


def test_issue_shows_the_secret_once(client, agency_admin, service_account):
    client.force_login(agency_admin)
    # At noon: 02:00-02:59 local time does not exist (or exists twice) on the DST days.
    expires = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT12:00")
    response = client.post(
        "/api-tokens/",
        {
            "name": "Shelter sync",
            "user": service_account.pk,
            "scopes": ["read"],
            "expires_at": expires,
        },
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret and secret.startswith("strh_")
    assert f'id="new-token">{secret}<' in response.content.decode()
    stored = ApiToken.objects.get(name="Shelter sync")
    assert stored.user == service_account and stored.created_by == agency_admin
    assert stored.scopes == ["read"]
    assert stored.key_digest == ApiToken.digest(secret)
    assert stored.expires_at is not None
    assert not response.context["form"].is_bound  # a fresh form after success
    again = client.get("/api-tokens/")
    assert secret not in again.content.decode()
    assert stored.key_prefix in again.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"expires_at": "2001-01-01T10:00"}, "The expiry must be in the future."),
        ({"expires_at": "tomorrow-ish"}, "Enter a valid date/time."),
        ({"expires_at": "2999-01-01T10:00"}, "A token may live at most 365 days."),
        ({"scopes": []}, "This field is required."),
        ({"scopes": ["delete"]}, "Select a valid choice."),
    ],
)
def test_invalid_issue_rerenders_and_writes_nothing(
    client, agency_admin, service_account, data, message
):
    client.force_login(agency_admin)
    expires = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT12:00")
    base = {"name": "Sync", "user": service_account.pk, "scopes": ["read"], "expires_at": expires}
    response = client.post("/api-tokens/", base | data)
    assert response.status_code == 200
    assert response.context["secret"] is None
    assert message in text(response)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("target", ["outside_service_account", "colleague"])
def test_token_for_another_agency_or_a_person_is_refused(client, agency_admin, target, request):
    client.force_login(agency_admin)
    user = request.getfixturevalue(target)
    response = client.post("/api-tokens/", {"name": "Sync", "user": user.pk, "scopes": ["read"]})
    assert response.status_code == 200
    assert "Select a valid choice" in text(response)
    assert not ApiToken.objects.exists()


def test_revoke_without_htmx_redirects(client, agency_admin, token):
    client.force_login(agency_admin)
    assert client.get(f"/api-tokens/{token.pk}/revoke/").status_code == 405
    response = client.post(f"/api-tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/api-tokens/"
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.revoked_at is not None and stored.revoked_by == agency_admin
    assert "Token revoked." in text(client.get("/api-tokens/"))


def test_htmx_revoke_returns_the_row_fragment(client, agency_admin, token):
    client.force_login(agency_admin)
    response = client.post(f"/api-tokens/{token.pk}/revoke/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode().strip()
    assert fragment.startswith(f'<tr id="token-{token.pk}">')
    assert fragment.endswith("</tr>")
    assert "<html" not in fragment and "<body" not in fragment
    assert "Revoked" in fragment and "Case sync" in fragment
    assert "hx-post" not in fragment  # no revoke button any more
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_active_row_has_the_htmx_revoke_button(client, agency_admin, token):
    client.force_login(agency_admin)
    page = client.get("/api-tokens/").content.decode()
    row = page.split(f'<tr id="token-{token.pk}">', 1)[1].split("</tr>", 1)[0]
    assert f'hx-post="/api-tokens/{token.pk}/revoke/"' in row
    assert f'hx-target="#token-{token.pk}"' in row


def test_revoking_another_agency_token_answers_404(client, agency_admin, foreign_token):
    client.force_login(agency_admin)
    assert client.post(f"/api-tokens/{foreign_token.pk}/revoke/").status_code == 404
    response = client.post(
        f"/api-tokens/{foreign_token.pk}/revoke/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=foreign_token.pk).revoked_at is None


def test_system_admin_revokes_any_token(client, system_admin, token):
    client.force_login(system_admin)
    assert client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_by == system_admin


# --- Security page ----------------------------------------------------------------------------


def test_security_page_offers_two_factor_set_up(client, colleague):
    client.force_login(colleague)
    response = client.get("/security/")
    assert response.status_code == 200
    assert response.context["has_totp"] is False
    page = text(response)
    assert f'href="{reverse("mfa_activate_totp")}"' in page
    assert f'href="{reverse("account_change_password")}"' in page


def test_security_page_with_authenticator(client, colleague):
    Authenticator.objects.create(user=colleague, type=Authenticator.Type.TOTP, data={})
    client.force_login(colleague)
    response = client.get("/security/")
    assert response.context["has_totp"] is True
    assert f'href="{reverse("mfa_view_recovery_codes")}"' in text(response)
