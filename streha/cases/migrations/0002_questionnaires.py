from django.db import migrations


def seed(apps, schema_editor):
    from streha.cases.questionnaires import seed as seed_questionnaires

    seed_questionnaires(apps.get_model("cases", "Questionnaire"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
