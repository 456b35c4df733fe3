"""/api/v1/users/: scoped lists, ``me``, creation with invitation, partial updates."""

import pytest
from django.core import mail

from streha.accounts.models import Role, RoleGrant, User

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/"


def usernames(response):
    assert response.status_code == 200
    return {item["username"] for item in response.json()["results"]}


def new_user(agency, **overrides):
    data = {
        "username": "new.colleague",
        "email": "new.colleague@example.invalid",
        "first_name": "Besa",
        "last_name": "Gashi",
        "agency": agency.code,
        "roles": [Role.CASE_WORKER],
    }
    return data | overrides


# --- Reading ----------------------------------------------------------------------------------


def test_agency_admin_lists_own_agency(api_client, agency_admin, colleague, outsider):
    api_client.force_authenticate(agency_admin)
    assert usernames(api_client.get(URL)) == {"agency.admin", "colleague"}


def test_system_admin_lists_everyone(api_client, system_admin, agency_admin, colleague, outsider):
    api_client.force_authenticate(system_admin)
    assert usernames(api_client.get(URL)) == {
        "system.admin",
        "agency.admin",
        "colleague",
        "outsider",
    }


def test_others_list_only_themselves(api_client, agency_admin, colleague, outsider):
    api_client.force_authenticate(colleague)
    assert usernames(api_client.get(URL)) == {"colleague"}
    assert api_client.get(f"{URL}{agency_admin.pk}/").status_code == 404


def test_other_agency_user_is_404_for_agency_admin(api_client, agency_admin, outsider):
    api_client.force_authenticate(agency_admin)
    response = api_client.get(f"{URL}{outsider.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_user_representation(api_client, agency_admin, make_user, agency):
    user = make_user(
        Role.SUPERVISOR, Role.CASE_WORKER, agency=agency, username="vjosa", first_name="Vjosa"
    )
    api_client.force_authenticate(agency_admin)
    body = api_client.get(f"{URL}{user.pk}/").json()
    assert body == {
        "id": user.pk,
        "username": "vjosa",
        "email": "vjosa@example.invalid",
        "first_name": "Vjosa",
        "last_name": user.last_name,
        "agency": agency.code,
        "roles": [Role.CASE_WORKER, Role.SUPERVISOR],
        "pending_roles": [],
        "is_active": True,
        "is_service_account": False,
    }
    assert "password" not in body


@pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN])
def test_me(api_client, make_user, agency, role):
    user = make_user(role, agency=agency, username="myself")
    api_client.force_authenticate(user)
    response = api_client.get(f"{URL}me/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["agency"], body["roles"]) == (
        user.pk,
        "myself",
        agency.code,
        [role],
    )


def test_me_is_read_only(api_client, colleague):
    api_client.force_authenticate(colleague)
    response = api_client.post(f"{URL}me/", {"first_name": "X"}, format="json")
    assert response.status_code == 405


# --- Creating ---------------------------------------------------------------------------------


