"""Statistics rows of the authorization matrix (see streha/testing/matrix.py)."""

from streha.accounts.models import Role
from streha.testing.matrix import P

HTML = {
    "statistics:index": P({Role.ANALYST}, path="/statistics/"),
    "statistics:table": P({Role.ANALYST}, path="/statistics/T01/"),
    "statistics:report": P({Role.ANALYST}, path="/statistics/report/"),
    # Counting is the national coordinator's office's (the matrix's analyst is a shelter's):
    # test_stored_figures.py::test_who_may_start_counting shows the coordinator's analyst may.
    "statistics:count": P(set(), method="post", path="/statistics/count/"),
    "statistics:report_download": P({Role.ANALYST}, set(), path="/statistics/report/{report_job}/"),
}
API = {
    ("/api/v1/statistics/tables/{code}/", "get"): P(
        {Role.ANALYST}, path="/api/v1/statistics/tables/T01/"
    ),
}


def extend_world(world: dict) -> None:
    """A finished national report job of the inside analyst, and one of an outside analyst
    (a report is its starter's only)."""
    from streha.jobs.models import Job, JobState
    from streha.statistics.jobs import JOB_KIND
    from streha.statistics.models import ReportFile
    from streha.testing.factories import UserFactory

    starters = {
        "in": world["users"][Role.ANALYST],
        "out": world["outside_users"].get("analyst")
        or UserFactory(agency=world["agencies"]["out"], roles=[Role.ANALYST]),
    }
    world["outside_users"]["analyst"] = starters["out"]
    for scope, starter in starters.items():
        job = Job.objects.create(
            kind=JOB_KIND, started_by=starter, state=JobState.SUCCEEDED, result={"year": 2025}
        )
        ReportFile.objects.create(
            job=job, file_name="r.pdf", content=b"%PDF-", year=2025, language="en"
        )
        world[scope]["report_job"] = job.public_id
