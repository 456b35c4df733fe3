"""``streha backup --out DIR``: an encrypted, consistent online backup (see streha/ops/backup.py).

``streha backup --generate-key FILE`` makes a backup key pair: the secret identity goes to FILE
(keep it offline, apart from the master keys), the public recipient is printed for
``STREHA_BACKUP_RECIPIENTS_FILE``.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.ops import backup


class Command(BaseCommand):
    help = gettext_lazy("Back up the database and audit checkpoints, encrypted to a backup key.")

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, help=_("Directory the backup is written to."))
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help=_("An age public key (age1...) to encrypt to; repeatable."),
        )
        parser.add_argument(
            "--generate-key",
            type=Path,
            metavar="FILE",
            help=_("Write a new backup identity to FILE and print its public key."),
        )

    def handle(self, *args, out, recipient, generate_key, **options):
        try:
            if generate_key:
                public = backup.generate_identity(Path(generate_key))
                self.stdout.write(public)
                return
            if out is None:
                raise CommandError(_("Give --out DIR (or --generate-key FILE)."))
            result = backup.create_backup(Path(out), recipient)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("Backup written: %(archive)s (manifest %(manifest)s).")
            % {"archive": result.archive, "manifest": result.manifest}
        )
        if result.anchor:
            self.stdout.write(_("Audit anchor: %(anchor)s") % {"anchor": result.anchor})
