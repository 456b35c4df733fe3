"""One rule for the page number a request asks for (``streha.web.paging``): a page far past any
list is its last page (or, in the API, a 400 saying why), never a LIMIT or OFFSET that
overflows the database's integers (``?page=10723151780598845931`` was a 500)."""

import pytest

from streha.accounts.models import AgencyKind, Role
from streha.testing.factories import AgencyFactory, PersonFactory
from streha.web.paging import MAX_PAGE, page_number

HUGE = "10723151780598845931"  # above 2**63


@pytest.mark.parametrize(
    ("asked", "expected"),
    [(None, 1), ("", 1), ("x", 1), ("0", 1), ("-3", 1), ("7", 7), (12, 12), (HUGE, MAX_PAGE)],
)
def test_the_page_asked_for(asked, expected):
    assert page_number(asked) == expected


def test_a_list_may_have_its_own_last_page():
    assert page_number(HUGE, last=40) == 40 and page_number("39", last=40) == 39


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "kind", "url"),
    [
        (Role.CASE_WORKER, AgencyKind.SHELTER, "/persons/"),
        (Role.CASE_WORKER, AgencyKind.SHELTER, "/cases/"),
        (Role.CASE_WORKER, AgencyKind.SHELTER, "/cases/tasks/"),
        (Role.PROSECUTOR, AgencyKind.PROSECUTION, "/justice/"),
    ],
)
def test_a_page_far_past_the_list_is_its_last(client, make_user, role, kind, url):
    user = make_user(role, agency=AgencyFactory(kind=kind))
    PersonFactory(owner_agency=user.agency)
    client.force_login(user)
    for page in (HUGE, f"-{HUGE}", str(MAX_PAGE)):
        assert client.get(f"{url}?page={page}").status_code == 200, (url, page)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/persons/", "/api/v1/cases/"])
def test_the_api_refuses_a_page_past_any_list(api_client, make_user, url):
    user = make_user(Role.CASE_WORKER, agency=AgencyFactory(kind=AgencyKind.SHELTER))
    api_client.force_authenticate(user)
    answer = api_client.get(f"{url}?page={HUGE}")
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["page"]
    assert api_client.get(f"{url}?page={MAX_PAGE}").status_code == 200
