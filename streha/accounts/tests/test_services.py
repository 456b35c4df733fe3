"""Account services: the policy is asked first, validation is complete, nothing is half-written."""

import re
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from streha.accounts import services
from streha.accounts.models import Agency, AgencyKind, ApiToken, Role, RoleGrant, User
from streha.testing.factories import MunicipalityFactory, UserFactory

pytestmark = pytest.mark.django_db


def new_user(actor, agency, username="new.worker", **kwargs):
    kwargs.setdefault("email", f"{username}@example.invalid")
    return services.create_user(actor, agency=agency, username=username, **kwargs)


def nothing_named(username):
    return (
        not User.objects.filter(username__iexact=username).exists()
        and not RoleGrant.objects.filter(user__username__iexact=username).exists()
    )


# --- Agencies ---------------------------------------------------------------------------------


class TestCreateAgency:
    def test_system_admin_creates_agency_with_municipality(self, system_admin):
        municipality = MunicipalityFactory(code="gjakove", name_en="Gjakova")
        agency = services.create_agency(
            system_admin,
            code="police-gjakove",
            name="  Regional police Gjakova  ",
            kind=AgencyKind.POLICE,
            municipality=municipality,
        )
        stored = Agency.objects.get(pk=agency.pk)
        assert stored.name == "Regional police Gjakova"
        assert stored.kind == AgencyKind.POLICE
        assert stored.municipality == municipality and stored.region == municipality.region
        assert stored.is_active

    @pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.ANALYST])
    def test_nobody_else_creates_agencies(self, make_user, agency, role):
        actor = make_user(role, agency=agency)
        with pytest.raises(PermissionDenied):
            services.create_agency(actor, code="rogue", name="Rogue", kind=AgencyKind.SHELTER)
        assert not Agency.objects.filter(code="rogue").exists()

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"code": "ok-code", "name": "X", "kind": "secret_service"}, "kind"),
            ({"code": "not a slug!", "name": "X", "kind": AgencyKind.HEALTH}, "code"),
            ({"code": "ok-code", "name": "   ", "kind": AgencyKind.HEALTH}, "name"),
        ],
    )
    def test_invalid_agency_is_not_written(self, system_admin, values, field):
        before = Agency.objects.count()
        with pytest.raises(ValidationError) as error:
            services.create_agency(system_admin, **values)
        assert field in error.value.message_dict
        assert Agency.objects.count() == before

    def test_duplicate_code_is_refused(self, system_admin, agency):
        with pytest.raises(ValidationError) as error:
            services.create_agency(
                system_admin, code=agency.code, name="Twin", kind=AgencyKind.HEALTH
            )
        assert "code" in error.value.message_dict
        assert Agency.objects.filter(code=agency.code).count() == 1


# --- Staff accounts ---------------------------------------------------------------------------


