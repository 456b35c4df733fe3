"""Request plumbing around accounts: forced two-factor enrolment, request ids, security headers,
and how the lock-out recognises whose sign-in failed."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.test import RequestFactory
from django.urls import reverse

from streha.accounts import services
from streha.accounts.lockout import username_of_attempt
from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.testing.auth import pass_second_factor
from streha.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


# --- Two-factor enrolment outside demo mode --------------------------------------------------


@pytest.fixture
def not_demo(settings):
    settings.DEMO_MODE = False


def enrol(user):
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})


def test_without_authenticator_pages_redirect_to_enrolment(client, not_demo, agency_admin):
    client.force_login(agency_admin)
    for url in ("/", "/staff/", "/api-tokens/", "/agencies/", "/security/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp"), url


def test_without_authenticator_the_account_pages_stay_reachable(client, not_demo, colleague):
    client.force_login(colleague)
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert client.get("/static/does-not-matter.css").status_code == 404  # not a redirect


def test_without_authenticator_session_api_calls_are_refused_with_json(client, not_demo, colleague):
    client.force_login(colleague)
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"
    assert response.json()["error"]["message"]


def test_token_clients_are_not_asked_to_enrol(client, not_demo, agency_admin, service_account):
    _token, secret = services.issue_api_token(agency_admin, user=service_account, name="machine")
    response = client.get("/api/v1/users/me/", headers={"Authorization": f"Token {secret}"})
    assert response.status_code == 200
    assert response.json()["username"] == "sync.client"


def test_sessions_that_passed_the_second_factor_pass(client, not_demo, agency_admin):
    enrol(agency_admin)
    client.force_login(agency_admin)
    pass_second_factor(client, agency_admin)
    assert client.get("/staff/").status_code == 200
    assert client.get("/api/v1/users/me/").status_code == 200


def test_enrolled_but_not_passed_in_this_session_is_signed_out(client, not_demo, agency_admin):
    """The Django admin's own login, or any login() around allauth's stages, makes a session
    with a password alone: having a factor enrolled is not having passed it."""
    enrol(agency_admin)
    client.force_login(agency_admin)
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    client.force_login(agency_admin)
    api = client.get("/api/v1/users/me/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "two_factor_required"
    assert client.get("/staff/").status_code == 302  # that session ended too
    ended = AuditEvent.objects.filter(details__event="session_ended")
    assert ended.count() == 2
    assert ended.first().details["reason"] == "second_factor_not_passed"


def test_a_second_factor_mark_of_another_user_does_not_count(
    client, not_demo, agency_admin, colleague
):
    enrol(agency_admin)
    client.force_login(agency_admin)
    pass_second_factor(client, colleague)
    assert client.get("/staff/").status_code == 302


def test_demo_mode_does_not_force_enrolment(client, settings, colleague):
    settings.DEMO_MODE = True
    client.force_login(colleague)
    assert client.get("/security/").status_code == 200


# --- Request id and security headers ---------------------------------------------------------


def test_every_response_carries_a_request_id(client, colleague):
    ids = set()
    for url in ("/accounts/login/", "/no-such-page/", "/api/v1/users/me/"):
        response = client.get(url)
        assert re.fullmatch(r"[A-Za-z0-9-]{8,64}", response["X-Request-ID"]), url
        ids.add(response["X-Request-ID"])
    client.force_login(colleague)
    ids.add(client.get("/staff/")["X-Request-ID"])
    assert len(ids) == 4  # one per request


def test_a_request_id_sent_by_the_client_is_never_taken(client):
    # Audit events carry the request id: a client choosing it could pass its requests off as
    # someone else's in the trail.
    response = client.get("/accounts/login/", headers={"X-Request-ID": "proxy-id-12345678"})
    assert response["X-Request-ID"] != "proxy-id-12345678"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 65, "has spaces in it", "semi;colon;12345", "<script>alert</script>"],
)
def test_malformed_request_id_is_replaced(client, incoming):
    response = client.get("/accounts/login/", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def assert_security_headers(response):
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_security_headers_on_the_sign_in_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("url", ["/", "/agencies/", "/staff/", "/api-tokens/", "/security/"])
def test_signed_in_pages_are_never_cached(client, agency_admin, url):
    client.force_login(agency_admin)
    response = client.get(url)
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_htmx_fragment_is_not_cached_either(client, agency_admin, service_account):
    token, _ = services.issue_api_token(agency_admin, user=service_account, name="t")
    client.force_login(agency_admin)
    response = client.post(f"/api-tokens/{token.pk}/revoke/", headers={"HX-Request": "true"})
    assert "no-store" in response["Cache-Control"]


# --- Lock-out key ------------------------------------------------------------------------------


def test_lockout_key_is_the_lowercased_username():
    assert username_of_attempt(None, {"username": "  Ana.Worker "}) == "ana.worker"
    assert username_of_attempt(None, {}) == ""
    assert username_of_attempt(None, None) == ""


def test_lockout_key_reads_allauths_login_field():
    request = RequestFactory().post("/accounts/login/", {"login": "ANA", "password": "x"})
    assert username_of_attempt(request, {}) == "ana"
    request = RequestFactory().post("/accounts/login/", {"username": "Besa"})
    assert username_of_attempt(request, None) == "besa"
    request = RequestFactory().get("/accounts/login/", {"login": "ana"})
    assert username_of_attempt(request, None) == ""


def test_case_variants_share_one_lockout_counter(client, make_user, agency, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user(Role.CASE_WORKER, agency=agency, username="ana.worker")
    for login in ("ana.worker", "ANA.WORKER", "Ana.Worker"):
        client.post("/accounts/login/", {"login": login, "password": "wrong-password-1"})
    response = client.post("/accounts/login/", {"login": "ana.worker", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
