from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tips", "0002_default_campaign_pages"),
    ]

    operations = [
        migrations.AddField(
            model_name="tip",
            name="erased_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="content erased"
            ),
        ),
        migrations.AddField(
            model_name="tip",
            name="converted_kind",
            field=models.CharField(
                blank=True,
                choices=[("police_report", "Police report"), ("victim_case", "Victim case")],
                max_length=20,
                verbose_name="converted into a",
            ),
        ),
    ]