class TestCreateUser:
    def test_agency_admin_creates_colleague_with_roles_and_invitation(
        self, agency_admin, agency, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            user = new_user(
                agency_admin,
                agency,
                first_name=" Ana ",
                last_name=" Krasniqi ",
                roles=[Role.CASE_WORKER, Role.SUPERVISOR],
            )
        user = User.objects.get(pk=user.pk)
        assert user.agency == agency
        assert (user.first_name, user.last_name) == ("Ana", "Krasniqi")
        # Asked for, not yet given: a second administrator must approve each role.
        assert user.roles == frozenset()
        assert set(user.role_grants.pending().values_list("role", flat=True)) == {
            Role.CASE_WORKER,
            Role.SUPERVISOR,
        }
        assert set(user.role_grants.values_list("granted_by", flat=True)) == {agency_admin.pk}
        assert not user.has_usable_password()  # administrators never know staff passwords
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["new.worker@example.invalid"]
        assert "new.worker" in message.body
        assert re.search(r"https?://\S+/accounts/password/reset/key/\S+/", message.body)

    def test_invitation_is_sent_only_after_commit(self, agency_admin, agency):
        new_user(agency_admin, agency)
        assert mail.outbox == []  # the test transaction never commits

    def test_no_invitation_with_password_or_when_not_asked(
        self, agency_admin, agency, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            with_password = new_user(
                agency_admin, agency, "pw.user", password="Long-Enough-Pass-42"
            )
            quiet = new_user(agency_admin, agency, "quiet.user", invite=False)
        assert mail.outbox == []
        assert User.objects.get(pk=with_password.pk).check_password("Long-Enough-Pass-42")
        assert not User.objects.get(pk=quiet.pk).has_usable_password()

    def test_weak_password_is_refused(self, agency_admin, agency):
        with pytest.raises(ValidationError):
            new_user(agency_admin, agency, password="short")
        assert nothing_named("new.worker")

    def test_system_admin_creates_in_any_agency_and_grants_system_admin(
        self, system_admin, agency, make_user, other_agency
    ):
        user = new_user(system_admin, agency, roles=[Role.SYSTEM_ADMIN])
        assert user.agency == agency and user.roles == frozenset()
        second = make_user(Role.SYSTEM_ADMIN, agency=other_agency)
        services.approve_role_grant(second, user.role_grants.get())
        user.forget_roles()
        assert user.roles == {Role.SYSTEM_ADMIN}

    def test_agency_admin_cannot_create_in_another_agency(
        self, agency_admin, other_agency, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
            new_user(agency_admin, other_agency, roles=[Role.CASE_WORKER])
        assert nothing_named("new.worker")
        assert mail.outbox == []

    def test_agency_admin_cannot_grant_system_admin(self, agency_admin, agency):
        with pytest.raises(ValidationError) as error:
            new_user(agency_admin, agency, roles=[Role.CASE_WORKER, Role.SYSTEM_ADMIN])
        assert "roles" in error.value.message_dict
        assert nothing_named("new.worker")

    @pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.SUPERVISOR, Role.AUDITOR])
    def test_non_admins_cannot_create(self, make_user, agency, role):
        with pytest.raises(PermissionDenied):
            new_user(make_user(role, agency=agency), agency)
        assert nothing_named("new.worker")

    def test_unknown_role_leaves_no_user_and_no_grant(
        self, agency_admin, agency, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
            new_user(agency_admin, agency, roles=[Role.CASE_WORKER, "pope"])
        assert nothing_named("new.worker")
        assert mail.outbox == []

    def test_duplicate_username_leaves_nothing(
        self, agency_admin, agency, colleague, django_capture_on_commit_callbacks
    ):
        grants_before = RoleGrant.objects.count()
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as e:
            new_user(agency_admin, agency, colleague.username, roles=[Role.ANALYST])
        assert "username" in e.value.message_dict
        assert User.objects.filter(username=colleague.username).count() == 1
        assert RoleGrant.objects.count() == grants_before
        assert User.objects.get(pk=colleague.pk).roles == {Role.CASE_WORKER}
        assert mail.outbox == []

    def test_username_differing_only_in_case_is_a_duplicate(self, agency_admin, agency, colleague):
        # Sign-in looks usernames up case-insensitively (allauth; the lock-out counter too):
        # with both "colleague" and "COLLEAGUE" stored, neither of them can sign in any more.
        with pytest.raises(ValidationError) as error:
            new_user(agency_admin, agency, colleague.username.upper(), roles=[Role.ANALYST])
        assert "username" in error.value.message_dict
        assert User.objects.filter(username__iexact=colleague.username).count() == 1

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"username": "no.mail", "email": ""}, "email"),
            ({"username": "bad.mail", "email": "not-an-address"}, "email"),
            ({"username": "bad name!", "email": "b@example.invalid"}, "username"),
            ({"username": "   ", "email": "b@example.invalid"}, "username"),
        ],
    )
    def test_invalid_fields_leave_nothing(self, agency_admin, agency, values, field):
        users, grants = User.objects.count(), RoleGrant.objects.count()
        with pytest.raises(ValidationError) as error:
            services.create_user(agency_admin, agency=agency, roles=[Role.CASE_WORKER], **values)
        assert field in error.value.message_dict
        assert (User.objects.count(), RoleGrant.objects.count()) == (users, grants)

    def test_system_creation_validates_roles_too(self, agency):
        # actor=None is the system itself (demo data, first set-up): it may grant any role,
        # but a role outside the vocabulary must not be stored either.
        with pytest.raises(ValidationError):
            services.create_user(
                None, agency=agency, username="seed", email="s@example.invalid", roles=["pope"]
            )
        assert nothing_named("seed")
        assert not RoleGrant.objects.filter(role="pope").exists()

    def test_system_creation_grants_any_role(self, agency):
        user = services.create_user(
            None,
            agency=agency,
            username="first.admin",
            email="f@example.invalid",
            roles=[Role.SYSTEM_ADMIN],
            invite=False,
        )
        assert user.roles == {Role.SYSTEM_ADMIN}
        assert user.role_grants.get().granted_by is None


