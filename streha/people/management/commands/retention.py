from django.conf import settings
from django.core.management.base import BaseCommand

from streha.people import services as people
from streha.tips import services as tips


class Command(BaseCommand):
    help = "Retention: `status` shows what is past retention, `apply` anonymises it (audited)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "apply"])

    def handle(self, *args, action, **options):
        record_types = [
            ("people.person", people.retention_due, people.apply_retention, "anonymised"),
            ("tips.tip", tips.retention_due, tips.apply_retention, "erased"),
        ]
        for label, due, apply, verb in record_types:
            days = settings.STREHA_RETENTION_DAYS.get(label, "default")
            if action == "status":
                self.stdout.write(
                    f"{label}: retention {days} days; {due().count()} past retention."
                )
            else:
                done = apply()
                self.stdout.write(f"{label}: {verb} {done} records past {days} days.")
