from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from streha.places.services import load_country


class Command(BaseCommand):
    help = "Load the regions and municipalities of a country (default: STREHA_COUNTRY)."

    def add_arguments(self, parser):
        parser.add_argument("country", nargs="?", default=settings.STREHA_COUNTRY)

    def handle(self, *args, country, **options):
        try:
            regions, municipalities = load_country(country)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{country}: {regions} regions, {municipalities} municipalities.")
