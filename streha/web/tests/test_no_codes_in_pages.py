"""Albanian and Serbian users read their language: no enum code and no untranslated English
label reaches the text of a page. The list of what must not appear is built from the project's
enums (every ``TextChoices`` under ``streha``), so a new enum is checked without editing this."""

import re
from html.parser import HTMLParser

import pytest
from django.db import models
from django.utils import timezone, translation

from streha.accounts.models import AgencyKind, Role
from streha.cases import services
from streha.cases.models import Questionnaire
from streha.cases.questionnaires import seed
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _enums():
    found, todo = [], list(models.TextChoices.__subclasses__())
    while todo:
        enum = todo.pop()
        todo.extend(enum.__subclasses__())
        if enum.__module__.startswith("streha."):
            found.append(enum)
    return sorted(found, key=lambda e: (e.__module__, e.__qualname__))


def forbidden(language: str) -> set[str]:
    """Codes (values unlike their label) and English labels that have a translation."""
    words = set()
    with translation.override("en"):
        english = {(e, m.value): str(m.label) for e in _enums() for m in e}
    with translation.override(language):
        for (enum, value), label_en in english.items():
            shown = str(enum(value).label)
            if shown != label_en:  # translated: the English label would be a leak
                words.add(label_en)
            if value != shown and value != label_en and len(value) > 3:
                words.add(value)
    return words


class _Text(HTMLParser):
    """The text a person reads: no attributes, no scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def leaks(body: str, words: set[str]) -> list[str]:
    parser = _Text()
    parser.feed(body)
    text = " ".join(" ".join(parser.parts).split())
    return sorted(
        word for word in words if re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text)
    )


@pytest.fixture
def world(make_user):
    seed(Questionnaire)
    ngo = AgencyFactory(code="ngo-x", name="Shoqata Shpresa", kind=AgencyKind.SHELTER)
    shelter = AgencyFactory(code="shelter-x", name="Shtëpia e Sigurt", kind=AgencyKind.SHELTER)
    worker = make_user(Role.CASE_WORKER, agency=ngo)
    receiver = make_user(Role.CASE_WORKER, agency=shelter)
    admin = make_user(Role.AGENCY_ADMIN, agency=ngo)
    auditor = make_user(Role.AUDITOR, agency=ngo)
    person = PersonFactory(owner_agency=ngo)
    case = services.open_case(worker, person, source="ngo", first_contact_on=timezone.localdate())
    questionnaire = Questionnaire.objects.get(code="unodc-sexual-exploitation")
    services.record_screening(
        worker,
        case,
        expected_version=case.version,
        questionnaire=questionnaire,
        indicators_met=["escorted"],
    )
    case.refresh_from_db()
    referral = services.send_referral(worker, case, to_agency=shelter, field_groups=["identity"])
    return {
        worker: [
            "/",
            "/persons/",
            f"/persons/{person.public_id}/?reason=code:case_work",
            "/cases/",
            f"/cases/{case.public_id}/",
            "/cases/tasks/",
        ],
        receiver: ["/cases/referrals/", f"/cases/referrals/{referral.public_id}/"],
        admin: ["/staff/", "/staff/new/"],
        auditor: ["/audit/"],
    }


@pytest.mark.parametrize("language", ["sq", "sr-latn"])
def test_pages_show_no_codes_or_english(client, world, language):
    # Questionnaire codes are data (seeded by a migration), not an enum.
    words = forbidden(language) | set(Questionnaire.objects.values_list("code", flat=True))
    # Their titles are data in English with translations in the catalogues.
    with translation.override(language):
        titles = Questionnaire.objects.values_list("title", flat=True)
        words |= {title for title in titles if translation.gettext(title) != title}
    assert {"feminine", "identity", "unodc-sexual-exploitation"} <= words
    assert "UNODC/IOM indicators: sexual exploitation" in words
    found = {}
    for user, paths in world.items():
        client.force_login(user)
        client.cookies["django_language"] = language
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            leaked = leaks(response.content.decode(), words)
            if leaked:
                found[path] = leaked
    assert not found, "\n".join(f"{path}: {words}" for path, words in found.items())


def test_audit_shows_objects_by_reference_not_uuid(client, world):
    from streha.cases.models import Case

    case = Case.objects.get()
    auditor = next(user for user, paths in world.items() if "/audit/" in paths)
    client.force_login(auditor)
    body = client.get("/audit/").content.decode()
    assert case.reference in body
    assert str(case.public_id) not in body


def test_person_page_lists_the_persons_cases_the_user_may_open(client, world, make_user):
    from streha.cases.models import Case
    from streha.people.selectors import cases_of

    case = Case.objects.get()
    worker = next(user for user, paths in world.items() if "/persons/" in paths)
    client.force_login(worker)
    body = client.get(
        f"/persons/{case.person.public_id}/?reason=case:{case.public_id}"
    ).content.decode()
    listed = body.split('id="person-cases"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/cases/{case.public_id}/"' in listed and case.reference in listed
    # Someone of another agency is offered none of them (the policy decides, not the page).
    outsider = make_user(Role.CASE_WORKER, agency=AgencyFactory())
    assert not cases_of(outsider, case.person).exists()
