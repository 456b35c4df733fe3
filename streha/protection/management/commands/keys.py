from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from streha.audit import services as audit
from streha.protection import keys, services


class Command(BaseCommand):
    help = "Master keys: status, rotate (new key + re-wrap every data key), rewrap, retire."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="Which master key each record's data key is wrapped with.")
        sub.add_parser("rotate", help="Add a new current master key and re-wrap all data keys.")
        sub.add_parser("rewrap", help="Re-wrap data keys still under an older master key.")
        retire = sub.add_parser("retire", help="Remove an old master key no record uses.")
        retire.add_argument("key_id")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except (ImproperlyConfigured, ValueError, keys.KeyringError) as error:
            raise CommandError(str(error)) from error

    def do_status(self, **options):
        self.stdout.write(f"Current master key: {keys.keyring().current_id}")
        for model, counter in services.key_usage().items():
            for key_id, count in sorted(counter.items()):
                self.stdout.write(f"  {model:<28} {key_id:<20} {count:>10,}")

    def do_rotate(self, **options):
        key_id = services.add_master_key()
        self.stdout.write(f"New current master key: {key_id}")
        self.do_rewrap()

    def do_rewrap(self, **options):
        count = services.rewrap_all()
        audit.record(
            None,
            audit.Action.KEY_ROTATION,
            purpose="master key rotation",
            details={"rewrapped": count, "current_key": keys.keyring().current_id},
        )
        self.stdout.write(f"Re-wrapped {count:,} data keys under {keys.keyring().current_id}.")

    def do_retire(self, key_id, **options):
        services.retire_master_key(key_id)
        self.stdout.write(f"Master key {key_id} retired.")
