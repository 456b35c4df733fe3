"""Import and export pages in the authorization matrix (see streha/testing/matrix.py).

The inside agency is a shelter: its administrator imports for it; the national coordinator's
rights do not apply there. Exports are for whoever sees a work list (case roles, the hotline,
auditors); an export's file for its starter only."""

from streha.accounts.models import Role
from streha.testing.matrix import CASE, P

IMPORTERS = {Role.AGENCY_ADMIN}
HTML = {
    "imports:upload": P(IMPORTERS, path="/imports/"),
    "imports:mapping": P(IMPORTERS, set(), path="/imports/mapping/?agency={agency_slug}"),
    # A file's check (its dry-run job, its report, the button that imports): its uploader's only.
    "imports:check": P(IMPORTERS, set(), path="/imports/check/{dry_run_job}/"),
    "imports:report": P(
        {Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN}, {Role.SYSTEM_ADMIN}, path="/imports/report/{job}/"
    ),
    "imports:export": P(CASE | {Role.AUDITOR}, path="/imports/exports/"),
    "imports:export_download": P({Role.CASE_WORKER}, set(), path="/imports/exports/{export_job}/"),
    # The national HTCDS export belongs to the national coordinator's office, which the
    # matrix's agencies are not (test_htcds_export.py checks who there may use it).
    "imports:htcds_export": P(set(), path="/imports/htcds/"),
}
API: dict = {}


def extend_world(world: dict) -> None:
    """Checked uploads and export files, one inside the user's scope and one outside."""
    from streha.imports.exports import JOB_KIND
    from streha.imports.models import ExportFile, ImportUpload
    from streha.imports.services import DRY_RUN_KIND, Report
    from streha.jobs.models import Job, JobState
    from streha.testing.factories import UserFactory

    # Whichever app's rows run first makes the outside administrator (jobs makes it too).
    if "agency_admin" not in world["outside_users"]:
        world["outside_users"]["agency_admin"] = UserFactory(
            agency=world["agencies"]["out"], roles=[Role.AGENCY_ADMIN]
        )
    uploaders = {
        "in": world["users"][Role.AGENCY_ADMIN],
        "out": world["outside_users"]["agency_admin"],
    }
    exporters = {
        "in": world["users"][Role.CASE_WORKER],
        "out": world["outside_users"]["case_worker"],
    }
    for scope in ("in", "out"):
        agency = world["agencies"][scope]
        world[scope]["agency_slug"] = agency.code
        dry_run = Job.objects.create(
            kind=DRY_RUN_KIND,
            started_by=uploaders[scope],
            agency=agency,
            state=JobState.SUCCEEDED,
            result=Report().as_dict(),
        )
        ImportUpload.objects.create(
            uploaded_by=uploaders[scope],
            dry_run_job=dry_run,
            agency=agency,
            content=b"ext_Reference,prs_FirstName\n",
            size=28,
        )
        world[scope]["dry_run_job"] = dry_run.public_id
        job = Job.objects.create(
            kind=JOB_KIND, started_by=exporters[scope], state=JobState.SUCCEEDED, result={"rows": 0}
        )
        ExportFile.objects.create(
            job=job, file_name="export.csv", content_type="text/csv", content=b"a\n", rows=0
        )
        world[scope]["export_job"] = job.public_id
