"""A case worker on a phone and on a laptop: the case table scrolls in its own box with a
visible cue, every tap target is at least 44 px high, and the header keeps to one line even
with a long agency name."""

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from streha.accounts.models import AgencyKind, Role
from streha.cases import services
from streha.testing.factories import TEST_PASSWORD, AgencyFactory, PersonFactory, UserFactory
from tests.browser.conftest import check_page, new_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_NAME = "Qendra Rajonale për Mbrojtjen dhe Riintegrimin e Viktimave të Trafikimit, Prizren"

TAP_TARGETS = (
    "button:visible, .button:visible, select:visible, input[type=text]:visible, .main-nav a:visible"
)


@pytest.fixture
def worker(transactional_db):
    agency = AgencyFactory(code="long-name", name=LONG_NAME, kind=AgencyKind.SHELTER)
    user = UserFactory(
        username="phone.worker", agency=agency, roles=[Role.CASE_WORKER, Role.SUPERVISOR]
    )
    for _ in range(3):
        person = PersonFactory(owner_agency=agency)
        services.open_case(user, person, source="ngo", first_contact_on=timezone.localdate())
    return user


def _sign_in(browser: Browser, base: str, width: int, height: int):
    page = new_page(browser, viewport={"width": width, "height": height})
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill("phone.worker")
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    check_page(page)
    return page


def _small_targets(page) -> list[str]:
    small = []
    for element in page.locator(TAP_TARGETS).all():
        box = element.bounding_box()
        if box and box["height"] < 44:
            small.append(f"{element.evaluate('e => e.outerHTML')[:80]} ({box['height']:.0f} px)")
    return small


def test_case_table_on_a_phone(live_server, browser: Browser, worker):
    page = _sign_in(browser, live_server.url, 390, 844)
    assert _small_targets(page) == []
    page.goto(f"{live_server.url}/cases/")
    check_page(page)
    wrap = page.locator("#case-table-wrap")
    expect(page.locator("#case-table tbody tr")).to_have_count(3)
    # The table is wider than the phone and scrolls inside its box, not the page.
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.locator(".scroll-hint")).to_be_visible()
    assert _small_targets(page) == []


def test_header_fits_a_laptop_in_at_most_two_rows(live_server, browser: Browser, worker):
    page = _sign_in(browser, live_server.url, 1366, 768)
    page.goto(f"{live_server.url}/cases/")
    check_page(page)
    expect(page.locator(".scroll-hint")).to_be_hidden()
    tops = page.locator(".main-nav li, .sign-out").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    heights = page.locator(".main-nav li, .sign-out").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().height))"
    )
    # With every domain's entry (cases, justice, imports, duplicates…) the navigation may take a
    # second row inside the header, never a third, and never a sideways scroll.
    assert max(tops) - min(tops) <= max(heights) + max(heights) // 2, (tops, heights)
    expect(page.locator(".sign-out .who")).to_have_attribute(
        "title", f"{worker.display_name} · {LONG_NAME}"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
