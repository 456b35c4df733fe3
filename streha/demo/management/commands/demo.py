import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from streha.demo import generator


class Command(BaseCommand):
    help = "Load synthetic demo data (idempotent): agencies, staff with demo sign-ins, persons."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=300, help="How many persons in total.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (same seed, same data)."
        )

    def handle(self, *args, persons: int, seed: int, verbosity: int, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "Demo data can only be loaded in demo mode (never with STREHA_ENV=production)."
            )
        if persons < 0:
            raise CommandError("--persons must be zero or more.")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if verbosity > 1 or total >= 100_000:
                self.stderr.write(f"  persons: {done:,} / {total:,}")

        result = generator.run(seed=seed, persons=persons, progress=progress)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Demo data (seed {seed}): {result.agencies} agencies, {result.staff} staff accounts, "
            f"{result.persons_total:,} persons ({result.persons_created:,} new) in {elapsed:.1f} s."
        )
        if verbosity >= 1:
            self.stdout.write(f"\nDemo sign-ins (password for all: {generator.DEMO_PASSWORD}):")
            for username, agency, roles, _first, _last in generator.STAFF:
                role_names = ", ".join(str(role.label) for role in roles)
                self.stdout.write(f"  {username:<22} {agency:<22} {role_names}")