class TestUpdateUser:
    def test_agency_admin_edits_colleague(self, agency_admin, colleague):
        services.update_user(
            agency_admin,
            colleague,
            email=" new@example.invalid ",
            first_name="Drita",
            roles=[Role.SUPERVISOR, Role.HOTLINE_OPERATOR],
        )
        stored = User.objects.get(pk=colleague.pk)
        assert stored.email == "new@example.invalid" and stored.first_name == "Drita"
        # The dropped role is revoked at once (kept in the history); the new ones wait.
        assert stored.roles == frozenset()
        assert stored.role_grants.get(role=Role.CASE_WORKER).revoked_by == agency_admin
        assert set(stored.role_grants.pending().values_list("role", flat=True)) == {
            Role.SUPERVISOR,
            Role.HOTLINE_OPERATOR,
        }
        assert stored.role_grants.get(role=Role.SUPERVISOR).granted_by == agency_admin

    def test_unchanged_roles_keep_their_grant_record(self, agency_admin, colleague):
        granted_at = colleague.role_grants.get().granted_at
        services.update_user(agency_admin, colleague, roles=[Role.CASE_WORKER, Role.ANALYST])
        assert colleague.role_grants.get(role=Role.CASE_WORKER).granted_at == granted_at

    def test_agency_admin_deactivates_and_reactivates_colleague(self, agency_admin, colleague):
        services.update_user(agency_admin, colleague, is_active=False)
        assert not User.objects.get(pk=colleague.pk).is_active
        services.update_user(agency_admin, colleague, is_active=True)
        assert User.objects.get(pk=colleague.pk).is_active

    def test_agency_admin_cannot_edit_another_agency(self, agency_admin, outsider):
        for change in (
            {"is_active": False},
            {"email": "mine@example.invalid"},
            {"roles": [Role.AGENCY_ADMIN]},
        ):
            with pytest.raises(PermissionDenied):
                services.update_user(agency_admin, outsider, **change)
        stored = User.objects.get(pk=outsider.pk)
        assert stored.is_active and stored.email == "outsider@example.invalid"
        assert stored.roles == {Role.CASE_WORKER}

    def test_non_admin_cannot_edit_even_themselves(self, colleague):
        with pytest.raises(PermissionDenied):
            services.update_user(colleague, colleague, roles=[Role.AGENCY_ADMIN])
        assert User.objects.get(pk=colleague.pk).roles == {Role.CASE_WORKER}

    def test_agency_admin_cannot_grant_system_admin(self, agency_admin, colleague):
        with pytest.raises(ValidationError) as error:
            services.update_user(agency_admin, colleague, roles=[Role.SYSTEM_ADMIN])
        assert "roles" in error.value.message_dict
        assert User.objects.get(pk=colleague.pk).roles == {Role.CASE_WORKER}

    def test_agency_admin_cannot_take_away_system_admin(self, agency_admin, make_user, agency):
        # A system administrator's account is out of an agency administrator's reach entirely
        # (see TestAgencyAdminAndSystemAdministrators), roles included.
        boss = make_user(Role.SYSTEM_ADMIN, Role.ANALYST, agency=agency)
        with pytest.raises(PermissionDenied):
            services.update_user(agency_admin, boss, roles=[Role.AUDITOR])
        assert User.objects.get(pk=boss.pk).roles == {Role.SYSTEM_ADMIN, Role.ANALYST}

    def test_admin_cannot_deactivate_self(self, agency_admin):
        with pytest.raises(PermissionDenied):
            services.update_user(agency_admin, agency_admin, is_active=False)
        assert User.objects.get(pk=agency_admin.pk).is_active

    @pytest.mark.parametrize("admin_role", [Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN])
    def test_nobody_changes_their_own_roles(self, make_user, agency, admin_role):
        admin = make_user(admin_role, agency=agency)
        for roles in ([Role.CASE_WORKER], [admin_role, Role.SUPERVISOR], [admin_role]):
            with pytest.raises(PermissionDenied):
                services.update_user(admin, admin, roles=roles)
        assert RoleGrant.objects.filter(user=admin).count() == 1
        assert User.objects.get(pk=admin.pk).roles == {admin_role}

    def test_system_admin_edits_any_agency(self, system_admin, outsider):
        services.update_user(system_admin, outsider, roles=[Role.AGENCY_ADMIN], is_active=False)
        stored = User.objects.get(pk=outsider.pk)
        assert not stored.is_active
        assert stored.roles == frozenset()  # case worker revoked, administrator pending
        assert stored.role_grants.pending().get().role == Role.AGENCY_ADMIN

    def test_refused_roles_write_none_of_the_other_changes(self, agency_admin, colleague):
        with pytest.raises(ValidationError):
            services.update_user(
                agency_admin,
                colleague,
                first_name="Changed",
                is_active=False,
                roles=[Role.SUPERVISOR, "pope"],
            )
        stored = User.objects.get(pk=colleague.pk)
        assert stored.first_name == "Test" and stored.is_active
        assert stored.roles == {Role.CASE_WORKER}

    def test_invalid_email_writes_nothing(self, agency_admin, colleague):
        with pytest.raises(ValidationError) as error:
            services.update_user(agency_admin, colleague, email="broken", roles=[Role.SUPERVISOR])
        assert "email" in error.value.message_dict
        stored = User.objects.get(pk=colleague.pk)
        assert stored.email == "colleague@example.invalid"
        assert stored.roles == {Role.CASE_WORKER}


