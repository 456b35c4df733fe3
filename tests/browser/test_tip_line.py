"""A member of the public reports in Albanian; the hotline answers; the reporter reads it."""

import pytest
from playwright.sync_api import Page, expect

from streha.demo.generator import DEMO_PASSWORD
from streha.tips import services
from streha.tips.demo import ensure_demo_tip_line
from tests.browser.conftest import check_page, new_page

# The hotline's steps before the tip line was sealed: sign in (3: name, password, button),
# open the queue, open the urgent tip, write the reply, send it.
STEPS_BEFORE_SEALING = 7

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_anonymous_report_reply_and_follow_up(live_server, page: Page, demo_staff, settings):
    settings.STREHA_TIP_MIN_SECONDS = 0
    settings.STREHA_TIP_POW_BITS = 8
    ensure_demo_tip_line()  # the supervisor started the line; "hotline" is in the unit
    services.log_phone_call(demo_staff["hotline"], what_seen="An older, calmer call")

    # The public: Albanian page, no sign-in, no cookie.
    page.goto(f"{live_server.url}/report/?lang=sq")
    expect(page.locator("html")).to_have_attribute("lang", "sq")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_page(page)
    # Sent empty: the summary at the top says what is missing, and takes the focus.
    page.locator("#send").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator('a[href="#id_what_seen"]')).to_be_visible()
    check_page(page)
    # The numbers can be tapped, and a checkbox is big enough for a finger on a phone.
    expect(page.locator('.emergency a[href^="tel:"]')).to_have_count(2)
    page.set_viewport_size({"width": 360, "height": 740})
    box = page.locator("#id_immediate_danger").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    page.locator("#id_what_seen").fill(
        "Dy vajza të mbyllura në një lokal, pronari u merr pasaportat."
    )
    page.locator("#id_where").fill("Afër stacionit të autobusëve")
    page.locator("#id_immediate_danger").check()
    page.locator("#send").click()
    code = page.locator("#receipt-code").inner_text()
    passphrase = page.locator("#receipt-passphrase").inner_text()
    assert len(code.replace("-", "")) == 12 and len(passphrase.replace("-", "")) == 16
    check_page(page)
    assert page.context.cookies() == []

    # The hotline operator: the urgent tip is at the top of the queue.
    # Signing in unlocks the operator's tip-line key: no extra step to read sealed reports.
    steps = []
    operator = new_page(page.context.browser)
    operator.goto(f"{live_server.url}/accounts/login/")
    check_page(operator)
    operator.locator("#id_login").fill("hotline")
    steps.append("name")
    operator.locator("#id_password").fill(DEMO_PASSWORD)
    steps.append("password")
    operator.locator("button[type=submit]").last.click()
    steps.append("sign in")
    operator.goto(f"{live_server.url}/tips/")
    steps.append("queue")
    check_page(operator)
    first_row = operator.locator("#tip-queue tbody tr").first
    expect(first_row).to_have_attribute("data-priority", "2")
    # The row says what was reported, opened in the operator's session.
    expect(first_row.locator(".tip-preview")).to_contain_text("Dy vajza")
    first_row.locator("a").click()
    steps.append("open tip")
    expect(operator.locator("#tip-what")).to_contain_text("Dy vajza")
    check_page(operator)
    operator.locator("#id_body").fill("Faleminderit. Policia është njoftuar.")
    steps.append("reply")
    operator.locator("#send-reply").click()
    steps.append("send")
    expect(operator.get_by_text("Faleminderit. Policia është njoftuar.")).to_be_visible()
    check_page(operator)
    assert len(steps) <= STEPS_BEFORE_SEALING, steps

    # The reporter comes back with the receipt and reads the reply.
    page.goto(f"{live_server.url}/report/follow-up/?lang=sq")
    check_page(page)
    page.locator("#id_code").fill(code)
    page.locator("#id_passphrase").fill(passphrase)
    page.locator("button[type=submit]").click()
    expect(page.locator("#thread")).to_contain_text("Policia është njoftuar")
    check_page(page)
    assert page.context.cookies() == []
