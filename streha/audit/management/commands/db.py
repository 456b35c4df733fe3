"""``streha db roles``: the PostgreSQL migration owner and runtime roles (see
``streha.audit.db_roles``). Prints the SQL by default, for a database administrator to read;
``--apply`` runs it (connected as a superuser or the owner)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.audit import db_roles


class Command(BaseCommand):
    help = gettext_lazy("Database administration: the roles the application runs as.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        roles = sub.add_parser(
            "roles",
            help=_(
                "Set up a migration owner role and a runtime role that can only read and "
                "append to the audit tables (PostgreSQL)."
            ),
        )
        roles.add_argument("--owner", default="streha_owner")
        roles.add_argument("--runtime", default="streha_app")
        roles.add_argument(
            "--reassign-tables",
            action="store_true",
            help=_("Make the owner role own every table (when they were created by another)."),
        )
        roles.add_argument("--apply", action="store_true", help=_("Run the SQL, not print it."))
        roles.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, subcommand, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError(_("Database roles are for PostgreSQL only."))
        arguments = {
            "owner": options["owner"],
            "runtime": options["runtime"],
            "reassign": options["reassign_tables"],
        }
        try:
            if options["apply"]:
                sql = db_roles.apply(connection, **arguments)
            else:
                sql = db_roles.statements(connection, **arguments)
        except ValueError as error:
            raise CommandError(str(error)) from None
        for statement in sql:
            self.stdout.write(statement + ";")
        if options["apply"]:
            self.stdout.write(_("Roles set up: %(count)s statements.") % {"count": len(sql)})
