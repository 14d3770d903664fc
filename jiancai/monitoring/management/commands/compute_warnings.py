"""python manage.py compute_warnings [YYYY-MM]: compute the month's quality, supply-demand and price warnings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jiancai.monitoring.models import WarningKind
from jiancai.monitoring.warnings import compute_warnings


class Command(BaseCommand):
    help = "计算某月的质量、供需、价格预警（默认本月），替换该月原有结果"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("month", nargs="?", help="月份，YYYY-MM，默认本月")

    def handle(self, *args: Any, **options: Any) -> None:
        month = options["month"]
        try:
            day = dt.date.fromisoformat(f"{month}-01") if month else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"月份应为 YYYY-MM 格式：{month}") from exc
        rows = compute_warnings(day)
        labels = dict(WarningKind.choices)
        counts: dict[str, int] = {}
        for w in rows:
            counts[w.kind] = counts.get(w.kind, 0) + 1
            self.stdout.write(f"[{labels[w.kind]}] {w.message}")
        summary = "，".join(f"{labels[k]} {n} 条" for k, n in counts.items()) or "无预警"
        self.stdout.write(self.style.SUCCESS(f"{day:%Y年%m月}：{summary}"))
