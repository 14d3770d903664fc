"""`manage.py rebuild_rollups [--kind supply …]`: recompute the dashboard rollup tables from the base tables."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jiancai.analytics import rollups


class Command(BaseCommand):
    help = "从基础数据重新计算数据分析汇总表（填报、供应企业活跃度、预警）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", action="append", choices=list(rollups.SPECS), help="只重算这些记录类型")
        parser.add_argument("--no-alerts", action="store_true", help="不重算预警汇总")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        counts = rollups.rebuild(options["kind"], alerts=not options["no_alerts"])
        for name, rows in counts.items():
            self.stdout.write(f"{name}: {rows} 行汇总")
        self.stdout.write(f"完成，用时 {time.perf_counter() - started:.1f} 秒")
