"""The access policy's answers on staff administration: who may manage whom."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from streha.access import policy
from streha.accounts.models import ApiToken, Role

pytestmark = pytest.mark.django_db


def test_agency_admin_administers_own_agency_only(agency_admin, agency, other_agency):
    assert policy.can_administer_users(agency_admin)
    assert policy.can_administer_agency(agency_admin, agency)
    assert not policy.can_administer_agency(agency_admin, other_agency)
    assert not policy.can_manage_agencies(agency_admin)


def test_system_admin_administers_every_agency(system_admin, agency, other_agency):
    assert policy.can_administer_agency(system_admin, agency)
    assert policy.can_administer_agency(system_admin, other_agency)
    assert policy.can_manage_agencies(system_admin)


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
def test_other_roles_administer_nothing(make_user, agency, role):
    user = make_user(role, agency=agency)
    assert not policy.can_administer_users(user)
    assert not policy.can_administer_agency(user, agency)
    assert not policy.can_manage_agencies(user)
    assert policy.grantable_roles(user) == []
    assert list(policy.users_visible_to(user)) == [user]
    assert not policy.api_tokens_visible_to(user).exists()


def test_deactivated_administrators_lose_their_powers(make_user, agency):
    admin = make_user(Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN, agency=agency, is_active=False)
    assert not policy.can_administer_users(admin)
    assert not policy.can_administer_agency(admin, agency)
    assert policy.grantable_roles(admin) == []


def test_anonymous_sees_nothing(agency):
    anonymous = AnonymousUser()
    assert not policy.can_administer_users(anonymous)
    assert not policy.agencies_visible_to(anonymous).exists()


def test_only_system_admin_grants_system_admin(agency_admin, system_admin):
    assert Role.SYSTEM_ADMIN not in policy.grantable_roles(agency_admin)
    assert set(policy.grantable_roles(agency_admin)) == set(Role.values) - {Role.SYSTEM_ADMIN}
    assert set(policy.grantable_roles(system_admin)) == set(Role.values)


def test_user_and_token_scoping(agency_admin, system_admin, colleague, outsider, agency):
    assert set(policy.users_visible_to(agency_admin)) == {agency_admin, colleague}
    assert {agency_admin, colleague, outsider, system_admin} <= set(
        policy.users_visible_to(system_admin)
    )

    def token(user, name):
        return ApiToken.objects.create(
            agency=user.agency, user=user, name=name, key_prefix=name, key_digest=name * 8
        )

    own, foreign = token(colleague, "own"), token(outsider, "foreign")
    assert list(policy.api_tokens_visible_to(agency_admin)) == [own]
    assert set(policy.api_tokens_visible_to(system_admin)) == {own, foreign}


def test_every_staff_member_sees_the_agency_directory(colleague, agency, other_agency):
    assert set(policy.agencies_visible_to(colleague)) == {agency, other_agency}


def test_require_raises_permission_denied():
    policy.require(True)
    with pytest.raises(PermissionDenied):
        policy.require(False)
