from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiancai.audit.actions import SYSTEM, run_chain_verification


class Command(BaseCommand):
    help = "Verify the audit hash chain; exit non-zero when a row was edited or deleted outside the platform."

    def handle(self, *args: Any, **options: Any) -> None:
        result = run_chain_verification(context=SYSTEM)
        for problem in result.problems:
            self.stdout.write(f"#{problem['seq']} {problem['kind']}: {problem['detail']}")
        if not result.ok:
            raise CommandError(f"审计链校验失败：{len(result.problems)} 处问题（共 {result.checked} 条）")
        self.stdout.write(self.style.SUCCESS(f"审计链完好：{result.checked} 条"))
