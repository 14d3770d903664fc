"""Bulk-import pages: upload, job list, job detail with live progress, error file and template downloads."""

from __future__ import annotations

from typing import Any, TypeVar, cast
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from jiancai.accounts.access import Action, get_for, restrict, role_allows
from jiancai.accounts.context import acting_user, audit_context
from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction

from . import import_jobs
from .imports import IMPORT_SCHEMAS, ImportReport, RowError, error_csv_bytes, template_csv, template_xlsx
from .models import ImportJob

ERRORS_PER_PAGE = 100
_R = TypeVar("_R", bound=HttpResponseBase)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(response: _R, filename: str) -> _R:
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="记录类型")
    file = forms.FileField(label="导入文件")

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field = cast(forms.ChoiceField, self.fields["kind"])
        kind_field.choices = [(k, IMPORT_SCHEMAS[k].title) for k in kinds]
        self.fields["file"].help_text = (
            f"CSV（UTF-8或GB18030/GBK编码，逗号分隔）或Excel工作簿（.xlsx，读取第一张工作表），"
            f"不超过 {_megabytes(int(settings.IMPORT_MAX_BYTES))}"
        )


def _template_links(kinds: list[str]) -> list[dict[str, str]]:
    return [{"kind": k, "title": IMPORT_SCHEMAS[k].title} for k in kinds]


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not role_allows(user, ImportJob, Action.VIEW):
        raise PermissionDenied("无权查看批量导入")
    jobs = restrict(ImportJob.objects.select_related("organization"), user, Action.VIEW)
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "filings/import_list.html",
        {"title": "批量导入", "page": page, "can_upload": bool(import_jobs.importable_kinds(user))},
    )


@login_required
def job_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    kinds = import_jobs.importable_kinds(user)
    if not kinds:
        raise PermissionDenied("本单位没有可批量导入的记录类型，或您的角色无权填报")
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = import_jobs.create_import_job(
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    user=user,
                    context=audit_context(request),
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                import_jobs.enqueue(job)
                return redirect("imports:detail", pk=job.pk)
        status = 400
    context = {
        "title": "批量导入",
        "form": form,
        "templates": _template_links(kinds),
        "max_size": _megabytes(int(settings.IMPORT_MAX_BYTES)),
    }
    return render(request, "filings/import_upload.html", context, status=status)


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    job = get_for(ImportJob.objects.select_related("organization"), user, Action.VIEW, pk=pk)
    page = Paginator(job.errors or [], ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "title": f"批量导入：{job.original_name}",
        "job": job,
        "page": page,
        "stalled": import_jobs.is_stalled(job),
        "errors_truncated": job.error_total > len(job.errors or []),
        "has_error_file": bool(job.error_total or job.message or job.warnings),
    }
    template = "filings/import_progress.html" if request.headers.get("HX-Request") else "filings/import_detail.html"
    return render(request, template, context)


@login_required
def job_errors(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The error file of a job: every bad row (行号, 列, 值, 原因), file-level problems at the end."""
    user = acting_user(request)
    job = get_for(ImportJob.objects.all(), user, Action.VIEW, pk=pk)
    record_event(
        context=audit_context(request),
        action=AuditAction.EXPORT,
        target=job,
        target_repr=f"批量导入错误文件：{job.original_name}",
        changes={"rows": job.error_total},
    )
    filename = f"导入错误_{job.pk}_{timezone.localtime(job.created_at):%Y%m%d%H%M}.csv"
    path = import_jobs.error_path(job)
    if path.is_file() and not job.is_active:
        return _attachment(FileResponse(path.open("rb"), content_type="text/csv; charset=utf-8"), filename)
    # No file (the job has not run, or its file was cleaned up): what the job row keeps.
    errors = [RowError(**e) for e in job.errors or []]
    report = ImportReport(kind=job.kind, file_error=job.message, warnings=list(job.warnings or []))
    return _attachment(HttpResponse(error_csv_bytes(errors, report), content_type="text/csv; charset=utf-8"), filename)


@login_required
def template_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in IMPORT_SCHEMAS:
        raise Http404("没有该记录类型")
    title = IMPORT_SCHEMAS[kind].title
    if fmt == "xlsx":
        return _attachment(HttpResponse(template_xlsx(kind), content_type=XLSX_TYPE), f"{title}导入模板.xlsx")
    if fmt == "csv":
        return _attachment(
            HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8"), f"{title}导入模板.csv"
        )
    raise Http404("没有该格式的模板")
