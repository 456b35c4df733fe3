"""Settings from the environment: the parsing rules in ``streha.conf`` and what
``STREHA_ENV=production`` does to a real process (required secrets, secure defaults, a clean
``check --deploy``, no demo data)."""

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from streha.conf import env, env_bool, env_int, env_list, require

PROJECT_DIR = Path(__file__).resolve().parents[3]
MANAGE = str(PROJECT_DIR / "manage.py")
HOST = "streha.example.org"


def random_secret_key(length=64):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def production_env(tmp_path, **overrides):
    """A clean environment: none of the caller's STREHA_*, DJANGO_* (the suite's conftest sets
    DJANGO_ALLOW_ASYNC_UNSAFE for Playwright) or DATABASE_URL leak in, and anything the process
    might write goes under tmp_path, never into the developer's database."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STREHA_", "DJANGO_")) and key != "DATABASE_URL"
    }
    environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "streha.settings",
            "STREHA_ENV": "production",
            "STREHA_VAR_DIR": str(tmp_path),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for key, value in overrides.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


def complete_production_env(tmp_path, **overrides):
    values = {"STREHA_SECRET_KEY": random_secret_key(), "STREHA_ALLOWED_HOSTS": HOST}
    values.update(overrides)
    return production_env(tmp_path, **values)


def run(args, environ):
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py, no shell
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(environ, *args):
    return run([MANAGE, *args], environ)


# --- Required settings in production -------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage(production_env(tmp_path, STREHA_ALLOWED_HOSTS=HOST), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "STREHA_SECRET_KEY" in result.stderr


def test_production_refuses_a_blank_secret_key(tmp_path):
    environ = production_env(tmp_path, STREHA_SECRET_KEY="   ", STREHA_ALLOWED_HOSTS=HOST)
    result = manage(environ, "check")
    assert result.returncode != 0
    assert "STREHA_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    environ = production_env(tmp_path, STREHA_SECRET_KEY=random_secret_key())
    result = manage(environ, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "STREHA_ALLOWED_HOSTS" in result.stderr


def test_production_check_deploy_is_clean(tmp_path):
    environ = complete_production_env(tmp_path)
    result = manage(environ, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "ERRORS" not in result.stdout + result.stderr


PRINT_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'DEBUG': s.DEBUG, 'DEMO_MODE': s.DEMO_MODE, 'ALLOWED_HOSTS': s.ALLOWED_HOSTS, "
    "'SESSION_COOKIE_SECURE': s.SESSION_COOKIE_SECURE, "
    "'CSRF_COOKIE_SECURE': s.CSRF_COOKIE_SECURE, 'SECURE_SSL_REDIRECT': s.SECURE_SSL_REDIRECT, "
    "'SECURE_HSTS_SECONDS': s.SECURE_HSTS_SECONDS, "
    "'SESSION_COOKIE_AGE': s.SESSION_COOKIE_AGE, "
    "'SESSION_SAVE_EVERY_REQUEST': s.SESSION_SAVE_EVERY_REQUEST, "
    "'AXES_FAILURE_LIMIT': s.AXES_FAILURE_LIMIT, "
    "'PASSWORD_HASHERS': s.PASSWORD_HASHERS}))"
)


def printed_settings(environ):
    result = manage(environ, "shell", "-v", "0", "-c", PRINT_SETTINGS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_are_secure(tmp_path):
    values = printed_settings(complete_production_env(tmp_path))
    assert values["DEBUG"] is False
    assert values["DEMO_MODE"] is False
    assert values["ALLOWED_HOSTS"] == [HOST]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] > 0
    assert values["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_demo_mode_cannot_be_switched_on_in_production(tmp_path):
    values = printed_settings(complete_production_env(tmp_path, STREHA_DEMO_MODE="1"))
    assert values["DEMO_MODE"] is False


def test_idle_timeout_and_lockout_come_from_the_environment(tmp_path):
    environ = complete_production_env(
        tmp_path, STREHA_SESSION_IDLE_MINUTES="7", STREHA_LOCKOUT_FAILURES="3"
    )
    values = printed_settings(environ)
    assert values["SESSION_COOKIE_AGE"] == 7 * 60
    assert values["SESSION_SAVE_EVERY_REQUEST"] is False  # renewed once a minute instead
    assert values["AXES_FAILURE_LIMIT"] == 3


def test_garbage_boolean_stops_production_start(tmp_path):
    result = manage(complete_production_env(tmp_path, STREHA_SSL_REDIRECT="maybe"), "check")
    assert result.returncode != 0
    assert "STREHA_SSL_REDIRECT" in result.stderr


def test_streha_demo_refuses_to_run_in_production(tmp_path):
    result = run(["-m", "streha.cli", "demo", "--persons", "1"], complete_production_env(tmp_path))
    assert result.returncode != 0
    assert "demo mode" in result.stderr
    assert "Demo data (seed" not in result.stdout


# --- streha.conf parsing rules ------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", "TRUE", "yes", "Yes", "on", "ON", " true "])
def test_env_bool_true_variants(monkeypatch, raw):
    monkeypatch.setenv("STREHA_TEST_FLAG", raw)
    assert env_bool("STREHA_TEST_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "NO", "off", "Off", "", "  "])
def test_env_bool_false_variants(monkeypatch, raw):
    monkeypatch.setenv("STREHA_TEST_FLAG", raw)
    assert env_bool("STREHA_TEST_FLAG", True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_default_when_unset(monkeypatch, default):
    monkeypatch.delenv("STREHA_TEST_FLAG", raising=False)
    assert env_bool("STREHA_TEST_FLAG", default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "n", "truee", "enabled", "-1"])
def test_env_bool_rejects_garbage(monkeypatch, raw):
    monkeypatch.setenv("STREHA_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="STREHA_TEST_FLAG"):
        env_bool("STREHA_TEST_FLAG", True)


def test_env_int(monkeypatch):
    monkeypatch.delenv("STREHA_TEST_NUMBER", raising=False)
    assert env_int("STREHA_TEST_NUMBER", 30) == 30
    monkeypatch.setenv("STREHA_TEST_NUMBER", "")
    assert env_int("STREHA_TEST_NUMBER", 30) == 30
    monkeypatch.setenv("STREHA_TEST_NUMBER", "  ")
    assert env_int("STREHA_TEST_NUMBER", 30) == 30
    monkeypatch.setenv("STREHA_TEST_NUMBER", "45")
    assert env_int("STREHA_TEST_NUMBER", 30) == 45
    monkeypatch.setenv("STREHA_TEST_NUMBER", " 12 ")
    assert env_int("STREHA_TEST_NUMBER", 30) == 12
    monkeypatch.setenv("STREHA_TEST_NUMBER", "0")
    assert env_int("STREHA_TEST_NUMBER", 30) == 0


@pytest.mark.parametrize("raw", ["thirty", "1.5", "10m", "0x10"])
def test_env_int_rejects_garbage(monkeypatch, raw):
    monkeypatch.setenv("STREHA_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="STREHA_TEST_NUMBER"):
        env_int("STREHA_TEST_NUMBER", 30)


def test_env_list(monkeypatch):
    monkeypatch.delenv("STREHA_TEST_LIST", raising=False)
    assert env_list("STREHA_TEST_LIST") == []
    monkeypatch.setenv("STREHA_TEST_LIST", "")
    assert env_list("STREHA_TEST_LIST") == []
    monkeypatch.setenv("STREHA_TEST_LIST", "a.example.org")
    assert env_list("STREHA_TEST_LIST") == ["a.example.org"]
    monkeypatch.setenv("STREHA_TEST_LIST", " a.example.org , b.example.org,,c ,")
    assert env_list("STREHA_TEST_LIST") == ["a.example.org", "b.example.org", "c"]
    monkeypatch.setenv("STREHA_TEST_LIST", " , ,")
    assert env_list("STREHA_TEST_LIST") == []


def test_env_and_require(monkeypatch):
    monkeypatch.delenv("STREHA_TEST_VALUE", raising=False)
    assert env("STREHA_TEST_VALUE", "fallback") == "fallback"
    with pytest.raises(ImproperlyConfigured, match="STREHA_TEST_VALUE"):
        require("STREHA_TEST_VALUE")
    monkeypatch.setenv("STREHA_TEST_VALUE", "   ")
    with pytest.raises(ImproperlyConfigured, match="STREHA_TEST_VALUE"):
        require("STREHA_TEST_VALUE")
    monkeypatch.setenv("STREHA_TEST_VALUE", " value ")
    assert require("STREHA_TEST_VALUE") == "value"
    assert env("STREHA_TEST_VALUE", "fallback") == " value "


# --- Configuration that fails closed (issue 10, point 7) ----------------------------------------


@pytest.mark.parametrize("value", ["prod", "Production", "staging", "PRODUCTION ", ""])
def test_an_unknown_environment_refuses_to_start(tmp_path, value):
    """ "prod" used to mean development: debug pages with decrypted locals, no second factor."""
    result = manage(complete_production_env(tmp_path, STREHA_ENV=value), "check")
    assert result.returncode != 0
    assert "STREHA_ENV must be one of development, test, production" in result.stderr


@pytest.mark.parametrize("value", ["development", "test"])
def test_the_known_non_production_environments_start(tmp_path, value):
    environ = production_env(tmp_path, STREHA_ENV=value)
    assert manage(environ, "check").returncode == 0


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    ],
)
def test_production_refuses_an_email_backend_that_is_not_real(tmp_path, backend):
    """Invitation and reset links are credentials: they must not land in the logs."""
    result = manage(complete_production_env(tmp_path, STREHA_EMAIL_BACKEND=backend), "check")
    assert result.returncode != 0
    assert "STREHA_EMAIL_BACKEND must be a real mail backend" in result.stderr


@pytest.mark.parametrize("cache", ["locmem", "memory", "dummy"])
def test_production_refuses_a_cache_that_is_not_shared(tmp_path, cache):
    """Used second-factor codes live in the cache: per-process caches let a code be replayed
    on another worker."""
    result = manage(complete_production_env(tmp_path, STREHA_CACHE=cache), "check")
    assert result.returncode != 0
    assert "STREHA_CACHE" in result.stderr


PRINT_SECURITY = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'EMAIL_BACKEND': s.EMAIL_BACKEND, 'CACHE': s.CACHES['default']['BACKEND'], "
    "'ADMIN': s.STREHA_ADMIN_ENABLED, 'MAX_HOURS': s.STREHA_SESSION_MAX_HOURS, "
    "'LOCKOUT': s.AXES_LOCKOUT_PARAMETERS}))"
)


def printed_security(environ):
    result = manage(environ, "shell", "-v", "0", "-c", PRINT_SECURITY)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults_are_real_mail_a_shared_cache_and_no_admin(tmp_path):
    values = printed_security(complete_production_env(tmp_path))
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["CACHE"] == "django.core.cache.backends.db.DatabaseCache"
    assert values["ADMIN"] is False
    assert values["MAX_HOURS"] == 10
    assert values["LOCKOUT"] == [["username", "ip_address"]]
    enabled = printed_security(complete_production_env(tmp_path, STREHA_ADMIN_ENABLED="1"))
    assert enabled["ADMIN"] is True


def test_migrate_creates_the_database_cache_table(tmp_path):
    environ = production_env(tmp_path, STREHA_ENV="development", STREHA_CACHE="database")
    assert manage(environ, "migrate", "-v", "0").returncode == 0
    probe = "from django.core.cache import cache; cache.set('probe', 7); print(cache.get('probe'))"
    result = manage(environ, "shell", "-v", "0", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "7"
