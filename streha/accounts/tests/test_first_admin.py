"""The first system administrator comes from the server's command line, once."""

import pytest
from django.core.management import CommandError, call_command

from streha.accounts.models import Role, User
from streha.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_first_admin_takes_effect_and_is_audited(agency):
    call_command(
        "accounts", "first-admin", agency=agency.code, username="root", email="r@example.invalid"
    )
    root = User.objects.get(username="root")
    assert root.roles == {Role.SYSTEM_ADMIN} and not root.has_usable_password()
    event = AuditEvent.objects.get(details__event="role_granted")
    assert event.actor is None and event.details["method"] == "system"


def test_only_while_there_is_none(agency, make_user):
    make_user(Role.SYSTEM_ADMIN, agency=agency)
    with pytest.raises(CommandError, match="A system administrator exists"):
        call_command(
            "accounts", "first-admin", agency=agency.code, username="x", email="x@example.invalid"
        )
    assert not User.objects.filter(username="x").exists()


def test_unknown_agency_and_bad_input_are_refused(agency):
    with pytest.raises(CommandError, match="No agency"):
        call_command(
            "accounts", "first-admin", agency="nope", username="x", email="x@example.invalid"
        )
    with pytest.raises(CommandError):
        call_command("accounts", "first-admin", agency=agency.code, username="x", email="bad")
    assert not User.objects.filter(username="x").exists()
