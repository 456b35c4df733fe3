"""Notify agencies (in-app and by e-mail, without personal data) of case tasks due today.
Run once a day (cron or a systemd timer): ``streha case_reminders``."""

from django.core.management.base import BaseCommand

from streha.cases.services import send_due_reminders


class Command(BaseCommand):
    help = "Notify agencies of case tasks due today."

    def handle(self, *args, **options):
        sent = send_due_reminders()
        self.stdout.write(f"{sent} notifications sent.")
