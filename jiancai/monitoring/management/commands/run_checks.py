"""python manage.py run_checks [--rule XC01 ...] [--today YYYY-MM-DD]: the full re-evaluation of the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.rules import RULES


class Command(BaseCommand):
    help = "全量重新比对：运行全部（或指定的）比对规则，新增、更新、自动消除预警"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rule", action="append", dest="rules", metavar="CODE", help="只运行该规则，可重复")
        parser.add_argument("--today", help="以该日期为今天（YYYY-MM-DD），用于核对宽限期")

    def handle(self, *args: Any, **options: Any) -> None:
        codes = [c.upper() for c in options["rules"] or []]
        unknown = [c for c in codes if c not in RULES]
        if unknown:
            raise CommandError(f"未知的规则编号：{'、'.join(unknown)}（可用：{'、'.join(RULES)}）")
        today = None
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(f"--today 应为 YYYY-MM-DD 格式的日期：{options['today']}") from exc
        result = evaluate(codes=codes or None, today=today)
        for code, o in result.per_rule.items():
            self.stdout.write(
                f"{code}  发现 {o.findings:>7}  新增 {o.raised:>6}  再次出现 {o.reopened:>5}  "
                f"证据更新 {o.refreshed:>5}  自动消除 {o.resolved:>5}  {o.seconds:.2f} 秒"
            )
        t = result.total
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：{len(result.per_rule)} 条规则，发现 {t.findings}，新增 {t.raised}，再次出现 {t.reopened}，"
                f"证据更新 {t.refreshed}，自动消除 {t.resolved}"
            )
        )
