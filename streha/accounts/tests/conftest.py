"""Administrators of both kinds, messages read in English (see streha/testing/admin_fixtures)."""

from streha.testing.admin_fixtures import (  # noqa: F401 - fixtures are found by name
    _english,
    agency_admin,
    colleague,
    outside_service_account,
    outsider,
    service_account,
    system_admin,
)
