from django.core.management.base import BaseCommand, CommandError

from streha.justice import services


class Command(BaseCommand):
    help = (
        "Recount the attrition funnel's figures from the events, judgments and protection "
        "orders, and replace the kept figures (with --check: only report the differences, and "
        "exit with an error if there are any)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare the kept figures with a recount without changing anything.",
        )

    def handle(self, *args, check, **options):
        differences = services.rebuild_figures(check=check)
        for line in differences[:50]:
            self.stdout.write(line)
        if len(differences) > 50:
            self.stdout.write(f"… and {len(differences) - 50} more differences.")
        if check and differences:
            raise CommandError(
                f"{len(differences)} differences between the kept figures and a recount."
            )
        if check:
            self.stdout.write("The kept figures agree with a recount.")
        else:
            self.stdout.write(f"Figures recounted ({len(differences)} differences repaired).")
