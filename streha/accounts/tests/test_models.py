"""Agencies, roles and API tokens as stored: the vocabularies the access policy understands."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from streha.accounts.models import Agency, AgencyKind, ApiToken, Role, RoleGrant
from streha.testing.factories import AgencyFactory, MunicipalityFactory, RegionFactory


def test_agency_kinds_are_the_agreed_vocabulary():
    assert set(AgencyKind.values) == {
        "police",
        "prosecution",
        "victim_advocacy",
        "social_work",
        "shelter",
        "labour_inspectorate",
        "health",
        "national_coordinator",
        "international_organisation",
        "court",
    }
    assert AgencyKind.SOCIAL_WORK.label == "Centre for social work"
    assert AgencyKind.SHELTER.label == "Shelter / NGO"


def test_roles_are_the_agreed_vocabulary():
    assert set(Role.values) == {
        "hotline_operator",
        "case_worker",
        "supervisor",
        "investigator",
        "prosecutor",
        "analyst",
        "auditor",
        "agency_admin",
        "system_admin",
        "court_liaison",
        "witness_protection",
    }


@pytest.mark.django_db
def test_agency_has_municipality_and_region():
    region = RegionFactory(code="prizren", name_en="Prizren")
    municipality = MunicipalityFactory(code="suhareke", region=region, name_en="Suharekë")
    agency = AgencyFactory(kind=AgencyKind.POLICE, municipality=municipality)
    agency.refresh_from_db()
    assert agency.municipality == municipality
    assert agency.region == region
    national = AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR, municipality=None)
    assert national.region is None


@pytest.mark.django_db
def test_agency_rejects_unknown_kind_and_duplicate_code(agency):
    with pytest.raises(ValidationError) as unknown:
        Agency(code="new-one", name="New", kind="secret_service").full_clean()
    assert "kind" in unknown.value.message_dict
    with pytest.raises(ValidationError) as duplicate:
        Agency(code=agency.code, name="Twin", kind=AgencyKind.HEALTH).full_clean()
    assert "code" in duplicate.value.message_dict


@pytest.mark.django_db
def test_user_belongs_to_one_agency_and_holds_roles(make_user, agency):
    user = make_user(Role.CASE_WORKER, Role.SUPERVISOR, agency=agency)
    assert user.agency == agency
    assert user.roles == {Role.CASE_WORKER, Role.SUPERVISOR}
    assert user.has_role(Role.SUPERVISOR, Role.AUDITOR)
    assert not user.has_role(Role.AUDITOR, Role.ANALYST)
    assert user in agency.users.all()


@pytest.mark.django_db
def test_roles_are_cached_until_forgotten(make_user):
    user = make_user(Role.CASE_WORKER)
    assert user.roles == {Role.CASE_WORKER}
    RoleGrant.objects.create(user=user, role=Role.ANALYST, approved_at=timezone.now())
    assert user.roles == {Role.CASE_WORKER}  # read once per instance
    user.forget_roles()
    assert user.roles == {Role.CASE_WORKER, Role.ANALYST}


@pytest.mark.django_db
def test_only_approved_unrevoked_grants_count(make_user):
    user = make_user(Role.CASE_WORKER)
    RoleGrant.objects.create(user=user, role=Role.SUPERVISOR)  # pending
    RoleGrant.objects.create(
        user=user, role=Role.AUDITOR, approved_at=timezone.now(), revoked_at=timezone.now()
    )
    user.forget_roles()
    assert user.roles == {Role.CASE_WORKER}


@pytest.mark.django_db
def test_one_live_grant_per_role_and_history_kept(make_user):
    from django.db import IntegrityError, transaction

    user = make_user(Role.CASE_WORKER)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.create(user=user, role=Role.CASE_WORKER)
    assert RoleGrant.objects.filter(user=user).count() == 1
    # Once revoked, the role may be granted again; the revoked row stays beside the new one.
    RoleGrant.objects.filter(user=user).update(revoked_at=timezone.now())
    RoleGrant.objects.create(user=user, role=Role.CASE_WORKER)
    assert RoleGrant.objects.filter(user=user).count() == 2


def test_token_digest_is_sha256_hex():
    assert ApiToken.digest("strh_abc_def") == hashlib.sha256(b"strh_abc_def").hexdigest()
    assert len(ApiToken.digest("x")) == 64


@pytest.mark.django_db
def test_token_activity(make_user, agency):
    user = make_user(agency=agency)
    now = timezone.now()

    def token(name, **kwargs):
        return ApiToken.objects.create(
            agency=agency,
            user=user,
            name=name,
            key_prefix=name[:8],
            key_digest=ApiToken.digest(name),
            **kwargs,
        )

    forever = token("forever")
    later = token("later", expires_at=now + timedelta(days=1))
    expired = token("expired", expires_at=now - timedelta(seconds=1))
    revoked = token("revoked", revoked_at=now)
    assert forever.is_active and later.is_active
    assert not expired.is_active and not revoked.is_active
    assert set(ApiToken.objects.active()) == {forever, later}
