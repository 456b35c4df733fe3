"""``streha import htcds FILE --agency CODE [--dry-run] [--profile htcds|kobo]``.

Prints the report on stdout (line, column, reason; never a cell's content). Exit code 0 when
every row went in (or would), 1 when some row was rejected or the file was refused. The real
run goes through the same background job as the web page, run here in this process.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from streha.accounts.models import Agency
from streha.imports import services
from streha.jobs.services import execute_job


class Command(BaseCommand):
    help = "Import victim records from a CSV or XLSX file with HTCDS columns."

    def add_arguments(self, parser) -> None:
        parser.add_argument("format", choices=["htcds"])
        parser.add_argument("file")
        parser.add_argument("--agency", required=True, help="Code of the agency owning the rows.")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--profile", choices=["htcds", "kobo", "jus"], default="htcds")

    def handle(self, *, file, agency, dry_run, profile, **options) -> None:
        owner = Agency.objects.filter(code=agency).first()
        if owner is None:
            raise CommandError(_("Unknown agency."))
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("The file does not exist."))
        content = path.read_bytes()
        if dry_run:
            report = services.dry_run(None, owner, content, file_name=path.name, profile=profile)
        else:
            job = services.start_import(None, owner, content, file_name=path.name, profile=profile)
            execute_job(str(job.public_id))
            job.refresh_from_db()
            if job.state != "succeeded":
                raise CommandError(job.error)
            report = services.Report(**job.result)
        self.print_report(report, dry_run)
        if not report.ok:
            raise SystemExit(1)

    def print_report(self, report: services.Report, dry_run: bool) -> None:
        out = self.stdout
        if report.file_error:
            out.write(_("File refused: %(reason)s") % {"reason": report.file_error})
        out.write(
            (_("Dry run: ") if dry_run else "")
            + _(
                "%(rows)d rows: %(created)d new, %(updated)d updated, %(unchanged)d unchanged, "
                "%(rejected)d rejected."
            )
            % {
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            }
        )
        out.write(
            (
                _("Reminder tasks that would be created: %(tasks)d, already overdue: %(overdue)d.")
                if dry_run
                else _("Reminder tasks created: %(tasks)d, already overdue: %(overdue)d.")
            )
            % {"tasks": report.tasks, "overdue": report.tasks_overdue}
        )
        if report.unknown_columns:
            out.write(
                _("Unknown columns: %(names)s") % {"names": ", ".join(report.unknown_columns)}
            )
        if report.ignored_columns:
            out.write(
                _("HTCDS columns not kept: %(names)s")
                % {"names": ", ".join(report.ignored_columns)}
            )
        for line, column, reason in report.errors:
            out.write(f"{line}\t{column}\t{reason}")
