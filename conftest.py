"""Shared pytest fixtures. App tests live beside their app (streha/<app>/tests/)."""

import os
from pathlib import Path

import pytest

from streha.testing.factories import AgencyFactory, UserFactory

# pytest-django's live_server runs in a thread next to Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """Under pytest-xdist (`make test`), each worker keeps its own master key file.

    With one shared var/keys/master-keys.json, two workers starting on a fresh checkout would
    both create it (one process's data keys then wrapped under a key the file no longer holds),
    and a test rotating the keys would change them under the other worker's tests. A serial
    `pytest` keeps the default file. A key source set in the environment is left alone.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or any(
        os.environ.get(name)
        for name in ("STREHA_MASTER_KEY_FILE", "STREHA_MASTER_KEYS", "STREHA_KMS")
    ):
        return
    from django.conf import settings

    path = Path(settings.VAR_DIR) / "keys" / f"master-keys-{worker}.json"
    os.environ["STREHA_MASTER_KEY_FILE"] = str(path)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database; on PostgreSQL, before it is dropped, the sessions a test's
    threads left open on it are ended. Else DROP DATABASE fails ("being accessed by other
    users"), pytest warns and the database (one per xdist worker) stays on the server."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def stopped_clock(monkeypatch):
    """``timezone.now()`` answers one instant (taken when the test starts) for the whole test:
    for a test that compares two renderings of a page showing the time to the minute, which
    otherwise fails whenever a minute turns between them."""
    from django.utils import timezone

    instant = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (``LANGUAGE_CODE``), whatever the previous test
    on this worker left active: a request, or the tip line's ``?lang=``, activates its language
    on the thread and nothing resets it, so a message built outside a request would otherwise
    depend on the order of the tests."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


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


@pytest.fixture(autouse=True)
def _audit_outside_the_worktree(settings, tmp_path):
    # Signed audit checkpoints and their key go to a directory of the test's own, never var/.
    settings.STREHA_AUDIT_CHECKPOINT_DIR = str(tmp_path / "audit-checkpoints")
    settings.STREHA_AUDIT_SIGNING_KEY_FILE = str(tmp_path / "audit-keys" / "signing-key.pem")


@pytest.fixture(autouse=True)
def _decrypt_freely_in_test_code(request):
    # Test code may read stored values; each request the test makes still gets a strict
    # audited-read scope of its own (streha/audit/read_context.py). Tests marked
    # `strict_reads` run without it, to check code outside requests.
    if request.node.get_closest_marker("strict_reads"):
        yield
        return
    from streha.audit import read_context

    with read_context.testing_scope():
        yield


@pytest.fixture
def world(db):
    """An agency of every kind and a user of every role in it, made when first asked for
    (streha/testing/world.py)."""
    from streha.testing.world import World

    return World()


@pytest.fixture(autouse=True)
def _rows_of_data_migrations(request):
    """Put back what data migrations create (the screening questionnaires, the default campaign
    pages, the audit chain's head): a transactional test earlier in the session (the browser
    tests) empties every table when it ends, and tests that run after it in the same session (in
    another order on each pytest-xdist worker) expect them."""
    uses_db = {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db and request.node.get_closest_marker("django_db") is None:
        return
    if uses_db:
        # A test that gets the database through another fixture (make_user, world...) would
        # have it only after this autouse fixture: open it first, as that test will.
        request.getfixturevalue("transactional_db" if "transactional_db" in uses_db else "db")
    from streha.audit.models import AuditChainHead, AuditEvent
    from streha.cases.models import Questionnaire
    from streha.cases.questionnaires import seed
    from streha.tips.content import load_default_pages
    from streha.tips.models import CampaignPage

    try:
        seed(Questionnaire)
        load_default_pages(CampaignPage)
        # The audit chain's head (audit migration 0002), in an emptied database only.
        if not AuditChainHead.objects.exists() and not AuditEvent.objects.exists():
            AuditChainHead.objects.create(
                id=AuditChainHead.SINGLETON_ID, last_seq=0, last_hash="0" * 64
            )
    except RuntimeError:  # no database access in this test after all
        return


# Fixtures shared by the apps' tests (search set-up of people and protection).
pytest_plugins = ["streha.testing.search"]


@pytest.fixture
def fallback_opened(monkeypatch):
    """The persons search's whole-name fallback opens (decrypts to compare the whole name), in
    the order it opens them."""
    from streha.protection.fields import BlindIndexField

    seen = []
    matches = BlindIndexField.matches

    def counting(self, instance, text):
        seen.append(instance.pk)
        return matches(self, instance, text)

    monkeypatch.setattr(BlindIndexField, "matches", counting)
    return seen
