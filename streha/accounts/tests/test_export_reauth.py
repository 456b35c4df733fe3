"""Issue 10: every export asks for a fresh password and second factor, as break-glass does.

A session signed in hours ago (a colleague's unlocked screen) must not carry a person's record,
a work list or a table of figures out of the system. The HTML paths are also tried in the tests
of their apps (people, imports, statistics); here each path is tried once more, and the API's
paths with a session and with a token. Tokens never export: no person stands behind a machine
client to confirm it (README, "Exports").
"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from streha.accounts import services
from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.testing.auth import pass_second_factor, reauthenticate
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(make_user, agency):
    return make_user(Role.SUPERVISOR, agency=agency, username="export.supervisor")


@pytest.fixture
def analyst(make_user):
    coordinator = AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR, code="ncoord")
    return make_user(Role.ANALYST, agency=coordinator, username="export.analyst")


def exports_of(person=None):
    events = AuditEvent.objects.filter(action="export")
    return events.filter(object_id=str(person.public_id)) if person else events


def signed_in(client, user):
    client.force_login(user)
    pass_second_factor(client, user)
    return client


def test_html_exports_send_a_stale_session_to_reauthenticate(client, supervisor, agency, analyst):
    person = PersonFactory(owner_agency=agency)
    signed_in(client, supervisor)
    stale = [
        client.post(reverse("people:export", args=[person.public_id])),
        client.post(reverse("imports:export"), {"work_list": "cases", "format": "csv"}),
        client.get(reverse("imports:export_download", args=[person.public_id])),
    ]
    signed_in(client, analyst)
    stale.append(client.get(reverse("statistics:table", args=["T02"]), {"format": "csv"}))
    for response in stale:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_reauthenticate"))
    assert not exports_of().exists()
    # The pages themselves still show without it.
    assert client.get(reverse("statistics:table", args=["T02"])).status_code == 200


def test_the_api_person_export_needs_a_fresh_sign_in(supervisor, agency):
    person = PersonFactory(owner_agency=agency)
    url = f"/api/v1/persons/{person.public_id}/export/?reason=code:data_subject"
    api = signed_in(APIClient(), supervisor)
    refused = api.get(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reauthentication_required"
    assert not exports_of(person).exists()
    reauthenticate(api, supervisor)
    assert api.get(url).status_code == 200
    assert exports_of(person).count() == 1


@pytest.mark.parametrize(
    "role,path",
    [
        (Role.SUPERVISOR, "/api/v1/persons/{person}/export/?reason=code:data_subject"),
        (Role.ANALYST, "/api/v1/pseudonymised-persons/"),
    ],
)
def test_a_token_never_exports(make_user, agency, role, path):
    admin = make_user(Role.AGENCY_ADMIN, agency=agency, username="export.admin")
    machine = make_user(role, agency=agency, username="export.client", is_service_account=True)
    _token, secret = services.issue_api_token(admin, user=machine, name="export")
    person = PersonFactory(owner_agency=agency)
    response = APIClient().get(
        path.format(person=person.public_id), HTTP_AUTHORIZATION=f"Token {secret}"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "reauthentication_required"
    assert not exports_of().exists()
