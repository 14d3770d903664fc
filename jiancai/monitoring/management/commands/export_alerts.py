"""python manage.py export_alerts <file.csv> [--rule XC01 ...] [--district 朝阳区] [--all]

Writes the open alerts (active and escalated; with --all every alert) as UTF-8 CSV with a BOM, with the columns of
the web export (monitoring.exports): rule code, the subject's natural key, message, status, parameters, …
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiancai.accounts.models import District
from jiancai.monitoring.exports import export_rows, write_csv
from jiancai.monitoring.models import ACTIVE_STATUSES, Alert, AlertStatus
from jiancai.monitoring.rules import RULES


class Command(BaseCommand):
    help = "导出未结预警（处理中及已立案）为 CSV（UTF-8 带 BOM，Excel 可直接打开）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="输出文件路径（.csv）；“-”写到标准输出")
        parser.add_argument("--rule", action="append", dest="rules", metavar="CODE", help="只导出该规则的预警，可重复")
        parser.add_argument("--district", help="只导出该区的预警（区名，如 朝阳区）")
        parser.add_argument("--all", action="store_true", help="导出全部预警（含已消除、已排除、已结案）")

    def handle(self, *args: Any, **options: Any) -> None:
        alerts = Alert.objects.order_by("raised_at", "id")
        if not options["all"]:
            alerts = alerts.filter(status__in=(*ACTIVE_STATUSES, AlertStatus.ESCALATED))
        codes = [c.upper() for c in options["rules"] or []]
        unknown = [c for c in codes if c not in RULES]
        if unknown:
            raise CommandError(f"未知的规则编号：{'、'.join(unknown)}（可用：{'、'.join(RULES)}）")
        if codes:
            alerts = alerts.filter(rule__code__in=codes)
        if options["district"]:
            district = District.objects.filter(name=options["district"].strip()).first()
            if district is None:
                names = "、".join(District.objects.values_list("name", flat=True))
                raise CommandError(f"未知的区：{options['district']}（可用：{names}）")
            alerts = alerts.filter(district=district)
        if options["file"] == "-":
            buffer = io.StringIO()
            write_csv(buffer, export_rows(alerts))
            self.stdout.write(buffer.getvalue(), ending="")
        else:
            path = Path(options["file"])
            with path.open("w", encoding="utf-8", newline="") as stream:
                count = write_csv(stream, export_rows(alerts))
            self.stdout.write(self.style.SUCCESS(f"已导出 {count} 条预警到 {path}"))
