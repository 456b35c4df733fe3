"""``streha restore DIR``: decrypt the newest backup in DIR (or one archive) into an empty database.

Then run ``streha audit verify --anchor SEQ:HASH`` with the anchor printed here.
"""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.ops import backup


class Command(BaseCommand):
    help = gettext_lazy("Restore a Streha backup into an empty database.")

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help=_("A backup directory or archive."))
        parser.add_argument(
            "--identity",
            type=Path,
            default=os.environ.get("STREHA_BACKUP_IDENTITY_FILE") or None,
            help=_("The backup identity file (default: STREHA_BACKUP_IDENTITY_FILE)."),
        )

    def handle(self, *args, source, identity, **options):
        source = Path(source)
        if identity is None:
            raise CommandError(_("Give --identity FILE or set STREHA_BACKUP_IDENTITY_FILE."))
        if not source.exists():
            raise CommandError(_("%(path)s does not exist.") % {"path": source})
        try:
            restored = backup.restore_backup(source, Path(identity))
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("Restored %(archive)s (%(database)s, made %(created)s).")
            % {
                "archive": restored["archive"],
                "database": restored["database"],
                "created": restored["created_at"],
            }
        )
        self.stdout.write(
            _("Data keys destroyed again from the shred ledger: %(count)s.")
            % {"count": restored.get("shredded_again", 0)}
        )
        if restored.get("audit_anchor"):
            self.stdout.write(
                _("Check the audit log: streha audit verify --anchor %(anchor)s")
                % {"anchor": restored["audit_anchor"]}
            )
