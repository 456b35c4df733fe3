from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from streha.protection import keys, services


class Command(BaseCommand):
    help = (
        "Master keys: status, rotate (new key + re-wrap every data key), rewrap, "
        "retire (disable, then destroy after a grace period), reindex."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="Which master key each record's data key is wrapped with.")
        sub.add_parser("rotate", help="Add a new current master key and re-wrap all data keys.")
        sub.add_parser(
            "rewrap", help="Re-wrap data keys under an older master key; upgrade old records."
        )
        retire = sub.add_parser(
            "retire",
            help="First run: disable an old master key no record uses. "
            "Second run, after the grace period: count again and destroy it.",
        )
        retire.add_argument("key_id")
        sub.add_parser("reindex", help="Recompute every blind index (after changing its bits).")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except (ImproperlyConfigured, ValueError, keys.KeyringError) as error:
            raise CommandError(str(error)) from error

    def do_status(self, **options):
        ring = keys.keyring()
        self.stdout.write(f"Current master key: {ring.current_id}")
        for key_id, since in sorted(getattr(ring, "disabled", {}).items()):
            self.stdout.write(f"Disabled (to be destroyed): {key_id} since {since}")
        for model, counter in services.key_usage().items():
            for key_id, count in sorted(counter.items()):
                self.stdout.write(f"  {model:<28} {key_id:<20} {count:>10,}")

    def do_rotate(self, **options):
        key_id = services.add_master_key()
        self.stdout.write(f"New current master key: {key_id}")
        self.do_rewrap()

    def do_rewrap(self, **options):
        count = services.rewrap_all()
        self.stdout.write(f"Re-wrapped {count:,} data keys under {keys.keyring().current_id}.")

    def do_retire(self, key_id, **options):
        step = services.retire_master_key(key_id)
        if step == "disabled":
            grace = int(services.RETIRE_GRACE.total_seconds() // 60)
            self.stdout.write(
                f"Master key {key_id} disabled: no new data key is wrapped under it. "
                f"Run `streha keys retire {key_id}` again in {grace} minutes to destroy it."
            )
        else:
            self.stdout.write(f"Master key {key_id} destroyed.")

    def do_reindex(self, **options):
        count = services.reindex_all()
        self.stdout.write(f"Recomputed the blind indexes of {count:,} records.")
