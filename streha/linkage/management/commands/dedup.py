"""``streha dedup run`` / ``streha dedup export --out FILE.csv``.

``run`` goes through the same background job as the page (run here, in this process) and
prints counts only. ``export`` writes ``reference,cluster`` for every person (no identity),
for checking the clusters against another source.
"""

import csv
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from streha.jobs.services import execute_job, start_job
from streha.linkage import jobs, selectors


class Command(BaseCommand):
    help = "Find duplicate persons (run) or write reference,cluster for every person (export)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Score every person and store the possible duplicates.")
        run.add_argument(
            "--retrain",
            action="store_true",
            help="Train the model again even if a stored one fits the register.",
        )
        export = sub.add_parser("export", help="Write reference,cluster for every person.")
        export.add_argument("--out", required=True)

    def handle(self, *, action, **options) -> None:
        if action == "run":
            job = start_job(jobs.KIND, None, {"retrain": bool(options.get("retrain"))})
            execute_job(str(job.public_id))
            job.refresh_from_db()
            if job.state != "succeeded":
                raise CommandError(job.error or job.state)
            self.stdout.write(
                _("%(persons)d persons compared: %(pairs)d possible duplicates.")
                % {"persons": job.result["persons"], "pairs": job.result["pairs"]}
            )
            return
        path = options["out"]
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise CommandError(_("The folder of the output file does not exist."))
        count = 0
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["reference", "cluster"])
            for reference, cluster in selectors.export_rows():
                writer.writerow([reference, cluster])
                count += 1
        self.stdout.write(_("%(count)d persons written.") % {"count": count})
