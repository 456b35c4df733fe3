"""An agency administrator uploads a file, watches its check (the dry-run job) turn into the
report, then imports it and watches the job's progress bar move to the end, all without
reloading the page (htmx polling)."""

import threading

import pytest
from django.db import connection
from playwright.sync_api import Browser, expect

from streha.accounts.models import Role
from streha.imports import services
from streha.imports.tests.conftest import csv_bytes, row
from streha.jobs.models import Job
from streha.jobs.services import execute_job
from streha.testing.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.browser.conftest import check_page, new_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def work(job: Job) -> None:
    """The worker, in a thread of the test."""
    try:
        execute_job(str(job.public_id))
    finally:
        connection.close()


def test_the_progress_bar_moves_to_the_end(live_server, browser: Browser, monkeypatch):
    owner = AgencyFactory(code="shelter-browser")
    UserFactory(username="import.admin", agency=owner, roles=[Role.AGENCY_ADMIN])

    # Batches of two rows; after each batch the job waits until the test has seen the bar.
    monkeypatch.setattr(services, "BATCH", 2)
    reached, go_on = threading.Semaphore(0), threading.Semaphore(0)
    real_flush = services._flush

    def paced_flush(importer, batch, write, ctx, last_line):
        real_flush(importer, batch, write, ctx, last_line)
        if write and batch:
            reached.release()
            go_on.acquire(timeout=30)

    monkeypatch.setattr(services, "_flush", paced_flush)

    page = new_page(browser, locale="en")
    page.goto(f"{live_server.url}/accounts/login/")
    check_page(page)
    page.locator("#id_login").fill("import.admin")
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/imports/")
    check_page(page)
    page.locator("#id_agency").select_option(label=owner.name)
    page.locator("#id_upload").set_input_files(
        files=[
            {
                "name": "records.csv",
                "mimeType": "text/csv",
                "buffer": csv_bytes([row(f"B{n}") for n in range(5)]),
            }
        ]
    )
    page.locator("form button[type=submit]").last.click()
    # The rows are checked by a job, not by the upload's request: its progress shows first.
    expect(page.locator("#dry-run")).to_have_attribute("data-state", "queued")
    expect(page.locator("#job-bar")).to_have_attribute("value", "0")
    check_page(page)
    page.evaluate("window.samePage = true")
    checker = threading.Thread(target=work, args=[Job.objects.get(kind=services.DRY_RUN_KIND)])
    checker.start()
    checker.join(timeout=30)
    expect(page.locator("#report-created")).to_have_text("5")
    expect(page.locator("#dry-run")).to_have_attribute("data-state", "succeeded")
    assert page.evaluate("window.samePage === true")  # the report came without a reload
    check_page(page)
    page.locator("#start-import").click()
    bar = page.locator("#job-bar")
    expect(bar).to_have_attribute("value", "0")
    check_page(page)

    job = Job.objects.get(kind=services.JOB_KIND)
    worker = threading.Thread(target=work, args=[job])
    worker.start()
    try:
        for percent in ("40", "80", "100"):
            assert reached.acquire(timeout=30)
            expect(bar).to_have_attribute("value", percent, timeout=10_000)
            go_on.release()
        expect(page.locator("#job-progress")).to_have_attribute("data-state", "succeeded")
        expect(page.get_by_role("link", name="See the result")).to_be_visible()
        check_page(page)
    finally:
        for _ in range(3):
            go_on.release()
        worker.join(timeout=30)
    page.get_by_role("link", name="See the result").click()
    expect(page.locator("#report-created")).to_have_text("5")
    check_page(page)
