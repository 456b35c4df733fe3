"""Issue 10: every audit event made in a token-authenticated request names the token and the
method, so a machine client's reads are never mistaken for a person's, and an auditor can tell
which of an account's tokens read what."""

import pytest
from rest_framework.test import APIClient

from streha.accounts import services
from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_every_event_of_a_token_request_names_the_token(make_user, agency):
    admin = make_user(Role.AGENCY_ADMIN, agency=agency, username="token.admin")
    machine = make_user(Role.CASE_WORKER, agency=agency, username="etl", is_service_account=True)
    token, secret = services.issue_api_token(admin, user=machine, name="etl")
    PersonFactory(owner_agency=agency, reference="T-TOKEN-1")
    PersonFactory(owner_agency=agency, reference="T-TOKEN-2")
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    response = APIClient().get("/api/v1/persons/", HTTP_AUTHORIZATION=f"Token {secret}")

    assert response.status_code == 200
    events = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert [event.action for event in events] == ["list"]
    for event in events:
        assert event.actor == machine
        assert event.details["method"] == "token"
        assert event.details["token_id"] == token.pk


def test_a_session_request_carries_no_token(client, make_user, agency):
    from streha.testing.auth import pass_second_factor

    worker = make_user(Role.CASE_WORKER, agency=agency, username="desk.worker")
    PersonFactory(owner_agency=agency, reference="T-TOKEN-3")
    client.force_login(worker)
    pass_second_factor(client, worker)
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    assert client.get("/api/v1/persons/").status_code == 200
    event = AuditEvent.objects.filter(seq__gt=before, action="list").get()
    assert "token_id" not in event.details
