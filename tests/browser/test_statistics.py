"""The analyst's daily job in the browser, in Albanian: from the home page's key figures to a
table with its chart, filtered, on a laptop and on a phone, with axe and the console checked on
every page (``check_page``)."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import check_page
from tests.browser.test_daily_work import LAPTOP, PHONE, register, sign_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst(live_server, browser: Browser, demo_staff):
    worker = demo_staff["shelter.worker"]
    register(worker, "Arbëresha", "Krasniqi")
    register(worker, "Blerta", "Gashi", child=True)
    base = live_server.url
    page = sign_in(browser, base, "analyst", LAPTOP)
    # The home page's statistics panel links every table; table 1 opens with its chart.
    page.locator("#main a[href^='/statistics/T01/']").first.click()
    check_page(page)
    main = page.locator("#main")
    # A small database is counted as the page opens, and the page says so (in Albanian).
    expect(main).to_contain_text("Shifrat u numëruan tani")
    expect(page.locator("#main table caption")).to_be_visible()
    expect(page.locator("#main figure svg[role=img] title")).to_have_count(1)
    # One filter at a time, named on the table it narrows.
    page.locator("#filter-agency_kind").select_option("shelter")
    page.locator("form:has(#filter-agency_kind) button[type=submit]").click()
    check_page(page)
    expect(page).to_have_url(re.compile(r"agency_kind=shelter"))
    expect(page.locator("#main table caption")).to_contain_text("(")
    expect(main.locator("a[href^='?year=']").first).to_be_visible()  # remove the filter
    visit(page, f"{base}/statistics/")
    expect(page.locator("#tables + ul a, #tables ~ ul a").first).to_be_visible()
    # On a phone the dashboard and a wide table fit; only the table's own box scrolls.
    phone = sign_in(browser, base, "analyst", PHONE)
    visit(phone, f"{base}/statistics/")
    phone.locator("#main a[href^='/statistics/T03/']").first.click()
    check_page(phone)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    expect(phone.locator("#main .table-scroll table")).to_be_visible()