class TestAgencyAdminAndSystemAdministrators:
    """A system administrator may sit in an ordinary agency (often the national coordinator's).

    Its agency administrator must not be able to take that account over: "only system
    administrators make system administrators, so one compromised agency cannot take over the
    others" (streha/access/policy.py). Acting as the account through an API token, redirecting
    its e-mail (then the password reset), resetting its second factor, or switching it off all
    defeat that rule.
    """

    @pytest.fixture
    def resident_system_admin(self, make_user, agency):
        return make_user(Role.SYSTEM_ADMIN, agency=agency, username="resident.sysadmin")

    def test_cannot_issue_a_token_acting_as_a_system_admin(
        self, agency_admin, resident_system_admin
    ):
        with pytest.raises((PermissionDenied, ValidationError)):
            services.issue_api_token(agency_admin, user=resident_system_admin, name="takeover")
        assert not ApiToken.objects.filter(user=resident_system_admin).exists()

    def test_cannot_redirect_a_system_admins_email(self, agency_admin, resident_system_admin):
        with pytest.raises((PermissionDenied, ValidationError)):
            services.update_user(
                agency_admin, resident_system_admin, email="attacker@example.invalid"
            )
        assert User.objects.get(pk=resident_system_admin.pk).email == (
            "resident.sysadmin@example.invalid"
        )

    def test_cannot_deactivate_a_system_admin(self, agency_admin, resident_system_admin):
        with pytest.raises((PermissionDenied, ValidationError)):
            services.update_user(agency_admin, resident_system_admin, is_active=False)
        assert User.objects.get(pk=resident_system_admin.pk).is_active

    def test_cannot_reset_a_system_admins_second_factor(self, agency_admin, resident_system_admin):
        Authenticator.objects.create(
            user=resident_system_admin, type=Authenticator.Type.TOTP, data={}
        )
        with pytest.raises(PermissionDenied):
            services.reset_two_factor(agency_admin, resident_system_admin)
        assert Authenticator.objects.filter(user=resident_system_admin).exists()


class TestResetTwoFactor:
    def test_agency_admin_resets_colleague(self, agency_admin, colleague):
        Authenticator.objects.create(user=colleague, type=Authenticator.Type.TOTP, data={})
        services.reset_two_factor(agency_admin, colleague)
        assert not Authenticator.objects.filter(user=colleague).exists()

    def test_not_in_another_agency(self, agency_admin, outsider):
        Authenticator.objects.create(user=outsider, type=Authenticator.Type.TOTP, data={})
        with pytest.raises(PermissionDenied):
            services.reset_two_factor(agency_admin, outsider)
        assert Authenticator.objects.filter(user=outsider).exists()


# --- API tokens -------------------------------------------------------------------------------


