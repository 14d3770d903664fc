"""Bulk-import jobs: an uploaded file becomes an ImportJob that runs in the background (filings.imports).

Where the job runs:

* `REDIS_URL` set: the Celery task `filings.run_import_job` is queued once the upload's transaction commits;
  a worker runs it (the worker must see `IMPORT_DIR`, e.g. a shared volume).
* no `REDIS_URL` (the local demo and single-server installs, where Celery runs tasks eagerly inside the
  request): a daemon thread of the web process runs the job once the upload commits, so the request returns
  at once. A restart of the web process abandons a running job; the job page then shows it as stalled and
  the user uploads the file again (rows already stored stay and are not duplicated).
* `IMPORT_RUN_INLINE = True` (tests): the job runs before the upload request returns.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connections, transaction
from django.utils import timezone

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.context import context_for
from jiancai.accounts.models import User
from jiancai.audit.actions import AuditContext, record_event
from jiancai.audit.models import AuditAction

from .actions import FILER_KINDS
from .imports import (
    ERRORS_KEPT,
    IMPORT_SCHEMAS,
    ErrorCsvWriter,
    ImportFileError,
    ImportReport,
    check_size,
    run_import,
    sniff_format,
)
from .models import FILING_MODELS, ImportJob, ImportStatus
from .registry_imports import registry_kinds_for
from .schemas import SCHEMAS

logger = logging.getLogger(__name__)

STALLED_AFTER_SECONDS = 15 * 60  # a running job without progress for this long is shown as stalled


def import_dir() -> Path:
    return Path(settings.IMPORT_DIR)


def stored_path(job: ImportJob) -> Path:
    return import_dir() / job.stored_name


def error_path(job: ImportJob) -> Path:
    return import_dir() / f"{job.stored_name}.errors.csv"


def importable_kinds(user: Any) -> list[str]:
    """The record kinds the user's organization may file and the user's role may import: filings by the
    enterprise's kinds (`FILER_KINDS`), registry records by the role that owns them (`registry_kinds_for`)."""
    org = getattr(user, "organization", None)
    if org is None:
        return []
    codes = set(org.kinds.values_list("code", flat=True))
    filings = [k for k in SCHEMAS if FILER_KINDS[k] & codes and role_allows(user, FILING_MODELS[k], Action.CHANGE)]
    return filings + registry_kinds_for(user)


def is_stalled(job: ImportJob) -> bool:
    return job.is_active and (timezone.now() - job.updated_at).total_seconds() > STALLED_AFTER_SECONDS


def create_import_job(*, kind: str, upload: UploadedFile, user: User, context: AuditContext) -> ImportJob:
    """Store the uploaded file and record the job (audited). The caller then calls `enqueue`."""
    if kind not in IMPORT_SCHEMAS:
        raise ValidationError({"kind": f"未知的记录类型“{kind}”"})
    if kind not in importable_kinds(user):
        raise PermissionDenied(f"无权导入{IMPORT_SCHEMAS[kind].title}")
    size = upload.size or 0
    try:
        check_size(size)
        head = next(upload.chunks(64 * 1024), b"")
        sniff_format(head)
    except ImportFileError as exc:
        raise ValidationError({"file": exc.message}) from exc
    name = Path(upload.name or "upload").name[-200:]
    today = timezone.localdate()
    stored_name = f"{today:%Y/%m}/{uuid.uuid4().hex}{Path(name).suffix.lower()[:8]}"
    target = import_dir() / stored_name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    organization = user.organization
    if organization is None:  # pragma: no cover - importable_kinds already requires one
        raise PermissionDenied("没有所属单位的用户不能导入")
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            original_name=name,
            stored_name=stored_name,
            file_size=size,
            organization=organization,
            uploaded_by=user,
            uploaded_by_name=context.actor_name,
            ip_address=context.ip_address,
        )
        record_event(
            context=context,
            action=AuditAction.CREATE,
            target=job,
            changes={"kind": IMPORT_SCHEMAS[kind].title, "file": name, "size": size},
        )
    return job


def enqueue(job: ImportJob) -> None:
    """Run the job in the background once the current transaction commits (see the module docstring)."""
    if getattr(settings, "IMPORT_RUN_INLINE", False):
        run_import_job(job.pk)
    elif settings.REDIS_URL:
        from .tasks import run_import_job_task

        transaction.on_commit(lambda: run_import_job_task.delay(job.pk))
    else:
        transaction.on_commit(lambda: start_thread(job.pk))


def start_thread(job_id: int) -> threading.Thread:
    thread = threading.Thread(target=_thread_main, args=(job_id,), name=f"import-job-{job_id}", daemon=True)
    thread.start()
    return thread


def _thread_main(job_id: int) -> None:
    try:
        run_import_job(job_id)
    except Exception:  # the job row carries the failure; nothing else to tell
        logger.exception("import job %s failed", job_id)
    finally:
        connections.close_all()


def _save_progress(job_id: int, report: ImportReport, **extra: Any) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        file_format=report.file_format,
        encoding=report.encoding,
        rows_expected=report.rows_expected,
        rows_seen=report.rows,
        created_count=report.created,
        updated_count=report.updated,
        unchanged_count=report.unchanged,
        refused_count=report.refused,
        error_total=report.error_total,
        updated_at=timezone.now(),
        **extra,
    )


def run_import_job(job_id: int) -> ImportJob:
    """Process a queued job: import its file, write the error file, record the outcome. Safe to run again."""
    job = ImportJob.objects.select_related("uploaded_by", "organization").get(pk=job_id)
    if job.status == ImportStatus.DONE:
        return job
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    user = job.uploaded_by
    report = ImportReport(kind=job.kind)
    latest = [report]  # the report as of the last chunk, should the import break off

    def progress(current: ImportReport) -> None:
        latest[0] = current
        _save_progress(job_id, current)

    try:
        if user is None or not user.is_active:
            report.file_error = "导入人的账户已删除或停用，导入未执行"
        else:
            context = context_for(user, job.ip_address)
            with error_path(job).open("w", encoding="utf-8-sig", newline="") as fh:
                writer = ErrorCsvWriter(fh)
                report = run_import(
                    job.kind,
                    stored_path(job),
                    context=context,
                    actor=user,
                    on_error=writer.write,
                    on_progress=progress,
                )
                writer.write_notes(report)
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        report = latest[0]
        report.file_error = (
            f"导入过程中发生内部错误（{type(exc).__name__}），已处理 {report.rows} 行；"
            "已保存的行不受影响，重新导入同一文件不会产生重复"
        )
    _save_progress(
        job_id,
        report,
        status=ImportStatus.FAILED if report.file_error else ImportStatus.DONE,
        errors=[e.as_dict() for e in report.errors[:ERRORS_KEPT]],
        warnings=report.warnings,
        message=report.file_error,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job
