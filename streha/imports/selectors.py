"""Reads for the import pages: where the navigation shows them."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.jobs.models import Job


def navigation_entries(user) -> list:
    """ "Import" for those who may import (their own agency's administrators, the national
    coordinator's importers); "HTCDS export" for the national coordinator's office; "Jobs" for
    whoever has started one."""
    entries = []
    if user.agency is not None and policy.can_import_records(user, user.agency):
        entries.append((_("Import"), reverse("imports:upload")))
    from streha.imports.exports import lists_for

    if lists_for(user):
        entries.append((_("Exports"), reverse("imports:export")))
    if policy.can_export_htcds(user):
        entries.append((_("HTCDS export"), reverse("imports:htcds_export")))
    if Job.objects.filter(started_by=user).exists():
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
