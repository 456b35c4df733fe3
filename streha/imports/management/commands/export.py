"""``streha export htcds --out FILE [--justice-out FILE] [--identities]``.

Writes every victim (one row each, HTCDS v2.0 field names) to ``--out`` and every criminal case
(``jus_*`` rows) to ``--justice-out`` (default: beside ``--out``, ``-justice`` added to its
name). Pseudonymised unless ``--identities`` is given: that is the server operator's decision
under a data-sharing agreement, and is audited with every person named. Each run is audited
with its row count.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from streha.imports import htcds_export


class Command(BaseCommand):
    help = "Export victims and criminal cases in the HTCDS v2.0 format (pseudonymised)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("format", choices=["htcds"])
        parser.add_argument("--out", required=True, help="CSV file for the victims.")
        parser.add_argument("--justice-out", default="", help="CSV file for the criminal cases.")
        parser.add_argument(
            "--identities",
            action="store_true",
            help="Names and identity numbers included (a data-sharing agreement; audited).",
        )

    def handle(self, *, out, justice_out, identities, **options) -> None:
        victims_path = Path(out)
        justice_path = (
            Path(justice_out)
            if justice_out
            else victims_path.with_name(f"{victims_path.stem}-justice{victims_path.suffix}")
        )
        for path in (victims_path, justice_path):
            if not path.parent.is_dir():
                raise CommandError(_("The folder to write into does not exist."))
        export = htcds_export.export_now(None, identities=identities)
        victims_path.write_bytes(export.victims)
        justice_path.write_bytes(export.justice)
        self.stdout.write(
            _("%(victims)d victims and %(justice)d justice rows written.")
            % {"victims": export.victim_rows, "justice": export.justice_rows}
        )
