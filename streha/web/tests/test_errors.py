"""Domain errors answered once for the pages (streha/web/errors.py)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from streha.errors import Conflict
from streha.web.errors import page_errors, requires


def _request():
    request = RequestFactory().get("/somewhere/")
    request.user = AnonymousUser()
    return request


def test_a_refusal_is_a_404_in_pages():
    @page_errors
    def view(request):
        raise PermissionDenied("no")

    with pytest.raises(Http404):
        view(_request())


@pytest.mark.django_db
def test_a_domain_error_answers_its_status_and_message():
    @page_errors
    def view(request):
        raise Conflict("Someone else changed this.")

    response = view(_request())
    assert response.status_code == 409
    assert "Someone else changed this." in response.content.decode()


def test_requires_answers_404_to_whom_the_predicate_refuses():
    @requires(lambda user: user.is_authenticated)
    def view(request):
        return HttpResponse("ok")

    with pytest.raises(Http404):
        view(_request())
    request = _request()
    request.user = type("Signed", (), {"is_authenticated": True})()
    assert view(request).content == b"ok"
