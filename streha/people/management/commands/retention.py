from django.conf import settings
from django.core.management.base import BaseCommand

from streha.people import services


class Command(BaseCommand):
    help = "Retention: `status` shows what is past retention, `apply` anonymises it (audited)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "apply"])

    def handle(self, *args, action, **options):
        days = settings.STREHA_RETENTION_DAYS["people.person"]
        due = services.retention_due().count()
        if action == "status":
            self.stdout.write(f"people.person: retention {days} days; {due} past retention.")
            return
        done = services.apply_retention()
        self.stdout.write(f"people.person: anonymised {done} records past {days} days.")
