"""manage.py recompute_credit [--date YYYY-MM-DD]: recompute every enterprise's credit score (nightly: records leave
their publication periods by date)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiancai.credit.actions import recompute_scores


class Command(BaseCommand):
    help = "重新计算所有企业的信用分（记录过公示期后不再计分）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="计分日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args: Any, **options: Any) -> None:
        on = None
        if options.get("date"):
            try:
                on = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("日期格式应为 YYYY-MM-DD") from exc
        changed = recompute_scores(on=on)
        self.stdout.write(f"信用分已重新计算，{changed} 家企业的信用分有变动")
