"""The import pages: upload, the dry-run job's progress and report, confirm, report, mapping;
who may reach them."""

import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from streha.accounts.models import Role
from streha.imports import services
from streha.imports.models import ImportMapping, ImportUpload
from streha.imports.tests.conftest import csv_bytes, row
from streha.jobs import registry
from streha.jobs.models import Job, JobState
from streha.jobs.services import execute_job
from streha.people.models import Gender, Person

pytestmark = pytest.mark.django_db


def upload(client, owner, content, name="records.csv"):
    return client.post(
        reverse("imports:upload"),
        {
            "agency": owner.pk,
            "profile": "htcds",
            "upload": SimpleUploadedFile(name, content, content_type="text/csv"),
        },
    )


def dry_run_job() -> Job:
    return Job.objects.get(kind=services.DRY_RUN_KIND)


def run_dry_run() -> Job:
    job = dry_run_job()
    execute_job(str(job.public_id))
    job.refresh_from_db()
    return job


def test_upload_check_confirm_and_report(client, importer, owner):
    client.force_login(importer)
    assert client.get(reverse("imports:upload")).status_code == 200
    response = upload(client, owner, csv_bytes([row("P1"), row("P2", prs_Birthdate="bad")]))
    assert response.status_code == 302
    # The request only kept the file and queued its dry run: no row was checked in it.
    job = dry_run_job()
    assert response.url == reverse("imports:check", args=[job.public_id])
    assert job.state == JobState.QUEUED and job.started_by == importer
    waiting = client.get(response.url)
    assert b'id="job-bar"' in waiting.content and b'id="report-created"' not in waiting.content
    assert f'hx-get="{response.url}"'.encode() in waiting.content
    assert b'id="start-import"' not in waiting.content

    assert run_dry_run().state == JobState.SUCCEEDED
    # The page polls itself: once the job is over, the fragment holds the report, not polling.
    fragment = client.get(response.url, HTTP_HX_REQUEST="true")
    assert fragment.content.startswith(b'<section id="dry-run"')
    assert b"hx-get" not in fragment.content
    assert b'id="report-created">1<' in fragment.content
    check = client.get(response.url)
    assert b'id="report-created">1<' in check.content
    assert b'id="report-rejected">1<' in check.content
    assert b"prs_Birthdate" in check.content and b">bad<" not in check.content
    assert b'id="start-import"' in check.content
    assert not Person.objects.exists()

    confirmed = client.post(response.url)
    job = Job.objects.get(kind=services.JOB_KIND)
    assert confirmed.url == reverse("jobs:detail", args=[job.public_id])
    execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert Person.objects.filter(reference="P1").exists()
    page = client.get(reverse("jobs:detail", args=[job.public_id]))
    assert reverse("imports:report", args=[job.public_id]).encode() in page.content
    report = client.get(reverse("imports:report", args=[job.public_id]))
    assert b'id="report-created">1<' in report.content
    assert not ImportUpload.objects.exists()
    # The dry run's own page still shows its report, without the button.
    after = client.get(response.url)
    assert b'id="report-created">1<' in after.content and b'id="start-import"' not in after.content


def test_the_dry_run_job_links_its_report_from_the_job_pages(client, importer, owner):
    client.force_login(importer)
    url = upload(client, owner, csv_bytes([row("P1")])).url
    job = run_dry_run()
    page = client.get(reverse("jobs:detail", args=[job.public_id]))
    assert url.encode() in page.content
    with translation.override("sq"):  # the site's language when none is chosen
        label = str(registry.get(services.DRY_RUN_KIND).label)
    assert label != "Check of the file"
    assert label in client.get(reverse("jobs:list")).content.decode()


class _ProgressBar(HTMLParser):
    """Collects what assistive technology reads of a job's bar: the label naming it, the bar's
    values, the state and the count beside it."""

    def __init__(self):
        super().__init__()
        self.found: dict[str, str] = {}
        self._reading = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for") == "job-bar":
            self._reading = "name"
        elif tag == "progress" and attrs.get("id") == "job-bar":
            self.found.update({"max": attrs["max"], "value": attrs["value"]})
        elif tag == "span" and attrs.get("class") in ("job-state", "job-count", "job-percent"):
            self._reading = attrs["class"]

    def handle_endtag(self, tag):
        self._reading = ""

    def handle_data(self, data):
        if self._reading:
            self.found[self._reading] = self.found.get(self._reading, "") + data


def progress_bar(html: str) -> tuple[str, dict[str, str]]:
    """The bar's markup, from the state line to the percentage, and what it says."""
    markup = re.search(r"<p><strong>.*?class=\"job-percent\">.*?</p>", html, re.DOTALL)
    assert markup is not None
    parser = _ProgressBar()
    parser.feed(markup.group(0))
    return markup.group(0), parser.found


