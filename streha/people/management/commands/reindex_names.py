from django.core.management.base import BaseCommand

from streha.people.name_index import reindex_names


class Command(BaseCommand):
    help = (
        "Rebuild the per-name search index of every person (after upgrading, or after "
        "STREHA_NAME_TOKEN_INDEX_BITS or the index key changed). Idempotent, in batches, "
        "inside one audited system read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--missing",
            action="store_true",
            help="Only persons whose entries are not known to be current (no marker, or one "
            "of another key or bits).",
        )

    def handle(self, *args, batch_size, missing, **options):
        examined, changed = reindex_names(max(1, batch_size), only_missing=missing)
        self.stdout.write(f"Examined {examined:,} persons; re-indexed {changed:,}.")
