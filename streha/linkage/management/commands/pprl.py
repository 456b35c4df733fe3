"""``streha pprl export --out FILE [--schema FILE] (--secret-file FILE | STREHA_PPRL_SECRET)``
and ``streha pprl match --ours A --theirs B [--threshold 0.75] [--pairs FILE.csv]``.

Export encodes every person as a Bloom-filter CLK (one audited system read); match reports how
many persons the two files hold in common and, on request, the pseudonymous pairs. Neither
prints or writes an identity; the secret is never written anywhere.
"""

import csv
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from streha.linkage import pprl


class Command(BaseCommand):
    help = "Privacy-preserving linkage with a partner: encode our persons, or count the overlap."
    # Django's system checks load every URL, view and API schema of the project (~1,400
    # modules, seconds in a fresh process); neither action uses them (``streha check`` does).
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Encode every person as a CLK.")
        export.add_argument("--out", required=True)
        export.add_argument("--schema", default=None)
        export.add_argument(
            "--secret-file", default=None, help="Else the STREHA_PPRL_SECRET environment variable."
        )
        match = sub.add_parser("match", help="Count the persons two encodings hold in common.")
        match.add_argument("--ours", required=True)
        match.add_argument("--theirs", required=True)
        match.add_argument("--threshold", type=float, default=0.75)
        match.add_argument("--pairs", default=None, help="Write the pseudonymous pairs here.")

    def handle(self, *, action, **options) -> None:
        try:
            if action == "export":
                pprl.require_encoding()  # clkhash
            else:
                # anonlink's compiled Dice and solver only: no clkhash, NumPy or pkg_resources.
                pprl.require_matching()
        except ImportError as exc:
            raise CommandError(
                _("Linkage with partners needs the optional 'pprl' extra (clkhash, anonlink).")
            ) from exc
        try:
            if action == "export":
                self.export(options)
            else:
                self.match(options)
        except pprl.PprlError as exc:
            raise CommandError(str(exc)) from exc

    def export(self, options) -> None:
        from streha.linkage import services

        secret = pprl.secret_from(os.environ.get("STREHA_PPRL_SECRET"), path=options["secret_file"])
        schema = pprl.load_schema(options["schema"])
        pseudonyms, rows = services.pprl_rows(secret, reason="pprl export")
        pprl.write(options["out"], pseudonyms, pprl.encode(rows, secret, schema))
        self.stdout.write(_("%(count)d persons encoded.") % {"count": len(rows)})

    def match(self, options) -> None:
        if not 0 < options["threshold"] <= 1:
            raise CommandError(_("The threshold must be between 0 and 1."))
        result = pprl.overlap(options["ours"], options["theirs"], threshold=options["threshold"])
        self.stdout.write(_("Persons in common: %(count)d") % {"count": result.common})
        if options["pairs"]:
            with open(options["pairs"], "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["ours", "theirs", "similarity"])
                writer.writerows(result.pairs)
