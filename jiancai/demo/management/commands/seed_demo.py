"""seed_demo: fill the database with deterministic demo data and print the demo logins."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiancai.demo.generator import (
    COUNT_LABELS,
    DEMO_PASSWORD,
    DemoDataExists,
    DemoLogin,
    existing_demo_logins,
    generate,
)
from jiancai.demo.tables import render_table
from jiancai.monitoring.dispatch import collected


class Command(BaseCommand):
    help = (
        "生成演示数据（监管机构、各类企业、资质、产能、人员、工程项目及演示账号）。"
        "Generate deterministic demo data and print the demo logins."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="随机种子 random seed (default 42)")
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="规模倍数 scale: 1 ≈ 30 enterprises, 62 persons, 40 projects; counts grow linearly (default 1)",
        )
        parser.add_argument(
            "--clean",
            action="store_true",
            help="不植入异常样本、不运行比对 no planted anomalies and no cross-check run (clean data only)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="演示数据已存在时跳过并正常退出 exit successfully (doing nothing) when demo data already exists",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed: int = options["seed"]
        scale: int = options["scale"]
        if scale < 1:
            raise CommandError("--scale 必须为正整数 / --scale must be at least 1")
        verbosity: int = options["verbosity"]
        progress = (lambda message: self.stderr.write(f"  … {message}")) if verbosity >= 2 else None
        try:
            # The demo's own filings are checked by one full run at the end (_plant_and_check), not per filing.
            with collected(evaluate_at_end=False):
                summary = generate(seed=seed, scale=scale, progress=progress)
        except DemoDataExists as exc:
            if not options["if_empty"]:
                raise CommandError(f"{exc} / demo data already exists; nothing was changed") from exc
            self.stdout.write(f"{exc} / demo data already exists; nothing was changed.")
            self._print_logins(existing_demo_logins())
            return

        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已生成 Demo data created (seed={summary.seed}, scale={summary.scale}, "
                f"{summary.seconds:.1f} s)"
            )
        )
        from jiancai.demo.credit import seed_credit

        records = seed_credit(seed=seed)
        self.stdout.write(f"已生成信用行为记录 {records} 条并完成计分 Created {records} credit records and scores")
        if not options["clean"]:
            self._plant_and_check(seed)
        from jiancai.demo.notices import seed_notices

        seed_notices()
        self.stdout.write("")
        rows = [[f"{zh} {en}", f"{summary.counts.get(key, 0):,}"] for key, (zh, en) in COUNT_LABELS.items()]
        self.stdout.write(render_table(["数据 Records", "数量 Count"], rows))
        self._print_logins(summary.logins)

    def _plant_and_check(self, seed: int) -> None:
        """Plant the anomalies of every rule, run the cross-checks and this month's warnings, so the demo's
        regulators have alerts and warnings to work."""
        from django.utils import timezone

        from jiancai.demo.anomalies import plant_anomalies
        from jiancai.monitoring.engine import evaluate
        from jiancai.monitoring.warnings import compute_warnings, previous_month

        today = timezone.localdate()
        from jiancai.demo.blacklist import seed_blacklist

        with collected(evaluate_at_end=False):  # one full run below instead of one per planted filing
            planted = plant_anomalies(seed=seed, today=today)
            entry = seed_blacklist(today)
        result = evaluate(today=today)
        for month in (previous_month(today), today):
            compute_warnings(month)
        self.stdout.write(
            f"已植入异常样本 {len(planted)} 个，比对发现预警 {result.total.findings} 条 "
            f"Planted {len(planted)} anomalies; the cross-checks found {result.total.findings}"
        )
        self.stdout.write(
            f"失信黑名单演示：{entry.enterprise.name} 已列入（{entry.entry_no}），"
            "附禁止投标限制措施和一份待审核的信用修复申请 "
            f"Blacklist demo: {entry.entry_no} with a tender ban and a pending repair application"
        )

    def _print_logins(self, logins: list[DemoLogin]) -> None:
        self.stdout.write("")
        self.stdout.write(f"演示账号 Demo logins — 密码均为 all passwords: {DEMO_PASSWORD}")
        rows = [
            [
                login.username,
                login.password,
                f"{login.role_label} {login.role}",
                login.display_name,
                login.organization,
                login.totp_secret or "—",
            ]
            for login in logins
        ]
        headers = [
            "用户名 Username",
            "密码 Password",
            "角色 Role",
            "姓名 Name",
            "机构 Organization",
            "动态口令密钥 TOTP secret",
        ]
        self.stdout.write(render_table(headers, rows))
        self.stdout.write("")
        self.stdout.write(
            "监管账号登录须输入动态口令：将密钥添加到验证器应用，或运行 python manage.py demo_totp <用户名>。\n"
            "Regulator logins need a TOTP code: add the secret to an authenticator app, "
            "or run `python manage.py demo_totp <username>`."
        )
