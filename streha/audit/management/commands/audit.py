"""``streha audit verify`` checks the hash chain against the signed checkpoints;
``streha audit checkpoint`` signs a new checkpoint when one is due; ``streha audit head`` prints
an anchor.

verify exits 0 with "Audit chain intact: N events." or 1 with "Audit chain broken at event #SEQ:
reason" on stderr, so cron or monitoring can alert on the exit status alone. Without
``--no-checkpoints`` it also fails if the checkpoints themselves are damaged or unsigned.
checkpoint is meant for the job worker or cron, every minute (see ``streha.audit.checkpoints``).
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.audit import checkpoints, services

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
        verify.add_argument(
            "--no-checkpoints",
            action="store_true",
            help=_("Check the chain alone, not against the signed checkpoints."),
        )
        checkpoint = sub.add_parser(
            "checkpoint",
            help=_(
                "Sign a checkpoint of the chain and append it to the witness, if one is due "
                "(every N events or M minutes)."
            ),
        )
        checkpoint.add_argument(
            "--force", action="store_true", help=_("Write a checkpoint even if none is due.")
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
        if subcommand == "checkpoint":
            try:
                made = checkpoints.make_checkpoint(force=options["force"])
            except checkpoints.CheckpointError as error:
                self.stderr.write(str(error))
                raise SystemExit(1) from None
            if made is None:
                self.stdout.write(_("No checkpoint due."))
            else:
                self.stdout.write(_("Checkpoint signed at event #%(seq)s.") % {"seq": made.seq})
            return
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        anchors = dict(options["anchor"])
        signed = []
        if not options["no_checkpoints"]:
            try:
                signed = checkpoints.read_checkpoints()
                for seq, value in checkpoints.anchors(signed).items():
                    if anchors.get(seq, value) != value:
                        raise checkpoints.CheckpointError(
                            _("The anchor for event %(seq)s differs from its checkpoint.")
                            % {"seq": seq}
                        )
                    anchors[seq] = value
            except checkpoints.CheckpointError as error:
                self.stderr.write(
                    _("Audit checkpoints cannot be trusted: %(reason)s") % {"reason": error}
                )
                raise SystemExit(1) from None
        report = services.verify_chain(options["batch_size"], anchors=anchors)
        if report.ok:
            self.stdout.write(
                _("Audit chain intact: %(count)s events.") % {"count": report.checked}
            )
            if signed:
                self.stdout.write(
                    _(
                        "Checked against %(count)s signed checkpoints "
                        "(the last at event #%(seq)s, %(time)s)."
                    )
                    % {"count": len(signed), "seq": signed[-1].seq, "time": signed[-1].time}
                )
                head = services.chain_head()
                if checkpoints.overdue(signed[-1], head.last_seq if head else 0, timezone.now()):
                    self.stdout.write(
                        _(
                            "Warning: the last checkpoint is overdue; is `streha audit "
                            "checkpoint` running, and is the witness complete?"
                        )
                    )
            elif not options["no_checkpoints"]:
                self.stdout.write(_("No signed checkpoint yet: run `streha audit checkpoint`."))
            return
        self.stderr.write(
            _("Audit chain broken at event #%(seq)s: %(reason)s")
            % {"seq": report.first_broken_seq, "reason": report.reason}
        )
        raise SystemExit(1)
