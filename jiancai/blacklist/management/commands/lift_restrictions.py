"""Record the lifting of restrictions past their end and the exit of entries past their period (also a beat task)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jiancai.blacklist.actions import lift_due


class Command(BaseCommand):
    help = "解除到期的限制措施、移出期满的黑名单，并通知新开始限制措施的相关项目 Lift restrictions that are due"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=dt.date.fromisoformat, help="按此日期处理 (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = lift_due(today=options.get("today"))
        self.stdout.write(
            f"解除限制措施 {counts['lifted']} 项，期满移出黑名单 {counts['exited']} 条，通知新开始的限制措施 "
            f"{counts['notified']} 项 (lifted {counts['lifted']}, exited {counts['exited']}, "
            f"notified {counts['notified']})"
        )