def test_agency_admin_creates_colleague_with_invitation(
    api_client, agency_admin, agency, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(agency_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, new_user(agency), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "new.colleague" and body["agency"] == agency.code
    assert body["roles"] == [] and body["pending_roles"] == [Role.CASE_WORKER]
    assert body["is_active"] is True
    user = User.objects.get(pk=body["id"])
    assert user.agency == agency and not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.colleague@example.invalid"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_cannot_be_set_through_the_api(api_client, agency_admin, agency):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(URL, new_user(agency, password="Chosen-By-Admin-123"), format="json")
    assert response.status_code == 201
    assert not User.objects.get(username="new.colleague").has_usable_password()


def test_system_admin_creates_in_any_agency(api_client, system_admin, agency):
    api_client.force_authenticate(system_admin)
    response = api_client.post(
        URL, new_user(agency, roles=[Role.SYSTEM_ADMIN, Role.ANALYST]), format="json"
    )
    assert response.status_code == 201
    assert response.json()["pending_roles"] == [Role.ANALYST, Role.SYSTEM_ADMIN]


def test_agency_admin_cannot_create_in_another_agency(
    api_client, agency_admin, other_agency, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(agency_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, new_user(other_agency), format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not User.objects.filter(username="new.colleague").exists()
    assert mail.outbox == []


def test_unknown_agency_is_404(api_client, system_admin):
    api_client.force_authenticate(system_admin)
    data = {"username": "new.colleague", "email": "n@example.invalid", "agency": "nowhere"}
    response = api_client.post(URL, data, format="json")
    assert response.status_code == 404
    assert not User.objects.filter(username="new.colleague").exists()


@pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.SUPERVISOR, Role.AUDITOR])
def test_non_admins_cannot_create(api_client, make_user, agency, role):
    api_client.force_authenticate(make_user(role, agency=agency))
    response = api_client.post(URL, new_user(agency), format="json")
    assert response.status_code in {403, 404}
    assert "error" in response.json()
    assert not User.objects.filter(username="new.colleague").exists()


def test_agency_admin_cannot_grant_system_admin(api_client, agency_admin, agency):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(
        URL, new_user(agency, roles=[Role.CASE_WORKER, Role.SYSTEM_ADMIN]), format="json"
    )
    assert response.status_code == 400
    assert "roles" in response.json()["error"]["fields"]
    assert not User.objects.filter(username="new.colleague").exists()
    assert not RoleGrant.objects.filter(role=Role.SYSTEM_ADMIN).exists()


def test_duplicate_username_is_400_and_writes_nothing(
    api_client, agency_admin, agency, colleague, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(agency_admin)
    grants = RoleGrant.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            URL, new_user(agency, username="colleague", roles=[Role.ANALYST]), format="json"
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "username" in error["fields"]
    assert User.objects.filter(username="colleague").count() == 1
    assert RoleGrant.objects.count() == grants
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("overrides", "field", "secret"),
    [
        ({"email": "Zanafill-Private-Value"}, "email", "Zanafill-Private-Value"),
        ({"username": "Emri Sekret!"}, "username", "Emri Sekret!"),
        ({"roles": ["Roli-Sekret-42"]}, "roles", "Roli-Sekret-42"),
        ({"roles": "Roli-Sekret-43"}, "roles", "Roli-Sekret-43"),
        ({"first_name": "Y" * 151}, "first_name", "Y" * 151),
    ],
)
def test_validation_errors_do_not_echo_submitted_values(
    api_client, agency_admin, agency, overrides, field, secret
):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(URL, new_user(agency, **overrides), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"]
    assert all(isinstance(message, str) for message in str_leaves(error["fields"]))
    assert secret not in response.content.decode()
    assert not User.objects.filter(username="new.colleague").exists()


def str_leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from str_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from str_leaves(item)
    else:
        yield value


# --- Updating ---------------------------------------------------------------------------------


def test_agency_admin_patches_colleague(api_client, agency_admin, colleague):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(
        f"{URL}{colleague.pk}/",
        {"first_name": "Drita", "roles": [Role.SUPERVISOR, Role.CASE_WORKER]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["first_name"] == "Drita"
    assert body["roles"] == [Role.CASE_WORKER]  # kept; the new role waits for approval
    assert body["pending_roles"] == [Role.SUPERVISOR]
    assert body["email"] == "colleague@example.invalid"  # untouched fields stay
    stored = User.objects.get(pk=colleague.pk)
    assert stored.first_name == "Drita"
    assert stored.roles == {Role.CASE_WORKER}


def test_patch_deactivates(api_client, agency_admin, colleague):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(f"{URL}{colleague.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert not User.objects.get(pk=colleague.pk).is_active


def test_patch_of_another_agency_is_404(api_client, agency_admin, outsider):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(
        f"{URL}{outsider.pk}/",
        {"is_active": False, "email": "mine@example.invalid"},
        format="json",
    )
    assert response.status_code == 404
    stored = User.objects.get(pk=outsider.pk)
    assert stored.is_active and stored.email == "outsider@example.invalid"


def test_system_admin_patches_any_agency(api_client, system_admin, outsider):
    api_client.force_authenticate(system_admin)
    response = api_client.patch(
        f"{URL}{outsider.pk}/", {"roles": [Role.AGENCY_ADMIN]}, format="json"
    )
    assert response.status_code == 200
    assert User.objects.get(pk=outsider.pk).role_grants.pending().get().role == Role.AGENCY_ADMIN


def test_non_admin_cannot_patch_themselves(api_client, colleague):
    api_client.force_authenticate(colleague)
    response = api_client.patch(
        f"{URL}{colleague.pk}/", {"roles": [Role.AGENCY_ADMIN]}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert User.objects.get(pk=colleague.pk).roles == {Role.CASE_WORKER}


def test_admin_cannot_deactivate_self(api_client, agency_admin):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(f"{URL}{agency_admin.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 403
    assert User.objects.get(pk=agency_admin.pk).is_active


def test_admin_cannot_remove_own_admin_role(api_client, agency_admin):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(
        f"{URL}{agency_admin.pk}/", {"roles": [Role.CASE_WORKER]}, format="json"
    )
    assert response.status_code == 403  # nobody changes their own roles
    assert User.objects.get(pk=agency_admin.pk).roles == {Role.AGENCY_ADMIN}


def test_refused_patch_writes_none_of_it(api_client, agency_admin, colleague):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(
        f"{URL}{colleague.pk}/",
        {"first_name": "Changed", "is_active": False, "roles": [Role.SYSTEM_ADMIN]},
        format="json",
    )
    assert response.status_code == 400
    stored = User.objects.get(pk=colleague.pk)
    assert stored.first_name == "Test" and stored.is_active
    assert stored.roles == {Role.CASE_WORKER}


def test_invalid_email_patch_is_400_without_echo(api_client, agency_admin, colleague):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(
        f"{URL}{colleague.pk}/", {"email": "Adresa-Private-9"}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]
    assert "Adresa-Private-9" not in response.content.decode()
    assert User.objects.get(pk=colleague.pk).email == "colleague@example.invalid"


def test_invalid_role_patch_is_400_without_echo(api_client, agency_admin, colleague):
    api_client.force_authenticate(agency_admin)
    response = api_client.patch(
        f"{URL}{colleague.pk}/", {"roles": ["Roli-Sekret-44"]}, format="json"
    )
    assert response.status_code == 400
    assert "roles" in response.json()["error"]["fields"]
    assert "Roli-Sekret-44" not in response.content.decode()
    assert User.objects.get(pk=colleague.pk).roles == {Role.CASE_WORKER}


@pytest.mark.parametrize("method", ["put", "delete"])
def test_put_and_delete_are_not_allowed(api_client, agency_admin, colleague, method):
    api_client.force_authenticate(agency_admin)
    response = getattr(api_client, method)(
        f"{URL}{colleague.pk}/", new_user(colleague.agency), format="json"
    )
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert User.objects.filter(pk=colleague.pk, username="colleague").exists()
