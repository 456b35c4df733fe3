"""A member of the public reports in Albanian; the hotline answers; the reporter reads it."""

import pytest
from playwright.sync_api import Page, expect

from streha.demo.generator import DEMO_PASSWORD
from streha.tips.models import Tip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_anonymous_report_reply_and_follow_up(live_server, page: Page, demo_staff, settings):
    settings.STREHA_TIP_MIN_SECONDS = 0
    settings.STREHA_TIP_POW_BITS = 8
    mild = Tip(channel="phone", what_seen="An older, calmer call", received_on="2026-01-05")
    mild.save()

    # The public: Albanian page, no sign-in, no cookie.
    page.goto(f"{live_server.url}/report/?lang=sq")
    expect(page.locator("html")).to_have_attribute("lang", "sq")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.locator("#id_what_seen").fill(
        "Dy vajza të mbyllura në një lokal, pronari u merr pasaportat."
    )
    page.locator("#id_where").fill("Afër stacionit të autobusëve")
    page.locator("#id_immediate_danger").check()
    page.locator("#send").click()
    code = page.locator("#receipt-code").inner_text()
    passphrase = page.locator("#receipt-passphrase").inner_text()
    assert len(code.replace("-", "")) == 12 and len(passphrase.replace("-", "")) == 16
    assert page.context.cookies() == []

    # The hotline operator: the urgent tip is at the top of the queue.
    operator = page.context.browser.new_page(locale="sq-AL")
    operator.goto(f"{live_server.url}/accounts/login/")
    operator.locator("#id_login").fill("hotline")
    operator.locator("#id_password").fill(DEMO_PASSWORD)
    operator.locator("button[type=submit]").last.click()
    operator.goto(f"{live_server.url}/tips/")
    first_row = operator.locator("#tip-queue tbody tr").first
    expect(first_row).to_have_attribute("data-priority", "2")
    first_row.locator("a").click()
    expect(operator.locator("#tip-what")).to_contain_text("Dy vajza")
    operator.locator("#id_body").fill("Faleminderit. Policia është njoftuar.")
    operator.locator("#send-reply").click()
    expect(operator.get_by_text("Faleminderit. Policia është njoftuar.")).to_be_visible()

    # The reporter comes back with the receipt and reads the reply.
    page.goto(f"{live_server.url}/report/follow-up/?lang=sq")
    page.locator("#id_code").fill(code)
    page.locator("#id_passphrase").fill(passphrase)
    page.locator("button[type=submit]").click()
    expect(page.locator("#thread")).to_contain_text("Policia është njoftuar")
    assert page.context.cookies() == []
