"""The import pages: upload and dry run, confirm, report, mapping; who may reach them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from streha.accounts.models import Role
from streha.imports.models import ImportMapping, ImportUpload
from streha.imports.tests.conftest import csv_bytes, row
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


def test_upload_check_confirm_and_report(client, importer, owner):
    client.force_login(importer)
    assert client.get(reverse("imports:upload")).status_code == 200
    response = upload(client, owner, csv_bytes([row("P1"), row("P2", prs_Birthdate="bad")]))
    assert response.status_code == 302
    check = client.get(response.url)
    assert b'id="report-created">1<' in check.content
    assert b'id="report-rejected">1<' in check.content
    assert b"prs_Birthdate" in check.content and b">bad<" not in check.content
    assert not Person.objects.exists()

    confirmed = client.post(response.url)
    job = Job.objects.get()
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


def test_a_checked_upload_is_confirmed_once_and_by_its_uploader_only(
    client, importer, owner, make_user
):
    client.force_login(importer)
    url = upload(client, owner, csv_bytes([row("P1")])).url
    other = make_user(Role.AGENCY_ADMIN, agency=owner)
    client.force_login(other)
    assert client.post(url).status_code == 404
    client.force_login(importer)
    client.post(url)
    assert client.post(url).status_code == 404
    assert Job.objects.count() == 1


def test_a_file_too_large_or_missing_is_refused_with_a_message(client, importer, owner, settings):
    settings.STREHA_MAX_DOCUMENT_BYTES = 100
    client.force_login(importer)
    response = upload(client, owner, csv_bytes([row("P1"), row("P2")]))
    assert response.status_code == 400
    assert b"field-error" in response.content
    missing = client.post(reverse("imports:upload"), {"agency": owner.pk, "profile": "htcds"})
    assert missing.status_code == 400
    assert not ImportUpload.objects.exists()


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
    check = client.get(upload(client, owner, content).url)
    assert b'id="report-created">1<' in check.content
    client.post(check.request["PATH_INFO"])
    execute_job(str(Job.objects.get().public_id))
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
    from streha.imports import services

    client.force_login(importer)
    assert b'href="/jobs/"' not in client.get("/").content
    services.start_import(importer, owner, csv_bytes([row("W1")]))
    assert b'href="/jobs/"' in client.get("/").content
