"""``streha accounts first-admin``: the first system administrator of a new installation.

Every role a person grants waits for a second administrator; somebody has to be first. This
command, run on the server by whoever installs the system, is "the system" granting: the role
takes effect at once, the event is audited (method "system"), and the new administrator chooses
their password through the e-mailed invitation and enrols a second factor at first sign-in.
It refuses once a system administrator exists: later ones are granted and approved in the
application.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from streha.accounts import services
from streha.accounts.models import Agency, Role, RoleGrant


class Command(BaseCommand):
    help = "Create the first system administrator (only while there is none)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        first = sub.add_parser("first-admin", help=self.help)
        first.add_argument("--agency", required=True, help="code of an existing agency")
        first.add_argument("--username", required=True)
        first.add_argument("--email", required=True)

    def handle(self, *args, **options):
        with transaction.atomic():
            if RoleGrant.objects.effective().filter(role=Role.SYSTEM_ADMIN).exists():
                raise CommandError(
                    "A system administrator exists: grant the role in the application, where a "
                    "second administrator approves it."
                )
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                raise CommandError("No agency has this code.")
            try:
                user = services.create_user(
                    None,
                    agency=agency,
                    username=options["username"],
                    email=options["email"],
                    roles=[Role.SYSTEM_ADMIN],
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"System administrator {user.username} created; invitation e-mailed.")
