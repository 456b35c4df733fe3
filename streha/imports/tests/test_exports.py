"""Exports of work lists: filters applied, names only for who may see them, audited with the
row count, large lists through a job and a one-time download."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.cases import services as case_services
from streha.cases.models import Case
from streha.imports import exports, services
from streha.imports.tests.conftest import csv_bytes, row
from streha.jobs.models import Job, JobState
from streha.jobs.services import execute_job
from streha.testing.auth import reauthenticate
from streha.testing.factories import AgencyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(owner):
    report = services.import_now(
        None,
        owner,
        csv_bytes(
            [
                row("E1"),
                row("E2"),
                row(
                    "E3",
                    vic_TraffickingStatus="ActualVictimOfTrafficking",
                    ext_IdentifiedOn="2024-05-01",
                ),
            ]
        ),
    )
    assert report.created == 3
    return Case.objects.all()


def parse_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_case_list_exports_with_its_filter_names_and_an_audit_event(make_user, owner, cases):
    worker = make_user(Role.CASE_WORKER, agency=owner)
    content, name, content_type, count = exports.export_now(
        worker, "cases", "csv", {"status": "presumed_victim"}
    )
    rows = parse_csv(content)
    assert count == 2 and len(rows) == 3
    assert name.endswith(".csv") and content_type.startswith("text/csv")
    assert {r[5] for r in rows[1:]} == {"E1", "E2"}
    assert {r[6] for r in rows[1:]} == {"SynthnameE1", "SynthnameE2"}
    event = AuditEvent.objects.get(action="export", object_type="export")
    assert event.details["rows"] == 2 and event.details["filters"] == {"status": "presumed_victim"}
    named = AuditEvent.objects.get(action="export", object_type="people.person")
    assert named.details["count"] == 2


def test_names_are_left_out_for_whom_the_identity_was_not_shared(make_user, owner, cases):
    worker = make_user(Role.CASE_WORKER, agency=owner)
    shelter = AgencyFactory(code="shelter-two")
    other = make_user(Role.CASE_WORKER, agency=shelter)
    case = Case.objects.get(person__reference="E1")
    referral = case_services.send_referral(
        worker, case, to_agency=shelter, field_groups=["narrative"], purpose="Shelter place"
    )
    case_services.answer_referral(other, referral, status="accepted")
    content, _name, _type, count = exports.export_now(other, "cases", "csv", {})
    rows = parse_csv(content)
    assert count == 1
    assert rows[1][5] == "E1" and rows[1][6] == "" and rows[1][7] == ""
    assert not AuditEvent.objects.filter(action="export", object_type="people.person").exists()


def test_another_agency_exports_nothing_of_ours(make_user, cases):
    stranger = make_user(Role.CASE_WORKER)
    _content, _name, _type, count = exports.export_now(stranger, "cases", "xlsx", {})
    assert count == 0


def test_xlsx_export_of_the_task_list(make_user, owner, cases):
    worker = make_user(Role.SUPERVISOR, agency=owner)
    content, name, _type, count = exports.export_now(worker, "tasks", "xlsx", {})
    sheet = load_workbook(io.BytesIO(content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert name.endswith(".xlsx")
    assert len(values) == count + 1


def test_the_audit_log_is_for_auditors_only(make_user, owner, cases):
    from streha.audit.selectors import visible_events

    exports.export_now(make_user(Role.CASE_WORKER, agency=owner), "tasks", "csv", {})
    auditor = make_user(Role.AUDITOR, agency=owner)
    expected = visible_events(auditor).filter(action="export").count()
    content, _name, _type, count = exports.export_now(auditor, "audit", "csv", {"action": "export"})
    assert count == expected >= 1
    assert parse_csv(content)[1][6] == "tasks"
    assert "audit" not in [item.name for item in exports.lists_for(make_user(Role.CASE_WORKER))]
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        exports.export_now(make_user(Role.CASE_WORKER, agency=owner), "audit", "csv", {})


def test_a_cell_that_looks_like_a_formula_is_written_as_text():
    assert exports._no_formula("=SUM(A1)") == "'=SUM(A1)"
    assert exports._no_formula("Prishtinë") == "Prishtinë"


def test_the_page_downloads_a_small_list_and_refuses_unknown_codes(client, make_user, owner, cases):
    worker = make_user(Role.CASE_WORKER, agency=owner)
    client.force_login(worker)
    url = reverse("imports:export")
    assert client.get(url).status_code == 200
    # Exporting needs a fresh password and second factor (the form itself shows without).
    reauthenticate_url = client.post(url, {"work_list": "cases", "format": "csv"}).url
    assert reauthenticate_url.startswith(reverse("account_reauthenticate"))
    reauthenticate(client, worker)
    response = client.post(url, {"work_list": "cases", "format": "csv", "status": "identified"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert len(parse_csv(response.content)) == 2
    refused = client.post(url, {"work_list": "cases", "format": "csv", "status": "bogus"})
    assert refused.status_code == 400


def test_a_large_list_is_made_by_a_job_and_downloaded_once(
    client, make_user, owner, cases, settings
):
    settings.STREHA_EXPORT_INLINE_ROWS = 1
    worker = make_user(Role.CASE_WORKER, agency=owner)
    client.force_login(worker)
    reauthenticate(client, worker)
    response = client.post(reverse("imports:export"), {"work_list": "cases", "format": "csv"})
    job = Job.objects.get(kind=exports.JOB_KIND)
    assert response.url == reverse("jobs:detail", args=[job.public_id])
    execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.result == {"rows": 3}
    event = AuditEvent.objects.get(action="export", object_type="export")
    assert event.details["job"] == str(job.public_id) and event.details["rows"] == 3
    page = client.get(reverse("jobs:detail", args=[job.public_id]))
    download_url = reverse("imports:export_download", args=[job.public_id])
    assert download_url.encode() in page.content
    download = client.get(download_url)
    assert download.status_code == 200 and len(parse_csv(download.content)) == 4
    assert client.get(download_url).status_code == 404  # once only
    colleague = make_user(Role.CASE_WORKER, agency=owner)
    client.force_login(colleague)
    reauthenticate(client, colleague)
    assert client.get(download_url).status_code == 404


@pytest.mark.parametrize("role", [None, *Role.values])
def test_the_navigation_offers_exports_exactly_when_some_list_may_be_exported(
    make_user, owner, role
):
    user = make_user(*([role] if role else []), agency=owner)
    assert exports.exports_any(user) == bool(exports.lists_for(user))
