from django.db import migrations


def create(apps, schema_editor):
    ScoreModel = apps.get_model("credit", "ScoreModel")
    if not ScoreModel.objects.exists():
        ScoreModel.objects.create(version=1, created_by_name="系统", reason="初始评分模型")


def remove(apps, schema_editor):
    apps.get_model("credit", "ScoreModel").objects.filter(version=1, created_by=None).delete()


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
