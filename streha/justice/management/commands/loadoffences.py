from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from streha.justice.catalogue import load_offences


class Command(BaseCommand):
    help = "Load a country's offence catalogue (default: STREHA_COUNTRY); keeps local corrections."

    def add_arguments(self, parser):
        parser.add_argument("country", nargs="?", default=settings.STREHA_COUNTRY)
        parser.add_argument(
            "--force", action="store_true", help="Overwrite records a legal officer corrected."
        )

    def handle(self, *args, country, force, **options):
        try:
            codes, offences = load_offences(country, force=force)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{country}: {codes} criminal codes, {offences} offences.")
