"""Each role's daily job, end to end, on a phone (390×844) and a laptop (1366×768), in
Albanian, with axe and the console checked on every page visited (``check_page``).

Lean on purpose: each journey runs once on the window its role mostly works on and then
opens its main pages on the other size; the case worker, who lives in the lists, runs the
whole journey on both. The prosecutor, investigator, court liaison and analyst journeys
belong to the justice and statistics browser tests."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from streha.cases import services as case_services
from streha.cases.models import Referral, Task, TaskKind
from streha.demo.generator import DEMO_PASSWORD
from streha.people import services as people_services
from tests.browser.conftest import check_page, new_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


def sign_in(browser: Browser, base: str, username: str, viewport: dict) -> Page:
    page = new_page(browser, viewport=viewport)
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    check_page(page)
    return page


def visit(page: Page, url: str) -> Page:
    page.goto(url)
    check_page(page)
    # Nothing but a list's own scroll box may scroll sideways, even on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    return page


def register(worker, given: str, family: str, *, child: bool = False):
    today = timezone.localdate()
    person = people_services.register_person(
        worker,
        given_name=given,
        family_name=family,
        birth_year=today.year - (15 if child else 30),
    )
    return case_services.open_case(worker, person, source="ngo", first_contact_on=today)


@pytest.fixture
def shelter_cases(demo_staff):
    """Two cases of the Drita shelter: one with a task three years overdue, one of a child."""
    worker = demo_staff["shelter.worker"]
    old = register(worker, "Arbëresha", "Krasniqi")
    child = register(worker, "Blerta", "Gashi", child=True)
    Task.objects.create(
        case=old,
        agency=worker.agency,
        kind=TaskKind.PLAN_REVIEW,
        due_on=timezone.localdate() - timedelta(days=3 * 365 + 5),
    )
    return old, child


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_case_worker(live_server, browser: Browser, demo_staff, shelter_cases, viewport):
    old, child = shelter_cases
    base = live_server.url
    page = sign_in(browser, base, "shelter.worker", viewport)
    visit(page, f"{base}/cases/")
    rows = page.locator("#case-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#case-table")).to_contain_text("Arbëresha Krasniqi")
    # Sorted by what is due: the three-years-overdue case first, said in words.
    page.locator("#sort-due").click()
    check_page(page)
    expect(rows.first).to_contain_text(old.reference)
    expect(rows.first.locator(".due")).to_contain_text("3 vjet vonesë")
    expect(page.locator(f"tr:has-text('{child.reference}') .flags")).to_contain_text(
        "Fëmijë pa kujdestar"
    )
    # Search and filters are one form; the sort holds.
    page.locator("#case-search").fill(child.reference)
    page.locator("#case-list-apply").click()
    check_page(page)
    expect(rows).to_have_count(1)
    expect(page.locator("th[aria-sort]")).to_have_count(1)
    rows.first.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
    check_page(page)
    # The task list: the old task stands apart from today's work; done from the list.
    visit(page, f"{base}/cases/tasks/")
    overdue = page.locator("section[aria-labelledby=overdue-heading]")
    expect(overdue.locator("tr.overdue-long")).to_contain_text("3 vjet vonesë")
    expect(overdue).to_contain_text("Arbëresha Krasniqi")
    overdue.locator("tr.overdue-long button").click()
    check_page(page)
    expect(page.locator("tr.overdue-long")).to_have_count(0)


def test_supervisor(live_server, browser: Browser, demo_staff, shelter_cases):
    base = live_server.url
    page = sign_in(browser, base, "shelter.admin", LAPTOP)
    visit(page, f"{base}/cases/tasks/")
    expect(page.locator("tr.overdue-long")).to_have_count(1)
    visit(page, f"{base}/cases/?sort=stage")
    expect(page.locator("#case-table tbody tr")).to_have_count(2)
    page.locator("#filter-status").select_option("first_contact")
    page.locator("#case-list-apply").click()
    check_page(page)
    page.locator("#case-export").click()
    check_page(page)
    expect(page.locator("#id_work_list")).to_have_value("cases")
    expect(page.locator("#id_status")).to_have_value("first_contact")
    phone = sign_in(browser, base, "shelter.admin", PHONE)
    visit(phone, f"{base}/cases/tasks/")


def test_ngo_shelter_worker(live_server, browser: Browser, demo_staff):
    base = live_server.url
    sender = demo_staff["social.worker"]
    case = register(sender, "Drilona", "Berisha")
    referral = case_services.send_referral(
        sender, case, to_agency=demo_staff["shelter.shpresa"].agency, field_groups=["identity"]
    )
    late = timezone.localdate() - timedelta(days=400)
    Referral.objects.filter(pk=referral.pk).update(answer_due_on=late)
    page = sign_in(browser, base, "shelter.shpresa", PHONE)
    visit(page, f"{base}/cases/referrals/")
    row = page.locator("#inbox tbody tr").first
    # Labelled by the sending agency, in Albanian, until accepted; the late answer stands out.
    expect(row).to_contain_text("Referim nga Qendra për Punë Sociale Prishtinë")
    expect(row.locator(".overdue")).to_contain_text("1 vit vonesë")
    expect(row).not_to_contain_text("Drilona")
    row.locator("a.referral-link").click()
    check_page(page)
    page.locator("#id_status").select_option("accepted")
    page.locator("#answer-submit").click()
    check_page(page)
    visit(page, f"{base}/cases/referrals/")
    row = page.locator("#inbox tbody tr").first
    expect(row).to_contain_text(case.reference)
    expect(row).to_contain_text("Drilona Berisha")
    laptop = sign_in(browser, base, "shelter.shpresa", LAPTOP)
    visit(laptop, f"{base}/cases/")
    expect(laptop.locator("#case-table")).to_contain_text("Drilona Berisha")


def test_hotline_operator(live_server, browser: Browser, demo_staff):
    from streha.tips.demo import ensure_demo_tip_line

    ensure_demo_tip_line()
    base = live_server.url
    page = sign_in(browser, base, "hotline", PHONE)
    visit(page, f"{base}/tips/")
    page.locator("a[href='/tips/phone/']").click()
    check_page(page)
    page.locator("#id_what_seen").fill("Një telefonatë për punë të detyruar në një ndërtim")
    page.locator("#main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/tips/[0-9a-f-]{36}/$"))
    check_page(page)
    # The agencies to assign the tip to are named in Albanian.
    options = page.locator("#id_assigned_agency option").all_inner_texts()
    assert "Inspektorati i Punës" in options and "Labour Inspectorate" not in options
    page.locator("#id_assigned_agency").select_option(label="Inspektorati i Punës")
    page.locator("form:has(#id_assigned_agency) button[type=submit]").click()
    check_page(page)
    laptop = sign_in(browser, base, "hotline", LAPTOP)
    visit(laptop, f"{base}/tips/")


def test_agency_administrator(live_server, browser: Browser, demo_staff):
    base = live_server.url
    page = sign_in(browser, base, "police.admin", LAPTOP)
    # The "without two-factor" figure leads to those accounts, each with an action.
    page.locator("a[href='/staff/?two_factor=missing']").first.click()
    check_page(page)
    reminder = page.locator("form[action$='/remind-two-factor/'] button").first
    expect(reminder).to_be_visible()
    reminder.click()
    check_page(page)
    expect(page.locator(".messages").first).to_contain_text("kujtesë")
    visit(page, f"{base}/agencies/")
    expect(page.locator("#main")).to_contain_text("Policia e Kosovës")
    phone = sign_in(browser, base, "police.admin", PHONE)
    visit(phone, f"{base}/staff/")


def test_auditor(live_server, browser: Browser, demo_staff, shelter_cases):
    base = live_server.url
    page = sign_in(browser, base, "auditor", LAPTOP)
    visit(page, f"{base}/audit/")
    page.locator("#main form[role=search] button[type=submit]").click()
    check_page(page)
    visit(page, f"{base}/audit/break-glass/")
    visit(page, f"{base}/imports/exports/?work_list=audit")
    expect(page.locator("#id_work_list")).to_have_value("audit")
    phone = sign_in(browser, base, "auditor", PHONE)
    visit(phone, f"{base}/audit/")
