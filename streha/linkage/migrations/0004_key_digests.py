import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Per-person digests of the stored registration keys: a re-run rewrites only the keys of
    persons whose digest changed (additive; the first run after it rewrites every key once)."""

    dependencies = [
        ("linkage", "0003_blocking_keys_and_name_frequencies"),
        ("people", "0003_person_name_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeyDigest",
            fields=[
                (
                    "person",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="people.person",
                    ),
                ),
                ("digest", models.BigIntegerField()),
            ],
        ),
    ]