def test_the_check_and_the_job_page_show_the_same_progress_bar(client, importer, owner):
    client.force_login(importer)
    url = upload(client, owner, csv_bytes([row(f"P{n}") for n in range(5)])).url
    job = dry_run_job()
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, done=2, total=5, cancel_requested=True, heartbeat_at=timezone.now()
    )
    check = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    detail = client.get(
        reverse("jobs:detail", args=[job.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    check_bar, said = progress_bar(check)
    detail_bar, _ = progress_bar(detail)
    assert check_bar == detail_bar
    assert said == {
        "job-state": "Running",
        "name": "Progress",
        "max": "100",
        "value": "40",
        "job-count": "2 of 5",
        "job-percent": "40",
    }
    assert "stopping after the current batch" in check_bar


def test_the_import_cannot_be_confirmed_before_the_check_is_over(client, importer, owner):
    client.force_login(importer)
    url = upload(client, owner, csv_bytes([row("P1")])).url
    early = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert early.status_code == 400
    assert b"not finished" in early.content
    assert not Job.objects.filter(kind=services.JOB_KIND).exists()
    run_dry_run()
    assert client.post(url).status_code == 302
    assert Job.objects.filter(kind=services.JOB_KIND).count() == 1


def test_a_checked_upload_is_confirmed_once_and_by_its_uploader_only(
    client, importer, owner, make_user
):
    client.force_login(importer)
    url = upload(client, owner, csv_bytes([row("P1")])).url
    run_dry_run()
    other = make_user(Role.AGENCY_ADMIN, agency=owner)
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    client.force_login(make_user(Role.SYSTEM_ADMIN))
    assert client.get(url).status_code == 404
    client.force_login(importer)
    client.post(url)
    assert client.post(url).status_code == 404
    assert Job.objects.filter(kind=services.JOB_KIND).count() == 1


def test_cancelling_a_waiting_check_deletes_the_file(client, importer, owner):
    client.force_login(importer)
    url = upload(client, owner, csv_bytes([row("P1")])).url
    job = dry_run_job()
    assert reverse("jobs:cancel", args=[job.public_id]).encode() in client.get(url).content
    client.post(reverse("jobs:cancel", args=[job.public_id]))
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert not ImportUpload.objects.exists()
    page = client.get(url)
    assert b'data-state="cancelled"' in page.content and b"hx-get" not in page.content
    assert client.post(url).status_code == 404


def test_a_file_too_large_or_missing_is_refused_with_a_message(client, importer, owner, settings):
    settings.STREHA_MAX_DOCUMENT_BYTES = 100
    client.force_login(importer)
    response = upload(client, owner, csv_bytes([row("P1"), row("P2")]))
    assert response.status_code == 400
    assert b"field-error" in response.content
    missing = client.post(reverse("imports:upload"), {"agency": owner.pk, "profile": "htcds"})
    assert missing.status_code == 400
    assert not ImportUpload.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "profile", "message"),
    [
        ("records.xlsx", b"PK\x03\x04 not a workbook", "htcds", "not a readable XLSX workbook"),
        ("records.csv", b"prs_FirstName,prs_Gender\nSynthname,Feminine\n", "htcds", "missing"),
        (
            "records.csv",
            b"ext_Reference,prs_FirstName,ext_Reference\nA,Synthname,B\n",
            "htcds",
            "twice",
        ),
        ("cases.csv", b"jus_Record,ext_Agency\ncase,x\n", "jus", "jus_CaseReference"),
        ("records.csv", b"\xef\xbb\xbf", "htcds", "The file is empty."),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_at_once(
    client, importer, owner, name, content, profile, message
):
    """A broken file is answered 400 with the reason: no upload kept, no job queued."""
    client.force_login(importer)
    response = client.post(
        reverse("imports:upload"),
        {
            "agency": owner.pk,
            "profile": profile,
            "upload": SimpleUploadedFile(name, content, content_type="text/csv"),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert b"field-error" in response.content
    assert b"Synthname" not in response.content
    assert not ImportUpload.objects.exists()
    assert not Job.objects.exists()


def test_staff_who_may_not_import_get_404(client, make_user, owner):
    client.force_login(make_user(Role.CASE_WORKER, agency=owner))
    assert client.get(reverse("imports:upload")).status_code == 404
    mapping_url = reverse("imports:mapping") + f"?agency={owner.code}"
    assert client.get(mapping_url).status_code == 404


def test_the_mapping_is_remembered_per_agency_and_used(client, importer, owner):
    client.force_login(importer)
    url = reverse("imports:mapping") + f"?agency={owner.code}&header=Emri"
    page = client.get(url)
    assert b"Emri = " in page.content
    saved = client.post(
        url,
        {
            "headers": "Emri = prs_FirstName\nRef = ext_Reference\nGjinia = prs_Gender",
            "values": "prs_Gender: Grua = Feminine",
        },
    )
    assert saved.status_code == 302
    mapping = ImportMapping.objects.get(agency=owner)
    assert mapping.headers["Emri"] == "prs_FirstName"
    content = b"Ref,Emri,Gjinia\nM1,Synthmapped,Grua\n"
    url = upload(client, owner, content).url
    run_dry_run()
    check = client.get(url)
    assert b'id="report-created">1<' in check.content
    client.post(url)
    execute_job(str(Job.objects.get(kind=services.JOB_KIND).public_id))
    assert Person.objects.get(reference="M1").gender == Gender.FEMININE


def test_a_wrong_mapping_line_is_explained(client, importer, owner):
    client.force_login(importer)
    response = client.post(
        reverse("imports:mapping") + f"?agency={owner.code}",
        {"headers": "Emri = prs_NoSuchField", "values": ""},
    )
    assert response.status_code == 400
    assert not ImportMapping.objects.exists()


def test_the_navigation_shows_import_to_importers_only(client, importer, owner, make_user):
    client.force_login(importer)
    assert b'href="/imports/"' in client.get("/").content
    client.force_login(make_user(Role.CASE_WORKER, agency=owner))
    assert b'href="/imports/"' not in client.get("/").content


def test_my_work_shows_jobs_still_running(client, importer, owner):
    client.force_login(importer)
    assert b'href="/jobs/"' not in client.get("/").content
    services.start_import(importer, owner, csv_bytes([row("W1")]))
    assert b'href="/jobs/"' in client.get("/").content
