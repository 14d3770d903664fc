"""Reference data: Beijing's 16 districts (GB/T 2260 codes) and the enterprise kinds of FORMATS.md."""

from django.db import migrations

DISTRICTS = [
    ("110101", "东城区"),
    ("110102", "西城区"),
    ("110105", "朝阳区"),
    ("110106", "丰台区"),
    ("110107", "石景山区"),
    ("110108", "海淀区"),
    ("110109", "门头沟区"),
    ("110111", "房山区"),
    ("110112", "通州区"),
    ("110113", "顺义区"),
    ("110114", "昌平区"),
    ("110115", "大兴区"),
    ("110116", "怀柔区"),
    ("110117", "平谷区"),
    ("110118", "密云区"),
    ("110119", "延庆区"),
]
KINDS = [
    ("producer", "生产企业"),
    ("supplier", "供应企业"),
    ("concrete_plant", "预拌混凝土企业"),
    ("mortar_plant", "预拌砂浆企业"),
    ("contractor", "施工单位"),
    ("builder", "建设单位"),
    ("supervisor", "监理单位"),
    ("laboratory", "检测机构"),
    ("transport", "运输企业"),
    ("ecommerce", "电商平台"),
]


def forwards(apps, schema_editor):
    District = apps.get_model("accounts", "District")
    Kind = apps.get_model("accounts", "OrganizationKind")
    District.objects.bulk_create([District(code=c, name=n) for c, n in DISTRICTS], ignore_conflicts=True)
    Kind.objects.bulk_create([Kind(code=c, name=n, sort=i) for i, (c, n) in enumerate(KINDS)], ignore_conflicts=True)


def backwards(apps, schema_editor):
    apps.get_model("accounts", "District").objects.filter(code__in=[c for c, _ in DISTRICTS]).delete()
    apps.get_model("accounts", "OrganizationKind").objects.filter(code__in=[c for c, _ in KINDS]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
