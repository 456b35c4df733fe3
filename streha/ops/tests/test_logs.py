"""Logs are JSON lines with the request id, and never carry a protected value.

The representative run below signs in staff of several roles and goes through the pages and API
calls that handle protected data (lists, records, searches by name, forms with good and bad input,
notes, the tip line, audit pages, a failed sign-in, a crash and a database outage), with every
logger at DEBUG, and searches every formatted line for the demo identities and for values typed
into the requests.
"""

import json
import logging
import sys

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from streha.accounts.models import User
from streha.cases.models import Case
from streha.ops.logs import JsonFormatter
from streha.people.models import Person
from streha.protection.fields import ProtectedFieldMixin
from streha.tips import abuse
from streha.tips.models import Tip
from streha.web.logging import RequestIdFilter

# Values typed into the requests below: none may reach a log line.
TYPED = {
    "given_name": "Zyrafete",
    "family_name": "Qorrolli-Logtest",
    "personal_number": "9911223344",
    "passport_number": "RS7712398",
    "phone": "+383 49 771 902",
    "address": "Rruga Dardania Logtest 77",
    "narrative": "Kept in the cellar of the Logtest bakery",
}


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def capture():
    handler = Capture()
    loggers = [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)
    for logger, level in levels.items():
        logger.setLevel(level)


def test_json_lines_carry_the_request_id_and_no_exception_message():
    try:
        raise ValueError("Zyrafete Qorrolli was here")
    except ValueError:
        record = logging.LogRecord(
            "streha.x", logging.ERROR, __file__, 1, "failed %s", ("case 12",), sys.exc_info()
        )
    record.request_id = "abc123def456"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed case 12"
    assert line["request_id"] == "abc123def456"
    assert line["level"] == "ERROR" and line["logger"] == "streha.x"
    assert line["exception"] == "builtins.ValueError"
    assert any("test_logs.py" in frame for frame in line["stack"])
    assert "Zyrafete" not in json.dumps(line)


def protected_values() -> set[str]:
    """Every protected value stored (long enough to be unmistakable), and persons' full names."""
    values = set()
    for model in apps.get_models():
        fields = [f.name for f in model._meta.fields if isinstance(f, ProtectedFieldMixin)]
        if not fields:
            continue
        for row in model.objects.all().order_by("pk")[:200]:
            for name in fields:
                value = getattr(row, name)
                if isinstance(value, bytes) or value in (None, ""):
                    continue
                text = str(value)
                if len(text) >= 6:
                    values.add(text)
    for person in Person.objects.order_by("pk"):
        values.add(f"{person.given_name} {person.family_name}")
    return values


def signed_in(username: str) -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.django_db
def test_no_log_line_carries_a_protected_value(capture, settings, monkeypatch):
    settings.STREHA_TIP_MIN_SECONDS = 0
    settings.STREHA_TIP_NOSCRIPT_MIN_SECONDS = 0
    settings.STREHA_TIP_POW_BITS = 4
    cache.clear()
    call_command("demo", persons=30, seed=5, verbosity=0)
    investigator = signed_in("investigator")
    person = Person.objects.filter(owner_agency__code="police-thb").order_by("pk").first()
    case = Case.objects.filter(owner_agency__code="police-thb").order_by("pk").first()
    full_name = f"{person.given_name} {person.family_name}"
    statuses = []

    def call(client, method, path, data=None, **extra):
        response = getattr(client, method)(path, data or {}, **extra)
        statuses.append((path, response.status_code))
        return response

    for path in ("/", "/persons/", "/cases/", "/cases/referrals/", "/cases/tasks/"):
        call(investigator, "get", path)
    call(investigator, "get", f"/persons/{person.public_id}/")
    call(investigator, "get", f"/persons/{person.public_id}/edit/")
    call(investigator, "post", "/persons/", {"q": full_name})
    call(investigator, "post", "/cases/", {"q": full_name})
    call(investigator, "post", "/persons/", {"q": TYPED["personal_number"]})
    call(investigator, "post", "/persons/new/", {**TYPED, "gender": "unknown"})
    call(investigator, "post", "/persons/new/", {**TYPED, "date_of_birth": "not a date"})
    call(investigator, "get", f"/persons/{case.person.public_id}/")
    if case is not None:
        call(investigator, "get", f"/cases/{case.public_id}/")
        call(investigator, "post", f"/cases/{case.public_id}/note/", {"body": TYPED["narrative"]})
        call(investigator, "get", f"/api/v1/cases/{case.public_id}/")
    call(investigator, "get", "/api/v1/persons/")
    call(investigator, "get", f"/api/v1/persons/{person.public_id}/")
    call(investigator, "post", "/api/v1/persons/", TYPED, content_type="application/json")
    bad = {**TYPED, "date_of_birth": "yesterday", "given_name": TYPED["given_name"] * 40}
    call(investigator, "post", "/api/v1/persons/", bad, content_type="application/json")

    hotline = signed_in("hotline")
    call(hotline, "get", "/tips/")
    tip = Tip.objects.order_by("pk").first()
    if tip is not None:
        call(hotline, "get", f"/tips/{tip.public_id}/")
    public = Client(raise_request_exception=False)
    form = public.get("/report/?lang=en").content.decode()
    token = form.split('name="token" value="')[1].split('"')[0]
    challenge = form.split('data-challenge="')[1].split('"')[0]
    report = {
        "what_seen": f"{TYPED['given_name']} {TYPED['family_name']} is kept at the bakery",
        "where": TYPED["address"],
        "when": "Every night",
        "token": token,
        "nonce": abuse.solve(challenge, 4),
    }
    call(public, "post", "/report/?lang=en", report)

    auditor = signed_in("auditor")
    call(auditor, "get", "/audit/")
    call(auditor, "get", f"/audit/persons/{person.public_id}/")
    # A failed sign-in whose "username" is a name someone typed by mistake.
    call(Client(), "post", "/accounts/login/", {"login": full_name, "password": "wrong-password"})

    # A crash whose message carries a name, and a database outage.
    from streha.people import selectors as people_selectors

    def crash(*args, **kwargs):
        raise ValueError(f"cannot list {full_name}")

    monkeypatch.setattr(people_selectors, "list_persons", crash)
    assert call(investigator, "get", "/persons/").status_code == 500
    monkeypatch.undo()

    def refuse(self, *args, **kwargs):
        raise OperationalError(f"could not connect: {TYPED['personal_number']}")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    assert call(investigator, "post", "/persons/", {"q": full_name}).status_code == 503
    monkeypatch.undo()

    assert [s for _, s in statuses].count(500) == 1, statuses  # only the crash above
    assert any('"exception": "builtins.ValueError"' in line for line in capture.lines)
    secrets = protected_values() | set(TYPED.values()) | {full_name}
    assert len(secrets) > 50  # the demo identities really are in the search
    lines = capture.lines
    assert len(lines) > 5
    for line in lines:
        entry = json.loads(line)
        assert set(entry) >= {"time", "level", "logger", "request_id", "message"}
        for secret in secrets:
            assert secret not in line, f"a protected value reached the log: {entry['logger']}"
