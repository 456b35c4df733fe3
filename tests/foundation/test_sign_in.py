"""Sign-in as a government system does it: Argon2, lock-out, TOTP, idle timeout, reset by mail."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone

from streha import settings as configured
from streha.accounts.models import Role
from streha.testing.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def sign_in(client, username, password=TEST_PASSWORD):
    return client.post("/accounts/login/", {"login": username, "password": password})


@pytest.fixture
def worker(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency, username="ana.worker")


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(settings, make_user):
    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS
    user = make_user(Role.CASE_WORKER)
    user.set_password("Another-Long-Password-1")
    assert user.password.startswith("argon2")


@pytest.mark.django_db
def test_sign_in_and_closed_sign_up(client, worker):
    assert sign_in(client, "ana.worker", "wrong-password").status_code == 200
    assert "_auth_user_id" not in client.session
    response = sign_in(client, "ana.worker")
    assert response.status_code == 302 and response["Location"] == "/"
    client.logout()
    client.post(
        "/accounts/signup/",
        {
            "username": "intruder",
            "email": "i@example.invalid",
            "password1": "Very-Long-Pass-123",
            "password2": "Very-Long-Pass-123",
        },
    )
    from streha.accounts.models import User

    assert not User.objects.filter(username="intruder").exists()


@pytest.mark.django_db
def test_lock_out_after_repeated_failures(client, worker, make_user, agency):
    other = make_user(Role.CASE_WORKER, agency=agency, username="other.worker")
    for _ in range(5):
        sign_in(client, "ana.worker", "wrong-password")
    locked = sign_in(client, "ana.worker")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert sign_in(client, other.username).status_code == 302  # only that account is locked


@pytest.mark.django_db
def test_idle_session_expires(client, worker):
    # Activity renews the session once a minute (streha.web.middleware.SessionRenewalMiddleware).
    assert configured.SESSION_SAVE_EVERY_REQUEST is False
    assert "streha.web.middleware.SessionRenewalMiddleware" in configured.MIDDLEWARE
    assert (
        int(os.environ.get("STREHA_SESSION_IDLE_MINUTES", 30)) * 60 == configured.SESSION_COOKIE_AGE
    )
    sign_in(client, "ana.worker")
    assert client.get("/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_password_reset_by_email(client, worker):
    response = client.post("/accounts/password/reset/", {"email": worker.email})
    assert response.status_code == 302 and len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[0].body).group(0)
    form = client.get(link.split("testserver", 1)[1], follow=True)
    assert form.status_code == 200
    new = "A-Brand-New-Password-42"
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"password1": new, "password2": new},
    )
    assert done.status_code == 302
    client.logout()
    assert sign_in(client, "ana.worker", new).status_code == 302
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.invalid"})
    assert unknown.status_code == response.status_code  # no hint whether the address exists


@pytest.mark.django_db
def test_two_factor_is_required_outside_demo_mode(client, settings, worker):
    settings.DEMO_MODE = False
    sign_in(client, "ana.worker")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
    api = client.get("/api/v1/users/me/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "two_factor_required"

    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200 and "data:image/svg+xml" in page.content.decode()  # QR code
    secret = client.session[totp.SECRET_SESSION_KEY]
    code = totp.format_hotp_value(
        totp.hotp_value(secret, next(totp.yield_hotp_counters_from_time()))
    )
    activated = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=worker, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(
        user=worker, type=Authenticator.Type.RECOVERY_CODES
    ).exists()
    assert client.get("/").status_code == 200

    client.logout()
    second = sign_in(client, "ana.worker")
    assert second["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/").status_code == 302  # not signed in until the code is given


@pytest.mark.django_db
def test_demo_mode_does_not_force_enrolment(client, settings, worker):
    settings.DEMO_MODE = True
    sign_in(client, "ana.worker")
    assert client.get("/").status_code == 200


def run_manage(*args, **env):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("STREHA_")}
    for variable in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"):
        environment.pop(variable, None)
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path, **overrides):
    env = {
        "STREHA_ENV": "production",
        "STREHA_SECRET_KEY": secrets.token_urlsafe(60),
        "STREHA_ALLOWED_HOSTS": "streha.example.org",
        "STREHA_VAR_DIR": str(tmp_path),
        "STREHA_MASTER_KEY_FILE": str(tmp_path / "keys.json"),
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def test_production_requires_its_secrets(tmp_path):
    missing_key = run_manage("check", **production_env(tmp_path, STREHA_SECRET_KEY=None))
    assert missing_key.returncode != 0 and "STREHA_SECRET_KEY" in missing_key.stderr
    missing_hosts = run_manage("check", **production_env(tmp_path, STREHA_ALLOWED_HOSTS=None))
    assert missing_hosts.returncode != 0 and "STREHA_ALLOWED_HOSTS" in missing_hosts.stderr


def test_production_passes_check_deploy_and_refuses_demo(tmp_path):
    deploy = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env(tmp_path))
    assert deploy.returncode == 0, deploy.stderr
    values = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.DEMO_MODE)",
        **production_env(tmp_path),
    )
    assert values.stdout.strip().splitlines()[-1].split() == [
        "False",
        "True",
        "True",
        "True",
        "False",
    ]
    demo = run_manage("demo", "--persons", "1", **production_env(tmp_path))
    assert demo.returncode != 0 and "demo mode" in demo.stderr
