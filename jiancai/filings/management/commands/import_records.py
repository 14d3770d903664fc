"""manage.py import_records <kind> <file>: the bulk import from the command line, for a regulator's IT staff."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiancai.accounts.context import context_for
from jiancai.accounts.models import User
from jiancai.audit.actions import AuditContext
from jiancai.filings.imports import IMPORT_SCHEMAS, ErrorCsvWriter, ImportFileError, ImportReport, RowError, run_import
from jiancai.filings.registry_imports import REGISTRY_SCHEMAS

CLI_CONTEXT = AuditContext(actor_name="命令行导入")


class Command(BaseCommand):
    help = (
        "从CSV或XLSX文件批量导入记录（格式见 FORMATS.md）。填报记录（supply、purchase、test_report、tender、ticket、"
        "project_event）代各行所列单位填报；登记类记录（enterprise、qualification、capacity、project、product_filing、"
        "catalog_entry）必须用 --as <用户名> 指定代为导入的用户（如住建委系统管理员登记企业、监管业务人员维护目录、"
        "企业用户导入本单位的资质、产能、项目、产品备案），按该用户的权限逐行检查并记入审计。"
        "逐行列出被拒绝的行，最后输出汇总；有行被拒绝或文件无法导入时退出码为1。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(IMPORT_SCHEMAS), help="记录类型")
        parser.add_argument("file", help="CSV（UTF-8、UTF-8 BOM或GB18030）或XLSX文件")
        parser.add_argument("--error-file", help="另将错误明细写入此CSV文件（UTF-8 BOM）")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="以该用户的身份导入（登记类记录必填；填报记录可选，给出时按该用户的权限检查）",
        )

    def handle(
        self,
        *args: Any,
        kind: str,
        file: str,
        error_file: str | None = None,
        as_user: str | None = None,
        **options: Any,
    ) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        actor: User | None = None
        context = CLI_CONTEXT
        if as_user:
            actor = User.objects.select_related("organization").filter(username=as_user).first()
            if actor is None or not actor.is_active:
                raise CommandError(f"用户不存在或已停用：{as_user}")
            name = f"{actor.display_name or as_user}（命令行导入）"
            context = dataclasses.replace(context_for(actor), actor_name=name)
        elif kind in REGISTRY_SCHEMAS:
            raise CommandError(f"导入{IMPORT_SCHEMAS[kind].title}须用 --as <用户名> 指定代为导入的用户")
        verbosity = int(options.get("verbosity", 1))
        sink = Path(error_file).open("w", encoding="utf-8-sig", newline="") if error_file else None
        writer = ErrorCsvWriter(sink) if sink else None

        def on_error(error: RowError) -> None:
            self.stdout.write(f"第{error.row}行 [{error.column}] {error.reason}")
            if writer is not None:
                writer.write(error)

        def on_progress(report: ImportReport) -> None:
            if verbosity >= 2:
                self.stderr.write(f"已处理 {report.rows} 行")

        try:
            report = run_import(kind, path, context=context, actor=actor, on_error=on_error, on_progress=on_progress)
            if writer is not None:
                writer.write_notes(report)
        except ImportFileError as exc:
            raise CommandError(exc.message) from exc
        finally:
            if sink is not None:
                sink.close()
        for warning in report.warnings:
            self.stdout.write(f"提示：{warning}")
        self.stdout.write(f"{IMPORT_SCHEMAS[kind].title}：{report.summary_text()}")
        if report.file_error:
            raise CommandError(report.file_error)
        if report.refused:
            raise CommandError(f"{report.refused} 行被拒绝，见上方列出的原因")
