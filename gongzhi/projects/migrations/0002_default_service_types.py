"""The ten kinds of project service of the mechanism, as a starting list the county edits."""

from django.db import migrations

DEFAULTS = [
    ("opinions", "征求业主意见"),
    ("progress", "推进施工进度"),
    ("disputes", "化解项目矛盾纠纷"),
    ("funds", "筹集项目资金"),
    ("labour", "组织志愿筹劳"),
    ("quality", "质量监督"),
    ("safety", "安全巡查"),
    ("acceptance", "竣工验收"),
    ("notice", "公开公示"),
    ("aftercare", "后续管护"),
]


def add_defaults(apps, schema_editor):
    ServiceType = apps.get_model("projects", "ServiceType")
    for position, (code, name) in enumerate(DEFAULTS):
        ServiceType.objects.get_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
