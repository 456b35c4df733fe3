"""``streha statistics count [--year YYYY ...]``: count and store the published figures.

For a nightly schedule (cron or ``deploy/systemd/streha-statistics.timer``): runs the job
``statistics.count_figures`` here and now, as the system; the pages then read the stored
figures and say when they were counted.
"""

from django.core.management.base import BaseCommand, CommandError

from streha.jobs.services import execute_job, start_job
from streha.statistics.jobs import COUNT_KIND


class Command(BaseCommand):
    help = "Count the published statistics (small cells suppressed) and store them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        count = sub.add_parser("count", help="Count every table, year and filter, and store.")
        count.add_argument(
            "--year",
            type=int,
            action="append",
            help="A year to count (repeatable; default: the ten years the pages offer).",
        )

    def handle(self, *args, action, **options):
        years = options.get("year") or []
        if any(not 1990 <= year <= 2100 for year in years):
            raise CommandError("--year must be between 1990 and 2100.")
        job = start_job(COUNT_KIND, None, {"years": years, "scheduled": True})
        execute_job(str(job.public_id))
        job.refresh_from_db()
        if job.state != "succeeded":
            raise CommandError(job.error or job.state)
        result = job.result
        self.stdout.write(
            f"Counted {result['tables']} tables of {len(result['years'])} years "
            f"for {result['scopes']} scopes (job {job.public_id})."
        )
