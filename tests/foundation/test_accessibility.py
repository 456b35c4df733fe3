"""Accessibility basics on every main page: language, one main heading, labelled controls."""

from html.parser import HTMLParser

import pytest

from streha.accounts.models import AgencyKind, Role
from streha.testing.factories import AgencyFactory, PersonFactory


class PageAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1 = 0
        self.labels: set[str] = set()
        self.controls: list[dict] = []
        self.images_without_alt = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and attributes.get("for"):
            self.labels.add(attributes["for"])
        elif tag in {"input", "select", "textarea"}:
            if attributes.get("type") not in {"hidden", "submit", "button"}:
                self.controls.append(attributes)
        elif tag == "img" and "alt" not in attributes:
            self.images_without_alt += 1

    def unlabelled(self) -> list[str]:
        return [
            control.get("name", "?")
            for control in self.controls
            if control.get("id") not in self.labels
            and not control.get("aria-label")
            and not control.get("aria-labelledby")
        ]


PAGES = [
    "/",
    "/persons/",
    "/persons/new/",
    "/persons/break-glass/",
    "/agencies/",
    "/staff/",
    "/staff/new/",
    "/api-tokens/",
    "/security/",
    "/audit/",
    "/audit/break-glass/",
    "/accounts/password/change/",
]


@pytest.mark.django_db
def test_signed_in_pages(client, make_user):
    agency = AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)
    user = make_user(Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.AUDITOR, agency=agency)
    person = PersonFactory(owner_agency=agency)
    client.force_login(user)
    for path in [*PAGES, f"/persons/{person.public_id}/", f"/persons/{person.public_id}/edit/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        audit = PageAudit()
        audit.feed(response.content.decode())
        assert audit.lang in {"sq", "sr-latn", "en"}, path
        assert audit.h1 == 1, f"{path}: {audit.h1} main headings"
        assert audit.unlabelled() == [], f"{path}: unlabelled {audit.unlabelled()}"
        assert audit.images_without_alt == 0, path


@pytest.mark.django_db
def test_sign_in_page(client):
    audit = PageAudit()
    audit.feed(client.get("/accounts/login/").content.decode())
    assert audit.lang and audit.h1 == 1 and audit.unlabelled() == []
