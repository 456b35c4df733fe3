"""``streha report national|ctdc --year YYYY --out DIR``: the year's tables in official formats.

``national`` writes every table, one file each (``T01.csv`` …), cells exactly as the pages show
them after suppression, headers in English; ``--format pdf`` writes the annual report instead,
one PDF per language (``national-report-YYYY-sq.pdf``, ``-sr-latn``, ``-en``); ``--format sdmx``
adds ``eurostat.sdmx.csv`` (the victim tables 1–3) and ``eurostat-justice.sdmx.csv`` (table 6)
in Eurostat's SDMX-CSV shape, flag ``b`` on a year of series break, and ``T04.sdmx.csv``,
``T09.sdmx.csv``, ``T16.sdmx.csv`` in the same shape (GLOTIP, sentences, SDG 16.2.2; codes
unconfirmed). ``ctdc`` writes ``ctdc.csv``,
one row per victim in the CTDC global dataset's 27 columns. ``--exact`` (national tables only)
is for the national coordinator's own use; every run is audited.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from streha.access import policy
from streha.audit import services as audit
from streha.statistics import exports, figures, selectors
from streha.statistics.publication import as_csv, as_xlsx, min_cell, publish


class Command(BaseCommand):
    help = "Write the national statistics of a year (small cells suppressed) in official formats."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["national", "ctdc"])
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", required=True, help="Directory to write the files into.")
        parser.add_argument("--format", choices=["csv", "xlsx", "sdmx", "pdf"], default="csv")
        parser.add_argument(
            "--exact",
            action="store_true",
            help="Unsuppressed counts, for the national coordinator's own use (audited).",
        )

    def handle(self, *args, **options):
        year = options["year"]
        if not 1990 <= year <= 2100:
            raise CommandError("--year must be between 1990 and 2100.")
        if options["exact"] and options["kind"] != "national":
            raise CommandError("--exact applies to the national tables only.")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        cases = policy.cases_for_national_report()
        # Files are for international exchange: headers and labels in English.
        with translation.override("en"):
            if options["kind"] == "ctdc":
                rows = exports.ctdc_rows(cases, year, min_cell())
                (out / "ctdc.csv").write_text(exports.ctdc_csv(rows), encoding="utf-8")
                written = ["ctdc.csv"]
            else:

                def tables():
                    return figures.national_tables(
                        cases,
                        year,
                        tips=policy.tips_for_national_report(),
                        criminal_cases=selectors.criminal_cases_for_national_report(),
                    )

                written = []
                if options["format"] == "pdf":
                    written = self._pdfs(tables, year, out, exact=options["exact"])
                    published = []
                else:
                    published = [publish(table, exact=options["exact"]) for table in tables()]
                for table in published:
                    if options["format"] == "xlsx":
                        (out / f"{table.code}.xlsx").write_bytes(as_xlsx(table))
                        written.append(f"{table.code}.xlsx")
                    else:
                        (out / f"{table.code}.csv").write_text(as_csv(table), encoding="utf-8")
                        written.append(f"{table.code}.csv")
                if options["format"] == "sdmx":
                    (out / "eurostat.sdmx.csv").write_text(
                        exports.sdmx_csv(published), encoding="utf-8"
                    )
                    written.append("eurostat.sdmx.csv")
                    (out / "eurostat-justice.sdmx.csv").write_text(
                        exports.justice_sdmx_csv(published), encoding="utf-8"
                    )
                    written.append("eurostat-justice.sdmx.csv")
                    for table in published:
                        if table.code in exports.OTHER_SDMX_HEADERS:
                            name = f"{table.code}.sdmx.csv"
                            (out / name).write_text(exports.other_sdmx_csv(table), encoding="utf-8")
                            written.append(name)
        audit.record(
            None,
            audit.Action.EXPORT,
            object_type="statistics.report",
            object_id=f"{options['kind']}-{year}",
            purpose="national report (exact)" if options["exact"] else "national report",
            details={"year": year, "files": len(written), "exact": bool(options["exact"])},
        )
        self.stdout.write(f"Wrote {', '.join(written)} for {year} to {out}.")

    def _pdfs(self, tables, year: int, out: Path, *, exact: bool) -> list[str]:
        """The annual report in each language; the tables are made in that language (some
        labels are joined when a table is made)."""
        from streha.statistics.pdf import LANGUAGES, annual_report

        written = []
        for language in LANGUAGES:
            with translation.override(language):
                published = [publish(table, exact=exact) for table in tables()]
                name = f"national-report-{year}-{language}.pdf"
                made_on = timezone.localdate()
                (out / name).write_bytes(annual_report(published, year, made_on=made_on))
            written.append(name)
        return written
