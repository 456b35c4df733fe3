"""Signing in, end to end through the real sign-in form (django-allauth), and what guards it:
closed self-registration, lock-out after repeated failures (django-axes), forced two-factor
authentication outside demo mode, the idle timeout, password reset by e-mail, security headers,
CSRF, and the production password hasher."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp_auth
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from streha.accounts.models import Role, User
from streha.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
HOME_URL = "/"
WRONG_PASSWORD = "Not-The-Right-One-42"
NEW_PASSWORD = "Lantern-Orchard-River-73"


@pytest.fixture(autouse=True)
def _english_and_clean_cache(settings):
    # Read the English source messages; start every test with an empty cache (allauth keeps
    # rate limits and used TOTP codes there, and ids may repeat between rolled-back tests).
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    with translation.override("en"):
        yield
    cache.clear()


@pytest.fixture
def demo_mode(settings):
    settings.DEMO_MODE = True


@pytest.fixture
def not_demo(settings):
    settings.DEMO_MODE = False


@pytest.fixture
def worker(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency, username="ana.worker")


@pytest.fixture
def other_worker(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency, username="besa.worker")


def sign_in(client, username, password):
    return client.post(LOGIN_URL, {"login": username, "password": password})


def signed_in_user_id(client):
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


# --- 1. Sign-in ----------------------------------------------------------------------------------


def test_sign_in_page_renders_the_form(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="login"' in html
    assert 'name="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_correct_password_signs_in_and_redirects_home(client, demo_mode, worker):
    response = sign_in(client, "ana.worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home") == HOME_URL
    assert signed_in_user_id(client) == worker.pk
    home = client.get(HOME_URL)
    assert home.status_code == 200
    assert home.wsgi_request.user.pk == worker.pk


def test_sign_in_is_case_insensitive_for_the_username(client, demo_mode, worker):
    response = sign_in(client, "ANA.Worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == worker.pk


def test_wrong_password_shows_an_error_and_stays_signed_out(client, worker):
    response = sign_in(client, "ana.worker", WRONG_PASSWORD)
    assert response.status_code == 200
    assert response.context["form"].errors
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "not correct" in html
    assert signed_in_user_id(client) is None
    # Still signed out: the home page sends us back to sign-in.
    home = client.get(HOME_URL)
    assert home.status_code == 302
    assert urlsplit(home["Location"]).path == LOGIN_URL


def test_unknown_username_is_refused_like_a_wrong_password(client, worker):
    unknown = sign_in(client, "nobody.here", WRONG_PASSWORD)
    wrong = sign_in(Client(), "ana.worker", WRONG_PASSWORD)
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].non_field_errors() == wrong.context["form"].non_field_errors()
    assert signed_in_user_id(client) is None


def test_inactive_account_cannot_sign_in(client, worker):
    worker.is_active = False
    worker.save(update_fields=["is_active"])
    response = sign_in(client, "ana.worker", TEST_PASSWORD)
    assert signed_in_user_id(client) is None
    assert not (response.status_code == 302 and response["Location"] == HOME_URL)


def test_self_sign_up_is_closed(client):
    before = User.objects.count()
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert 'name="password1"' not in page.content.decode()
    response = client.post(
        "/accounts/signup/",
        {
            "username": "intruder",
            "email": "intruder@example.invalid",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code in (200, 302, 403)
    assert User.objects.count() == before
    assert not User.objects.filter(username__iexact="intruder").exists()
    assert signed_in_user_id(client) is None


# --- 2. Lock-out ---------------------------------------------------------------------------------


def test_four_failures_do_not_lock_the_account(client, demo_mode, settings, worker):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, "ana.worker", WRONG_PASSWORD).status_code == 200
    response = sign_in(client, "ana.worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == worker.pk


def test_five_failures_lock_the_username_even_for_the_correct_password(
    client, demo_mode, settings, worker, other_worker
):
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(5):
        response = sign_in(client, "ana.worker", WRONG_PASSWORD)
        assert signed_in_user_id(client) is None
        if attempt < 4:
            assert response.status_code == 200, attempt

    locked = sign_in(client, "ana.worker", TEST_PASSWORD)
    assert locked.status_code == 429
    assert "Account locked" in locked.content.decode()
    assert signed_in_user_id(client) is None

    # From a different browser too: the lock is on the username, not the client.
    locked_elsewhere = sign_in(Client(), "ana.worker", TEST_PASSWORD)
    assert locked_elsewhere.status_code == 429

    # Another username from the very same client still signs in.
    response = sign_in(client, "besa.worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == HOME_URL
    assert signed_in_user_id(client) == other_worker.pk


def test_lock_ends_after_the_cool_off_time(client, demo_mode, settings, worker):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ana.worker", WRONG_PASSWORD)
    assert sign_in(client, "ana.worker", TEST_PASSWORD).status_code == 429
    assert timedelta(minutes=30) == settings.AXES_COOLOFF_TIME

    # Half an hour (and a minute) later the account opens again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    response = sign_in(client, "ana.worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == worker.pk


# --- 3. Two-factor authentication ------------------------------------------------------------


def current_totp_code(secret):
    # Avoid computing a code in the last second of its period.
    period = mfa_settings.TOTP_PERIOD
    if time.time() % period > period - 1.5:
        time.sleep(2)
    counter = int(time.time()) // period
    return totp_auth.format_hotp_value(totp_auth.hotp_value(secret, counter))


def enrol_through_the_activation_form(client):
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[totp_auth.SECRET_SESSION_KEY]
    assert secret in page.content.decode()  # the page shows the secret for manual entry
    return client.post(reverse("mfa_activate_totp"), {"code": current_totp_code(secret)}), secret


def test_outside_demo_mode_a_user_without_totp_must_enrol(client, not_demo, worker):
    response = sign_in(client, "ana.worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == worker.pk

    home = client.get(HOME_URL)
    assert home.status_code == 302
    assert home["Location"] == reverse("mfa_activate_totp")

    api = client.get("/api/v1/users/me/")
    assert api.status_code == 403
    assert api["Content-Type"].startswith("application/json")
    assert api.json()["error"]["code"] == "two_factor_required"


def test_enrolling_totp_through_allauth_unlocks_the_system(client, not_demo, worker):
    sign_in(client, "ana.worker", TEST_PASSWORD)
    assert client.get(HOME_URL)["Location"] == reverse("mfa_activate_totp")

    # A wrong code enrols nothing.
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[totp_auth.SECRET_SESSION_KEY]
    good = current_totp_code(secret)
    bad = f"{(int(good) + 1) % 10**6:06d}"
    refused = client.post(reverse("mfa_activate_totp"), {"code": bad})
    assert refused.status_code == 200
    assert not Authenticator.objects.filter(user=worker).exists()

    response, _secret = enrol_through_the_activation_form(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Authenticator.objects.filter(user=worker, type=Authenticator.Type.TOTP).count() == 1
    recovery = Authenticator.objects.get(user=worker, type=Authenticator.Type.RECOVERY_CODES)
    assert len(recovery.wrap().get_unused_codes()) == mfa_settings.RECOVERY_CODE_COUNT == 10

    home = client.get(HOME_URL)
    assert home.status_code == 200
    assert client.get("/api/v1/users/me/").status_code == 200


def test_after_enrolment_sign_in_asks_for_the_totp_code(client, not_demo, worker):
    sign_in(client, "ana.worker", TEST_PASSWORD)
    response, secret = enrol_through_the_activation_form(client)
    assert response.status_code == 302
    cache.clear()  # the enrolment code must not count as "already used" below

    fresh = Client()
    response = sign_in(fresh, "ana.worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    # Password alone is not a sign-in: nothing is reachable yet.
    assert signed_in_user_id(fresh) is None
    home = fresh.get(HOME_URL)
    assert home.status_code == 302
    assert urlsplit(home["Location"]).path == LOGIN_URL
    assert fresh.get("/api/v1/users/me/").status_code in (401, 403)

    stage = fresh.get("/accounts/2fa/authenticate/")
    assert stage.status_code == 200
    wrong_code = f"{(int(current_totp_code(secret)) + 1) % 10**6:06d}"
    wrong = fresh.post("/accounts/2fa/authenticate/", {"code": wrong_code})
    assert wrong.status_code == 200
    assert signed_in_user_id(fresh) is None

    done = fresh.post("/accounts/2fa/authenticate/", {"code": current_totp_code(secret)})
    assert done.status_code == 302
    assert done["Location"] == HOME_URL
    assert signed_in_user_id(fresh) == worker.pk
    assert fresh.get(HOME_URL).status_code == 200


def test_guessing_the_second_factor_is_limited(client, not_demo, settings, worker):
    """Without a limit, the six-digit code is the only thing between a stolen password and the
    system: after as many wrong codes as the password lock-out allows, even the right code must
    not complete the sign-in."""
    sign_in(client, "ana.worker", TEST_PASSWORD)
    response, secret = enrol_through_the_activation_form(client)
    assert response.status_code == 302
    cache.clear()  # start the second stage with no attempts counted

    attacker = Client()
    assert (
        sign_in(attacker, "ana.worker", TEST_PASSWORD)["Location"] == "/accounts/2fa/authenticate/"
    )
    good = int(current_totp_code(secret))
    for step in range(1, settings.AXES_FAILURE_LIMIT + 1):
        guess = f"{(good + step) % 10**6:06d}"
        attacker.post("/accounts/2fa/authenticate/", {"code": guess})
        assert signed_in_user_id(attacker) is None

    attacker.post("/accounts/2fa/authenticate/", {"code": current_totp_code(secret)})
    assert signed_in_user_id(attacker) is None, (
        f"signed in after {settings.AXES_FAILURE_LIMIT} wrong codes: second factor unlimited"
    )


def test_a_recovery_code_replaces_the_totp_code_once(client, not_demo, worker):
    sign_in(client, "ana.worker", TEST_PASSWORD)
    response, _secret = enrol_through_the_activation_form(client)
    assert response.status_code == 302
    recovery = Authenticator.objects.get(user=worker, type=Authenticator.Type.RECOVERY_CODES)
    code = recovery.wrap().get_unused_codes()[0]

    first = Client()
    sign_in(first, "ana.worker", TEST_PASSWORD)
    done = first.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302
    assert signed_in_user_id(first) == worker.pk

    second = Client()
    sign_in(second, "ana.worker", TEST_PASSWORD)
    again = second.post("/accounts/2fa/authenticate/", {"code": code})
    assert again.status_code == 200
    assert signed_in_user_id(second) is None


def test_demo_mode_does_not_force_enrolment(client, demo_mode, worker):
    response = sign_in(client, "ana.worker", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.get(HOME_URL).status_code == 200
    assert client.get("/api/v1/users/me/").status_code == 200
    assert not Authenticator.objects.filter(user=worker).exists()


# --- 4. Idle timeout ---------------------------------------------------------------------------


def test_idle_timeout_settings(settings):
    from streha.conf import env_int

    idle_minutes = env_int("STREHA_SESSION_IDLE_MINUTES", 30)
    assert idle_minutes * 60 == settings.SESSION_COOKIE_AGE
    # Renewed by streha.web.middleware.SessionRenewalMiddleware, once a minute at most.
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.STREHA_SESSION_RENEW_SECONDS == 60


def session_row(client):
    return Session.objects.get(session_key=client.session.session_key)


def test_activity_renews_the_session_once_a_minute(
    client, demo_mode, settings, worker, monkeypatch
):
    from streha.web import middleware

    sign_in(client, "ana.worker", TEST_PASSWORD)
    assert client.get(HOME_URL).status_code == 200
    row = session_row(client)
    row.expire_date = timezone.now() + timedelta(seconds=60)
    row.save(update_fields=["expire_date"])
    started = middleware._clock()

    # Within the minute: the page is read without writing the session.
    monkeypatch.setattr(middleware, "_clock", lambda: started + 30)
    assert client.get(HOME_URL).status_code == 200
    assert session_row(client).expire_date == row.expire_date

    # A minute later: renewed for the whole idle timeout.
    monkeypatch.setattr(
        middleware, "_clock", lambda: started + settings.STREHA_SESSION_RENEW_SECONDS
    )
    assert client.get(HOME_URL).status_code == 200
    renewed = session_row(client).expire_date
    expected = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((renewed - expected).total_seconds()) < 60


def test_expired_session_sends_back_to_sign_in(client, demo_mode, worker):
    sign_in(client, "ana.worker", TEST_PASSWORD)
    assert client.get(HOME_URL).status_code == 200

    row = session_row(client)
    row.expire_date = timezone.now() - timedelta(seconds=1)
    row.save(update_fields=["expire_date"])

    response = client.get(HOME_URL)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == LOGIN_URL
    assert client.get("/api/v1/users/me/").status_code in (401, 403)


# --- 5. Password reset by e-mail -----------------------------------------------------------------


def reset_link_path(message):
    links = re.findall(r"https?://\S+", message.body)
    reset_links = [link for link in links if "/accounts/password/reset/key/" in link]
    assert len(reset_links) == 1, message.body
    return urlsplit(reset_links[0]).path


def test_password_reset_by_email_sets_a_new_password(client, demo_mode, worker):
    old_session = Client()
    sign_in(old_session, "ana.worker", TEST_PASSWORD)
    assert old_session.get(HOME_URL).status_code == 200

    response = client.post("/accounts/password/reset/", {"email": worker.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [worker.email]
    path = reset_link_path(message)

    form = client.get(path)
    # allauth moves the key into the session and redirects to the form without it in the URL.
    if form.status_code == 302:
        form = client.get(form["Location"])
    assert form.status_code == 200
    assert not form.context.get("token_fail")
    assert 'name="password1"' in form.content.decode()
    form_url = form.request["PATH_INFO"]

    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    # The link alone does not sign anyone in (that would skip the second factor) ...
    assert signed_in_user_id(client) is None
    # ... and a session opened with the old password ends.
    home = old_session.get(HOME_URL)
    assert home.status_code == 302
    assert urlsplit(home["Location"]).path == LOGIN_URL

    fresh = Client()
    assert sign_in(fresh, "ana.worker", TEST_PASSWORD).status_code == 200
    assert signed_in_user_id(fresh) is None
    response = sign_in(fresh, "ana.worker", NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(fresh) == worker.pk


def test_password_reset_does_not_reveal_whether_an_address_exists(client, worker):
    known = client.post("/accounts/password/reset/", {"email": worker.email})
    known_mails = list(mail.outbox)
    mail.outbox.clear()
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.invalid"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(known_mails) == 1
    # Whatever allauth tells the unknown address, it carries no working reset link.
    for message in mail.outbox:
        assert message.to == ["nobody@example.invalid"]
        assert "/accounts/password/reset/key/" not in message.body


# --- 7. Security headers and CSRF on the sign-in page --------------------------------------------


def test_sign_in_page_security_headers(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = {
        part.strip().split()[0]: part.strip().split()[1:] for part in csp.split(";") if part.strip()
    }
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # No third-party host anywhere: only 'self', 'none' and the data: scheme for the QR code.
    for name, sources in directives.items():
        for source in sources:
            assert source in ("'self'", "'none'", "data:"), (name, source)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_sign_in_post_requires_a_csrf_token(demo_mode, worker):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(LOGIN_URL, {"login": "ana.worker", "password": TEST_PASSWORD})
    assert refused.status_code == 403
    assert signed_in_user_id(browser) is None

    # With the token from the form, the same request succeeds: the 403 was about CSRF alone.
    page = browser.get(LOGIN_URL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    accepted = browser.post(
        LOGIN_URL,
        {"login": "ana.worker", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )
    assert accepted.status_code == 302
    assert signed_in_user_id(browser) == worker.pk


# --- Password hashing in production ------------------------------------------------------------


def test_production_hasher_is_argon2(settings, agency):
    import streha.settings as project_settings

    configured = list(project_settings.PASSWORD_HASHERS)
    assert configured[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = configured  # undo the suite's fast MD5 hashing for this test
    user = User(username="argon.user", email="argon@example.invalid", agency=agency)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert user.password.startswith("argon2$")
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


# --- Every sign-in path passes the second factor (issue 10, point 2) ----------------------------


def test_a_completed_sign_in_is_audited_with_its_factors(client, not_demo, worker):
    from streha.audit.models import AuditEvent

    sign_in(client, "ana.worker", TEST_PASSWORD)
    response, secret = enrol_through_the_activation_form(client)
    assert response.status_code == 302
    cache.clear()

    fresh = Client()
    sign_in(fresh, "ana.worker", TEST_PASSWORD)
    fresh.post("/accounts/2fa/authenticate/", {"code": current_totp_code(secret)})
    assert signed_in_user_id(fresh) == worker.pk
    event = AuditEvent.objects.filter(details__event="signed_in").order_by("-seq").first()
    assert event.actor == worker and event.details["second_factor"] is True
    assert event.details["factors"] == ["password", "totp"]
    assert event.details["method"] == "session"


def test_failed_sign_ins_and_the_lockout_are_audited_without_the_typed_username(
    client, settings, worker
):
    from streha.audit.models import AuditEvent

    sign_in(client, "Ana.Worker", WRONG_PASSWORD)
    sign_in(client, "no.such.person", WRONG_PASSWORD)
    failed = list(AuditEvent.objects.filter(details__event="sign_in_failed").order_by("seq"))
    assert [event.object_id for event in failed] == [str(worker.pk), ""]
    assert all(event.actor is None for event in failed)
    assert "no.such.person" not in str([event.details for event in failed])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ana.worker", WRONG_PASSWORD)
    locked = AuditEvent.objects.filter(details__event="locked_out")
    assert locked.exists() and locked.first().object_id == str(worker.pk)
    assert locked.first().details["address"] == "127.0.0.1"


def test_the_django_admin_login_sends_to_the_one_sign_in(client, not_demo, make_user, agency):
    staff = make_user(Role.SYSTEM_ADMIN, agency=agency, username="root.admin", is_staff=True)
    page = client.get("/django-admin/login/?next=/django-admin/accounts/user/")
    assert page.status_code == 302
    assert page["Location"] == ("/accounts/login/?next=%2Fdjango-admin%2Faccounts%2Fuser%2F")
    posted = client.post(
        "/django-admin/login/", {"username": "root.admin", "password": TEST_PASSWORD}
    )
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert signed_in_user_id(client) is None
    foreign = client.get("/django-admin/login/?next=https://evil.example/")
    assert foreign["Location"] == "/accounts/login/?next=%2Fdjango-admin%2F"
    assert staff.is_staff


def test_the_django_admin_is_not_served_when_disabled(settings):
    import importlib

    from django.urls import clear_url_caches

    import streha.urls

    settings.STREHA_ADMIN_ENABLED = False
    try:
        importlib.reload(streha.urls)
        clear_url_caches()
        assert Client().get("/django-admin/login/").status_code == 404
    finally:
        settings.STREHA_ADMIN_ENABLED = True
        importlib.reload(streha.urls)
        clear_url_caches()
    assert Client().get("/django-admin/login/").status_code == 302


def test_the_admin_edits_nothing_around_the_services(client, make_user, agency):
    from allauth.mfa.models import Authenticator

    from streha.testing.auth import pass_second_factor

    root = make_user(Role.SYSTEM_ADMIN, agency=agency, is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=root, type=Authenticator.Type.TOTP, data={})
    client.force_login(root)
    pass_second_factor(client, root)
    assert client.get(f"/django-admin/accounts/user/{root.pk}/change/").status_code == 200
    response = client.post(
        f"/django-admin/accounts/user/{root.pk}/change/", {"username": "renamed"}
    )
    assert response.status_code == 403
    assert client.get("/django-admin/accounts/apitoken/add/").status_code == 403
    assert User.objects.get(pk=root.pk).username == root.username


# --- Absolute session lifetime ------------------------------------------------------------------


def test_a_session_ends_after_its_absolute_lifetime_however_active(
    client, demo_mode, settings, worker
):
    from streha.accounts import sessions
    from streha.audit.models import AuditEvent

    sign_in(client, "ana.worker", TEST_PASSWORD)
    assert client.get(HOME_URL).status_code == 200
    session = client.session
    started = session[sessions.SIGNED_IN_AT]
    session[sessions.SIGNED_IN_AT] = started - settings.STREHA_SESSION_MAX_HOURS * 3600 + 60
    session.save()
    assert client.get(HOME_URL).status_code == 200  # a minute short of the limit

    session = client.session
    session[sessions.SIGNED_IN_AT] = started - settings.STREHA_SESSION_MAX_HOURS * 3600 - 1
    session.save()
    response = client.get(HOME_URL)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == LOGIN_URL
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.get(details__event="session_ended")
    assert event.actor == worker and event.details["reason"] == "absolute_lifetime"


def test_an_expired_session_on_the_api_answers_json(client, demo_mode, worker):
    from streha.accounts import sessions

    client.force_login(worker)
    session = client.session
    session[sessions.SIGNED_IN_AT] = 0
    session.save()
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"


# --- Lock-out that cannot be turned against staff (issue 10, point 8) ----------------------------

OFFICE = "10.1.1.1"
ATTACKER = "203.0.113.9"


def sign_in_from(address, username, password):
    return Client(REMOTE_ADDR=address).post(LOGIN_URL, {"login": username, "password": password})


def test_failures_from_elsewhere_do_not_lock_a_colleague_out(demo_mode, settings, worker):
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        sign_in_from(ATTACKER, "ana.worker", WRONG_PASSWORD)
    assert sign_in_from(ATTACKER, "ana.worker", TEST_PASSWORD).status_code == 429
    office = Client(REMOTE_ADDR=OFFICE)
    response = office.post(LOGIN_URL, {"login": "ana.worker", "password": TEST_PASSWORD})
    assert response.status_code == 302 and signed_in_user_id(office) == worker.pk


def test_an_address_guessing_many_usernames_is_locked(demo_mode, settings, worker, other_worker):
    settings.STREHA_LOCKOUT_ADDRESS_FAILURES = 6
    for number in range(6):
        sign_in_from(ATTACKER, f"guess{number}", WRONG_PASSWORD)
    # Even a right password from there is refused; the office is not affected.
    assert sign_in_from(ATTACKER, "besa.worker", TEST_PASSWORD).status_code == 429
    assert sign_in_from(OFFICE, "besa.worker", TEST_PASSWORD).status_code == 302


def test_a_user_attacked_from_many_addresses_still_signs_in_from_a_known_one(
    demo_mode, settings, worker
):
    assert sign_in_from(OFFICE, "ana.worker", TEST_PASSWORD).status_code == 302  # known
    settings.STREHA_LOCKOUT_USER_FAILURES = 6
    for number in range(6):
        sign_in_from(f"198.51.100.{number}", "ana.worker", WRONG_PASSWORD)
    assert sign_in_from("198.51.100.77", "ana.worker", TEST_PASSWORD).status_code == 429
    assert sign_in_from(OFFICE, "ana.worker", TEST_PASSWORD).status_code == 302


def test_password_spraying_closes_sign_in_to_unknown_addresses_only(
    demo_mode, settings, worker, other_worker
):
    assert sign_in_from(OFFICE, "besa.worker", TEST_PASSWORD).status_code == 302  # known
    settings.STREHA_LOCKOUT_GLOBAL_FAILURES = 8
    settings.STREHA_LOCKOUT_ADDRESS_FAILURES = 100
    for number in range(8):
        sign_in_from(f"198.51.100.{number}", f"staff{number}", WRONG_PASSWORD)
    assert sign_in_from("192.0.2.50", "ana.worker", TEST_PASSWORD).status_code == 429
    # Staff at an address someone signed in from keep working, ana included.
    assert sign_in_from(OFFICE, "ana.worker", TEST_PASSWORD).status_code == 302