class TestApiTokens:
    def test_issue_stores_only_a_digest(self, agency_admin, service_account):
        token, secret = services.issue_api_token(
            agency_admin, user=service_account, name=" Sync ", scopes=["write", "read"]
        )
        assert re.fullmatch(r"strh_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", secret)
        stored = ApiToken.objects.get(pk=token.pk)
        assert stored.key_prefix == secret.split("_")[1]
        assert stored.key_digest == ApiToken.digest(secret)
        assert secret not in {
            str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()
        }
        assert stored.name == "Sync"
        assert (stored.agency, stored.user, stored.created_by) == (
            service_account.agency,
            service_account,
            agency_admin,
        )
        assert stored.is_active and stored.revoked_at is None
        assert stored.scopes == ["read", "write"]
        assert stored.expires_at > timezone.now()  # every token expires (90 days by default)

    def test_secrets_are_unique(self, agency_admin, service_account):
        secrets = {
            services.issue_api_token(agency_admin, user=service_account, name="t")[1] for _ in "ab"
        }
        assert len(secrets) == 2

    def test_expiry_must_be_in_the_future(self, agency_admin, service_account):
        with pytest.raises(ValidationError) as error:
            services.issue_api_token(
                agency_admin,
                user=service_account,
                name="late",
                expires_at=timezone.now() - timedelta(minutes=1),
            )
        assert "expires_at" in error.value.message_dict
        assert not ApiToken.objects.exists()
        with pytest.raises(ValidationError) as error:
            services.issue_api_token(
                agency_admin,
                user=service_account,
                name="forever",
                expires_at=timezone.now() + timedelta(days=366),
            )
        assert "expires_at" in error.value.message_dict
        assert not ApiToken.objects.exists()
        token, _ = services.issue_api_token(
            agency_admin,
            user=service_account,
            name="ok",
            expires_at=timezone.now() + timedelta(days=7),
        )
        assert token.is_active

    def test_refused_for_deactivated_or_agencyless_accounts(
        self, agency_admin, system_admin, service_account, make_user
    ):
        service_account.is_active = False
        service_account.save()
        with pytest.raises(ValidationError) as error:
            services.issue_api_token(agency_admin, user=service_account, name="x")
        assert "user" in error.value.message_dict
        stateless = UserFactory(roles=[Role.CASE_WORKER], agency=None, is_service_account=True)
        with pytest.raises(ValidationError):
            services.issue_api_token(system_admin, user=stateless, name="x")
        assert not ApiToken.objects.exists()

    def test_blank_name_is_refused(self, agency_admin, service_account):
        with pytest.raises(ValidationError) as error:
            services.issue_api_token(agency_admin, user=service_account, name="   ")
        assert "name" in error.value.message_dict
        assert not ApiToken.objects.exists()

    def test_only_administrators_of_the_agency_issue(
        self, agency_admin, outside_service_account, service_account, colleague
    ):
        with pytest.raises(PermissionDenied):
            services.issue_api_token(agency_admin, user=outside_service_account, name="x")
        with pytest.raises(PermissionDenied):
            services.issue_api_token(colleague, user=service_account, name="x")
        assert not ApiToken.objects.exists()

    def test_system_admin_issues_for_any_agency(self, system_admin, service_account):
        token, _ = services.issue_api_token(system_admin, user=service_account, name="x")
        assert token.agency == service_account.agency

    def test_revoke_is_recorded_once(self, agency_admin, make_user, agency, service_account):
        token, _ = services.issue_api_token(agency_admin, user=service_account, name="x")
        services.revoke_api_token(agency_admin, token)
        first = ApiToken.objects.get(pk=token.pk)
        assert first.revoked_by == agency_admin and first.revoked_at is not None
        assert not first.is_active
        second_admin = make_user(Role.AGENCY_ADMIN, agency=agency)
        services.revoke_api_token(second_admin, first)
        again = ApiToken.objects.get(pk=token.pk)
        assert (again.revoked_at, again.revoked_by) == (first.revoked_at, agency_admin)

    def test_revoke_is_for_the_agency_admin_or_system_admin(
        self, agency_admin, system_admin, outside_service_account, colleague
    ):
        token, _ = services.issue_api_token(system_admin, user=outside_service_account, name="x")
        with pytest.raises(PermissionDenied):
            services.revoke_api_token(agency_admin, token)
        with pytest.raises(PermissionDenied):
            services.revoke_api_token(colleague, token)
        assert ApiToken.objects.get(pk=token.pk).revoked_at is None
        services.revoke_api_token(system_admin, token)
        assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
