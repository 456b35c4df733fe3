"""``streha audit verify`` / ``streha audit head``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_verify_reports_an_intact_chain(chain_of):
    chain_of(30)
    assert run("verify") == (
        0,
        "Audit chain intact: 30 events.\n"
        "No signed checkpoint yet: run `streha audit checkpoint`.\n",
        "",
    )


def test_verify_of_an_empty_log(db):
    assert run("verify", "--no-checkpoints")[:2] == (0, "Audit chain intact: 0 events.\n")


def test_verify_exits_1_naming_the_broken_event(chain_of, raw_sql):
    chain_of(10)
    raw_sql("DELETE FROM audit_event WHERE seq = 4")
    code, out, err = run("verify", "--batch-size", "3")
    assert (code, out) == (1, "")
    assert err == "Audit chain broken at event #5: event 4 missing\n"


def test_head_prints_an_anchor_that_verify_checks(chain_of, raw_sql):
    events = chain_of(5)
    code, out, _err = run("head")
    assert (code, out) == (0, f"5:{events[-1].hash}\n")
    assert run("verify", "--anchor", out.strip())[0] == 0
    assert run("verify", "--anchor", "5:" + "0" * 64)[0] == 1
    assert run("verify", "--anchor", "6:" + events[-1].hash)[0] == 1


def test_head_of_an_empty_log_is_an_error(db):
    with pytest.raises(CommandError):
        run("head")


def test_a_malformed_anchor_is_a_usage_error(chain_of):
    chain_of(1)
    with pytest.raises(CommandError):
        run("verify", "--anchor", "five:abc")
