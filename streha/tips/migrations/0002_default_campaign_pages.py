from django.db import migrations


def load(apps, schema_editor):
    from streha.tips.content import load_default_pages

    load_default_pages(apps.get_model("tips", "CampaignPage"))


class Migration(migrations.Migration):
    dependencies = [("tips", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
