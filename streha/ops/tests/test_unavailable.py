import json
import logging

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, RequestFactory

from streha.accounts.models import Role
from streha.ops import unavailable
from streha.web.logging import RequestIdFilter


@pytest.fixture
def database_down(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    def arm():
        monkeypatch.setattr(CursorWrapper, "execute", refuse)
        monkeypatch.setattr(CursorWrapper, "executemany", refuse)

    return arm


@pytest.fixture
def staff_client(make_user, agency):
    client = Client(raise_request_exception=False)
    client.force_login(make_user(Role.CASE_WORKER, agency=agency))
    return client


@pytest.mark.django_db
def test_a_page_answers_503_with_a_clear_page_when_the_database_is_down(
    staff_client, database_down
):
    database_down()
    response = staff_client.get("/persons/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    body = response.content.decode()
    assert "Service briefly unavailable" in body
    assert "Nothing you sent in this request was stored" in body
    assert "Traceback" not in body and "OperationalError" not in body


@pytest.mark.django_db
def test_the_api_answers_503_json_when_the_database_is_down(staff_client, database_down):
    database_down()
    response = staff_client.post(
        "/api/v1/persons/", {"given_name": "X"}, content_type="application/json"
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def test_errors_raised_outside_views_become_503_too():
    """Session and sign-in middleware fail before any view; Django hands that to handler500."""
    request = RequestFactory().get("/cases/", HTTP_ACCEPT="application/json")
    for error in (OperationalError("server closed the connection"), InterfaceError("closed")):
        try:
            raise error
        except type(error):
            response = unavailable.handler_500(request)
        assert response.status_code == 503
        assert json.loads(response.content)["error"]["code"] == "service_unavailable"


@pytest.mark.django_db
def test_other_errors_stay_500(rf):
    request = rf.get("/cases/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = unavailable.handler_500(request)
    assert response.status_code == 500


@pytest.mark.django_db
def test_the_503_is_logged_with_the_request_id(staff_client, database_down, caplog):
    database_down()
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="streha.ops"):
        response = staff_client.get("/cases/")
    assert response.status_code == 503
    (record,) = [r for r in caplog.records if r.name == "streha.ops"]
    assert record.request_id == response["X-Request-ID"]
