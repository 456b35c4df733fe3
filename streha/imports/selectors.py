"""Reads for the import pages: where the navigation shows them, a dry run and its file."""

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.accounts.selectors import started_a_job
from streha.jobs.models import Job
from streha.jobs.selectors import job_for


def navigation_entries(user) -> list:
    """ "Import" for those who may import (their own agency's administrators, the national
    coordinator's importers); "HTCDS export" for the national coordinator's office; "Jobs" for
    whoever has started one."""
    entries = []
    if user.agency is not None and policy.can_import_records(user, user.agency):
        entries.append((_("Import"), reverse("imports:upload")))
    from streha.imports.exports import exports_any

    if exports_any(user):
        entries.append((_("Exports"), reverse("imports:export")))
    if policy.can_export_htcds(user):
        entries.append((_("HTCDS export"), reverse("imports:htcds_export")))
    if started_a_job(user):
        entries.append((_("Jobs"), reverse("jobs:list")))
    return entries


def my_work_panels(user) -> list:
    """Jobs still waiting or running, for whoever started them (quiet otherwise)."""
    from streha.jobs.models import JobState
    from streha.web.selectors import Panel

    active = Job.objects.filter(started_by=user, state__in=[JobState.QUEUED, JobState.RUNNING])
    count = active.count()
    if not count:
        return []
    return [
        Panel(
            title=_("Background jobs"),
            figures=[(_("Waiting or running"), count)],
            links=[(_("My background jobs"), reverse("jobs:list"))],
        )
    ]


def dry_run_for(user, public_id):
    """A dry-run job of ``user``'s own (404 otherwise: not even a system administrator reads
    another person's check), fresh: a lost worker's check reads as failed."""
    from streha.imports.services import DRY_RUN_KIND

    job = job_for(user, public_id)
    if job.kind != DRY_RUN_KIND or job.started_by_id != user.pk:
        raise Http404
    return job


def upload_awaiting_confirmation(job: Job):
    """The file a dry run checked, while it waits to be imported (None once it was confirmed,
    or deleted)."""
    from streha.imports.models import ImportUpload

    return ImportUpload.objects.filter(dry_run_job=job, job__isnull=True).first()
