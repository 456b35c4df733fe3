"""``streha report national --year YYYY --out DIR``: every national table, one CSV file each."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from streha.access import policy
from streha.audit import services as audit
from streha.statistics import figures
from streha.statistics.publication import as_csv, publish


class Command(BaseCommand):
    help = "Write the national statistics tables of a year (small cells suppressed)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["national"])
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--format", choices=["csv"], default="csv")
        parser.add_argument(
            "--exact",
            action="store_true",
            help="Unsuppressed counts, for the national coordinator's own use (audited).",
        )

    def handle(self, *args, **options):
        year = options["year"]
        if not 1990 <= year <= 2100:
            raise CommandError("--year must be between 1990 and 2100.")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        # Files are for international exchange: headers and labels in English.
        with translation.override("en"):
            tables = figures.national_tables(policy.cases_for_national_report(), year)
            for table in tables:
                published = publish(table, exact=options["exact"])
                (out / f"{table.code}.csv").write_text(as_csv(published), encoding="utf-8")
        audit.record(
            None,
            audit.Action.EXPORT,
            object_type="statistics.report",
            object_id=f"national-{year}",
            purpose="national report (exact)" if options["exact"] else "national report",
            details={"year": year, "tables": len(tables), "exact": bool(options["exact"])},
        )
        self.stdout.write(f"Wrote {len(tables)} tables for {year} to {out}.")
