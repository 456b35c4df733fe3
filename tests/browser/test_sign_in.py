import pytest
from playwright.sync_api import Page, expect

from streha.demo.generator import DEMO_PASSWORD
from tests.browser.conftest import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_switch_language_and_see_translated_text(live_server, page: Page, demo_staff):
    page.goto(f"{live_server.url}/")
    # Albanian is the default language: the sign-in page greets in Albanian.
    expect(page.get_by_role("heading", name="Hyni")).to_be_visible()
    check_page(page)
    page.get_by_label("Emri i përdoruesit").fill("shelter.admin")
    page.get_by_label("Fjalëkalimi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Hyni").click()
    expect(page.get_by_role("heading", name="Puna ime")).to_be_visible()
    check_page(page)

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    expect(page.get_by_role("link", name="Staff", exact=True)).to_be_visible()
    check_page(page)

    page.get_by_role("button", name="Srpski (latinica)").click()
    expect(page.get_by_role("heading", name="Moj rad")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "sr-latn")
    check_page(page)
