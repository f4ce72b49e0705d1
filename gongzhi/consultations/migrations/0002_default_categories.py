from django.db import migrations

CATEGORIES = [
    ("pipes", "上下水管网"),
    ("roof", "屋面防水"),
    ("facade", "外立面"),
    ("parking", "停车"),
    ("greening", "绿化"),
    ("lighting", "照明"),
    ("disturbance", "施工扰民"),
    ("cost", "费用分摊"),
    ("other", "其他"),
]


def add_categories(apps, schema_editor):
    OpinionCategory = apps.get_model("consultations", "OpinionCategory")
    for order, (code, name) in enumerate(CATEGORIES, start=1):
        OpinionCategory.objects.get_or_create(code=code, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("consultations", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
