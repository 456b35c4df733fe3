"""Job pages in the authorization matrix (see streha/testing/matrix.py): a job is its starter's
(system administrators see every job record; records hold no personal data)."""

from streha.accounts.models import Role
from streha.testing.matrix import EVERYONE, P

STARTER = {Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN}
HTML = {
    "jobs:list": P(EVERYONE, path="/jobs/"),
    "jobs:detail": P(STARTER, {Role.SYSTEM_ADMIN}, path="/jobs/{job}/"),
    "jobs:cancel": P(STARTER, {Role.SYSTEM_ADMIN}, method="post", path="/jobs/{job}/cancel/"),
    "jobs:rerun": P(STARTER, {Role.SYSTEM_ADMIN}, method="post", path="/jobs/{job}/rerun/"),
    "jobs:discard": P(STARTER, {Role.SYSTEM_ADMIN}, method="post", path="/jobs/{job}/discard/"),
}
API: dict = {}


def extend_world(world: dict) -> None:
    """An import job started by the inside agency's administrator, one by an outside one."""
    from streha.imports.services import JOB_KIND, Report
    from streha.jobs.models import Job, JobState
    from streha.testing.factories import UserFactory

    outside_admin = world["outside_users"].get("agency_admin") or UserFactory(
        agency=world["agencies"]["out"], roles=[Role.AGENCY_ADMIN]
    )
    world["outside_users"]["agency_admin"] = outside_admin
    for scope, starter in (("in", world["users"][Role.AGENCY_ADMIN]), ("out", outside_admin)):
        job = Job.objects.create(
            kind=JOB_KIND,
            started_by=starter,
            agency=world["agencies"][scope],
            state=JobState.SUCCEEDED,
            done=1,
            total=1,
            result=Report(rows=1, created=1).as_dict(),
        )
        world[scope]["job"] = job.public_id
