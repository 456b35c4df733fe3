"""Appending from several connections at once: one unbroken chain, no position used twice.

Transactional tests: each thread has its own database connection and really commits. Their
teardown also exercises the ``flush`` override (the triggers would refuse a plain flush).
"""

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection, transaction

from streha.audit import services, triggers
from streha.audit.models import Action, AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target):
    errors = []

    def run():
        try:
            target()
        except Exception as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_concurrent_appends_form_one_chain():
    threads, per_thread = 4, 15

    def append(number):
        def run():
            for index in range(per_thread):
                with transaction.atomic():
                    services.record(None, Action.READ, details={"thread": number, "i": index})

        return run

    started = [in_thread(append(number)) for number in range(threads)]
    for thread, errors in started:
        thread.join(timeout=60)
        assert not errors, errors
    total = threads * per_thread
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    assert services.verify_chain().checked == total


def test_the_chain_stays_locked_until_the_recording_transaction_commits():
    services.record(None, Action.READ)  # the head exists before the race starts
    recorded, finished = threading.Event(), {}

    def slow_writer():
        with transaction.atomic():
            services.record(None, Action.READ, details={"who": "slow"})
            recorded.set()
            time.sleep(0.5)  # the rest of a request, still inside its transaction
            finished["slow"] = time.monotonic()

    def second_writer():
        recorded.wait(10)
        with transaction.atomic():
            event = services.record(None, Action.READ, details={"who": "second"})
        finished["second"] = time.monotonic()
        finished["second_seq"] = event.seq

    slow, slow_errors = in_thread(slow_writer)
    second, second_errors = in_thread(second_writer)
    slow.join(30)
    second.join(30)
    assert not slow_errors and not second_errors, (slow_errors, second_errors)
    assert finished["second"] >= finished["slow"]  # waited for the first to commit
    assert finished["second_seq"] == 3
    assert services.verify_chain().ok


def test_flush_empties_the_log_and_keeps_the_triggers():
    for _ in range(3):
        services.record(None, Action.READ)
    call_command("flush", interactive=False, stdout=StringIO())
    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.exists()
    assert triggers.installed(connection) == triggers.expected(connection)
    # A wiped database starts a fresh chain.
    assert services.record(None, Action.READ).seq == 1
    assert services.verify_chain().ok


def test_djangos_own_flush_is_refused_by_the_triggers():
    """Why ``streha/audit/management/commands/flush.py`` exists."""
    from django.core.management import CommandError
    from django.core.management.commands.flush import Command as DjangoFlush

    services.record(None, Action.READ)
    with pytest.raises(CommandError):
        call_command(DjangoFlush(), interactive=False, stdout=StringIO())
    assert AuditEvent.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's transactions here begin IMMEDIATE: a second writer cannot commit in between",
)
def test_a_head_created_by_another_appender_in_between_is_locked_not_refused(monkeypatch):
    """The race CI met on PostgreSQL, made deterministic.

    In a wiped database the first appenders all find no head. One of them creates the head and
    commits its first event while another is between missing the head and deciding what to do:
    that one must chain after it, never report a removed head.
    """
    call_command("flush", interactive=False, stdout=StringIO())
    assert not AuditChainHead.objects.exists()
    queryset_class = type(AuditChainHead.objects.all())
    real_get = queryset_class.get
    this_thread = threading.get_ident()
    other_committed = []

    def get_then_let_another_appender_commit(self, *args, **kwargs):
        try:
            return real_get(self, *args, **kwargs)
        except AuditChainHead.DoesNotExist:
            if threading.get_ident() == this_thread and not other_committed:
                # Our lookup missed; before we go on, another connection appends and commits.
                other, errors = in_thread(lambda: services.record(None, Action.READ))
                other.join(30)
                assert not errors, errors
                other_committed.append(True)
            raise

    monkeypatch.setattr(queryset_class, "get", get_then_let_another_appender_commit)
    with transaction.atomic():
        event = services.record(None, Action.READ, details={"who": "second"})
    assert other_committed
    assert event.seq == 2
    assert services.verify_chain().ok
