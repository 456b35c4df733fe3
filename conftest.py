"""Shared pytest fixtures. App tests live beside their app (streha/<app>/tests/)."""

import os

import pytest

from streha.testing.factories import AgencyFactory, UserFactory

# pytest-django's live_server runs in a thread next to Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; the suite creates hundreds of users. One test checks Argon2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agency(db):
    return AgencyFactory()


@pytest.fixture
def other_agency(db):
    return AgencyFactory()


@pytest.fixture
def make_user(db):
    def make(*roles, agency=None, **kwargs):
        if agency is not None:
            kwargs["agency"] = agency
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def world(db):
    """An agency of every kind and a user of every role in it, made when first asked for
    (streha/testing/world.py)."""
    from streha.testing.world import World

    return World()
