"""Fixtures shared by the accounts and API tests: administrators of both kinds, in English.

Imported into those packages' conftest modules (pytest registers imported fixtures)."""

import pytest
from django.utils import translation

from streha.accounts.models import Role


@pytest.fixture(autouse=True)
def _english(settings):
    # The default language is Albanian; the tests read the English source messages. Requests
    # pick the language up from LANGUAGE_CODE (no Accept-Language header in the test client).
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def agency_admin(make_user, agency):
    return make_user(Role.AGENCY_ADMIN, agency=agency, username="agency.admin")


@pytest.fixture
def system_admin(make_user, other_agency):
    return make_user(Role.SYSTEM_ADMIN, agency=other_agency, username="system.admin")


@pytest.fixture
def colleague(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency, username="colleague")


@pytest.fixture
def outsider(make_user, other_agency):
    return make_user(Role.CASE_WORKER, agency=other_agency, username="outsider")


@pytest.fixture
def service_account(make_user, agency):
    """A machine client of ``agency``: the only kind of account API tokens are issued for."""
    return make_user(
        Role.CASE_WORKER, agency=agency, username="sync.client", is_service_account=True
    )


@pytest.fixture
def outside_service_account(make_user, other_agency):
    return make_user(
        Role.CASE_WORKER, agency=other_agency, username="outside.client", is_service_account=True
    )
