"""Re-authentication before break-glass (and exports): a recent password AND second factor.

An unattended session, or one stolen hours after its sign-in, must not open a record outside
the user's scope: the break-glass request is held while the user enters their password and a
code, then carried out.
"""

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal import auth as totp_auth
from django.core.cache import cache
from rest_framework.test import APIClient

from streha.access.models import BreakGlassGrant
from streha.accounts import reauth, services, sessions
from streha.accounts.models import Role
from streha.testing.auth import pass_second_factor, reauthenticate
from streha.testing.factories import TEST_PASSWORD, PersonFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Police report the person is in immediate danger tonight."


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # allauth remembers used codes and rate limits here
    yield
    cache.clear()


@pytest.fixture
def not_demo(settings):
    settings.DEMO_MODE = False


@pytest.fixture
def supervisor(make_user, agency):
    return make_user(Role.SUPERVISOR, agency=agency, username="sara.supervisor")


@pytest.fixture
def secret(supervisor):
    value = totp_auth.generate_totp_secret()
    totp_auth.TOTP.activate(supervisor, value)
    return value


@pytest.fixture
def foreign_person(other_agency):
    return PersonFactory(owner_agency=other_agency)


def code_now(secret):
    period = mfa_settings.TOTP_PERIOD
    if time.time() % period > period - 1.5:  # not in the last second of a period
        time.sleep(2)
    counter = int(time.time()) // period
    return totp_auth.format_hotp_value(totp_auth.hotp_value(secret, counter))


def test_break_glass_waits_for_password_and_code_then_happens(
    client, not_demo, supervisor, secret, foreign_person
):
    client.force_login(supervisor)
    pass_second_factor(client, supervisor)
    session = client.session
    session[sessions.SECOND_FACTOR]["at"] -= 2 * 3600  # signed in two hours ago
    session.save()
    data = {
        "reference": foreign_person.reference,
        "justification": JUSTIFICATION,
        "field_groups": ["identity"],
    }

    held = client.post("/persons/break-glass/", data)
    assert held.status_code == 302
    assert held["Location"] == "/accounts/reauthenticate/?next=%2Fpersons%2Fbreak-glass%2F"
    assert not BreakGlassGrant.objects.exists()

    after_password = client.post(held["Location"], {"password": TEST_PASSWORD})
    assert after_password.status_code == 302
    assert after_password["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert not BreakGlassGrant.objects.exists()

    done = client.post(after_password["Location"], {"code": code_now(secret)})
    assert done.status_code == 302
    assert done["Location"] == f"/persons/{foreign_person.public_id}/"
    grant = BreakGlassGrant.objects.get()
    assert grant.user == supervisor and grant.person == foreign_person


def test_the_form_itself_shows_without_re_authentication(client, not_demo, supervisor, secret):
    client.force_login(supervisor)
    pass_second_factor(client, supervisor)
    assert client.get("/persons/break-glass/").status_code == 200


def test_a_stale_re_authentication_does_not_count(
    client, not_demo, settings, supervisor, secret, foreign_person
):
    client.force_login(supervisor)
    reauthenticate(client, supervisor)
    session = client.session
    old = sessions.now() - settings.STREHA_REAUTHENTICATION_MINUTES * 60 - 1
    session[sessions.SECOND_FACTOR]["at"] = old
    session.save()
    data = {
        "reference": foreign_person.reference,
        "justification": JUSTIFICATION,
        "field_groups": ["identity"],
    }
    response = client.post("/persons/break-glass/", data)
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert not BreakGlassGrant.objects.exists()


def test_the_api_asks_for_re_authentication_in_the_web_interface(
    client, not_demo, supervisor, secret, foreign_person
):
    client.force_login(supervisor)
    pass_second_factor(client, supervisor)
    data = {
        "reference": foreign_person.reference,
        "justification": JUSTIFICATION,
        "field_groups": ["identity"],
    }
    refused = client.post("/api/v1/persons/break-glass/", data, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reauthentication_required"
    assert not BreakGlassGrant.objects.exists()
    reauthenticate(client, supervisor)
    opened = client.post("/api/v1/persons/break-glass/", data, content_type="application/json")
    assert opened.status_code == 201


def test_a_token_never_passes_re_authentication(make_user, agency, foreign_person):
    admin = make_user(Role.AGENCY_ADMIN, agency=agency)
    machine = make_user(Role.SUPERVISOR, agency=agency, is_service_account=True)
    _token, secret = services.issue_api_token(
        admin, user=machine, name="m", scopes=["read", "write"]
    )
    response = APIClient().post(
        "/api/v1/persons/break-glass/",
        {
            "reference": foreign_person.reference,
            "justification": JUSTIFICATION,
            "field_groups": ["identity"],
        },
        format="json",
        HTTP_AUTHORIZATION=f"Token {secret}",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "reauthentication_required"
    assert not BreakGlassGrant.objects.exists()


def test_demo_mode_asks_for_the_password_only(client, settings, supervisor, foreign_person):
    settings.DEMO_MODE = True
    client.force_login(supervisor)
    data = {
        "reference": foreign_person.reference,
        "justification": JUSTIFICATION,
        "field_groups": ["identity"],
    }
    held = client.post("/persons/break-glass/", data)
    assert held["Location"].startswith("/accounts/reauthenticate/")
    done = client.post(held["Location"], {"password": TEST_PASSWORD})
    assert done.status_code == 302 and BreakGlassGrant.objects.count() == 1


def test_the_decorator_marks_the_views_it_guards():
    from streha.people import views

    assert getattr(views.break_glass, "requires_recent_authentication", False)
    assert reauth.ReauthenticationRequired.default_code == "reauthentication_required"
