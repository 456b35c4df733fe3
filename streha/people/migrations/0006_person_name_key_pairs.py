"""Pair entries in the per-name index (``token_search.with_pairs``), written from the entries
already stored: nothing is decrypted, and a person whose entries were current stays current.
A person whose entries were not current gets pairs as stale as their entries, until ``streha
reindex_names`` rewrites both."""

from itertools import groupby

from django.db import migrations, models

PAIR = "&"  # as ``streha.protection.token_search.PAIR`` when this was written
PERSONS_PER_BATCH = 5000


def write_pairs(apps, schema_editor):
    PersonNameKey = apps.get_model("people", "PersonNameKey")
    entries = PersonNameKey.objects.using(schema_editor.connection.alias)
    singles = entries.exclude(digest__contains=PAIR)
    last = 0
    while True:
        window = list(
            singles.filter(person_id__gt=last)
            .order_by("person_id")
            .values_list("person_id", flat=True)
            .distinct()[:PERSONS_PER_BATCH]
        )
        if not window:
            return
        rows = (
            singles.filter(person_id__gte=window[0], person_id__lte=window[-1])
            .order_by("person_id", "digest")
            .values_list("person_id", "digest")
        )
        pairs = []
        for person_id, held in groupby(rows, key=lambda row: row[0]):
            digests = sorted({digest for _person, digest in held})
            pairs += [
                PersonNameKey(person_id=person_id, digest=f"{a}{PAIR}{b}")
                for i, a in enumerate(digests)
                for b in digests[i + 1 :]
            ]
        entries.bulk_create(pairs, batch_size=1000, ignore_conflicts=True)
        last = window[-1]


def remove_pairs(apps, schema_editor):
    PersonNameKey = apps.get_model("people", "PersonNameKey")
    PersonNameKey.objects.using(schema_editor.connection.alias).filter(
        digest__contains=PAIR
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_person_person_created_idx"),
    ]

    operations = [
        migrations.AlterField(
            model_name="personnamekey",
            name="digest",
            field=models.CharField(max_length=48),
        ),
        migrations.RunPython(write_pairs, remove_pairs, elidable=True),
    ]
