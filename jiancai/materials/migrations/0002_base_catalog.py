"""The base material catalog and usage references of FORMATS.md (regulators replace them with their own)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

CATEGORIES = [
    # code, name, unit, witness re-test, batch size, rule
    ("GJ", "钢筋", "t", True, "60", "同一牌号、同一规格每60 t为一批"),
    ("XG", "型钢及钢结构构件", "t", True, "60", "每60 t为一批"),
    ("SN", "水泥", "t", True, "500", "散装每500 t、袋装每200 t为一批"),
    ("HNT", "预拌混凝土", "m³", True, "100", "同一强度等级每100 m³为一批（一次浇筑超过1000 m³时每200 m³）"),
    ("SJ", "预拌砂浆", "t", True, None, "砌筑砂浆每250 m³为一批（与计量单位t不同，需按当地规定设定）"),
    ("SS", "砂石", "t", True, "600", "每600 t为一批"),
    ("QT", "墙体材料", "m³", True, None, "按当地规定设定"),
    ("FS", "防水材料", "m²", True, None, "按当地规定设定"),
    ("BW", "保温材料", "m³", True, None, "按当地规定设定"),
    ("MC", "门窗", "樘", True, None, "按当地规定设定"),
    ("GC", "管材管件", "m", False, None, ""),
    ("TL", "建筑涂料", "t", False, None, ""),
    ("YZ", "预制构件", "m³", True, None, "按当地规定设定"),
    ("DL", "电线电缆", "m", True, None, "按当地规定设定"),
]
USAGE = {
    ("GJ", "kg/㎡"): {
        "砖混": ("25", "35"),
        "框架": ("40", "60"),
        "剪力墙": ("45", "65"),
        "框架-剪力墙": ("50", "70"),
        "框架-核心筒": ("60", "80"),
    },
    ("HNT", "m³/㎡"): {
        "砖混": ("0.20", "0.30"),
        "框架": ("0.30", "0.40"),
        "剪力墙": ("0.40", "0.55"),
        "框架-剪力墙": ("0.35", "0.50"),
        "框架-核心筒": ("0.40", "0.55"),
    },
}
SINCE = dt.date(2000, 1, 1)


def forwards(apps, schema_editor):
    Category = apps.get_model("materials", "MaterialCategory")
    Usage = apps.get_model("materials", "UsageReference")
    for i, (code, name, unit, retest, batch, rule) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "witness_retest_required": retest,
                "batch_size": Decimal(batch) if batch else None,
                "batch_rule": rule,
                "sort": i,
            },
        )
    for (code, per_unit), ranges in USAGE.items():
        category = Category.objects.get(code=code)
        for structure, (low, high) in ranges.items():
            Usage.objects.get_or_create(
                category=category,
                structure_type=structure,
                effective_until=None,
                defaults={
                    "min_per_m2": Decimal(low),
                    "max_per_m2": Decimal(high),
                    "per_m2_unit": per_unit,
                    "effective_from": SINCE,
                },
            )


def backwards(apps, schema_editor):
    apps.get_model("materials", "UsageReference").objects.all().delete()
    apps.get_model("materials", "MaterialCategory").objects.filter(code__in=[c[0] for c in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("materials", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
