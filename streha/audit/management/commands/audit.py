"""``streha audit verify`` checks the hash chain; ``streha audit head`` prints an anchor.

verify exits 0 with "Audit chain intact: N events." or 1 with "Audit chain broken at event #SEQ:
reason" on stderr, so cron or monitoring can alert on the exit status alone.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.audit import services

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def anchor(value: str) -> tuple[int, str]:
    match = _ANCHOR.match(value.strip().lower())
    if not match:
        raise ValueError(value)
    return int(match[1]), match[2]


class Command(BaseCommand):
    help = gettext_lazy("Verify the audit hash chain, or print its head to keep as an anchor.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify", help=_("Walk the whole chain and report the first broken event.")
        )
        verify.add_argument("--batch-size", type=int, default=5000)
        verify.add_argument(
            "--anchor",
            action="append",
            type=anchor,
            default=[],
            metavar="SEQ:HASH",
            help=_("A position and hash printed earlier by `audit head` (repeatable)."),
        )
        sub.add_parser(
            "head",
            help=_(
                "Print the last position and hash; keep them where the database administrators "
                "cannot write, and pass them to `verify --anchor` later."
            ),
        )

    def handle(self, *args, subcommand, **options):
        if subcommand == "head":
            head = services.chain_head()
            if head is None or head.last_seq == 0:
                raise CommandError(_("The audit log is empty."))
            self.stdout.write(f"{head.last_seq}:{head.last_hash}")
            return
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        report = services.verify_chain(options["batch_size"], anchors=dict(options["anchor"]))
        if report.ok:
            self.stdout.write(
                _("Audit chain intact: %(count)s events.") % {"count": report.checked}
            )
            return
        self.stderr.write(
            _("Audit chain broken at event #%(seq)s: %(reason)s")
            % {"seq": report.first_broken_seq, "reason": report.reason}
        )
        raise SystemExit(1)
