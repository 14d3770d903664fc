"""The bulk-import pages: upload, background job, progress polling, bad-row table, error file, templates and who
sees which job."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.filings import import_jobs
from jiancai.filings.models import ImportJob, ImportStatus, Supply

from .import_helpers import SUPPLY_HEADERS, csv_bytes, read_csv, supply_row, xlsx_bytes


@pytest.fixture(autouse=True)
def import_settings(settings: Any, tmp_path: Path) -> None:
    settings.IMPORT_DIR = tmp_path / "imports"
    settings.IMPORT_RUN_INLINE = True


def client_for(world: World, persona: str) -> Client:
    client = Client()
    login_as(client, world[persona])
    return client


def upload(client: Client, data: bytes, name: str = "供应记录.csv", kind: str = "supply") -> Any:
    return client.post("/imports/new/", {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_upload_page_offers_the_kinds_the_enterprise_files_and_their_templates(world: World) -> None:
    page = client_for(world, "a_staff").get("/imports/new/").content.decode()
    assert '<option value="supply">供应记录</option>' in page and '<option value="tender">招投标结果</option>' in page
    assert 'value="purchase"' not in page  # A is no contractor
    assert "/imports/templates/supply.xlsx" in page and "/imports/templates/supply.csv" in page


def test_upload_runs_the_job_and_the_page_shows_counts_and_bad_rows(world: World) -> None:
    client = client_for(world, "a_staff")
    rows = [supply_row(world, 1), supply_row(world, 2, 数量="=1+1"), supply_row(world, 3)]
    response = upload(client, csv_bytes(rows, encoding="gb18030"))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert (job.status, job.encoding, job.rows_seen, job.created_count, job.refused_count) == (
        "done",
        "GB18030",
        3,
        2,
        1,
    )
    assert job.errors == [
        {"row": 3, "column": "数量", "value": "=1+1", "reason": "以公式字符开头，为防止公式注入不予接收，请填写数值"}
    ]
    assert Supply.objects.count() == 2 and job.organization == world.a and job.uploaded_by == world["a_staff"]
    upload_event = AuditEvent.objects.get(target_type="filings.importjob", action="create")
    assert upload_event.changes["file"] == "供应记录.csv" and upload_event.actor_id == world["a_staff"].pk

    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "已完成" in page and 'id="import-errors"' in page and "以公式字符开头" in page
    assert "hx-trigger" not in page  # finished: no more polling
    assert f"/imports/{job.pk}/errors.csv" in page

    download = client.get(f"/imports/{job.pk}/errors.csv")
    lines = read_csv(download.getvalue())
    assert lines == [
        ["行号", "列", "值", "原因"],
        ["3", "数量", "'=1+1", "以公式字符开头，为防止公式注入不予接收，请填写数值"],
    ]
    assert AuditEvent.objects.filter(action="export", target_type="filings.importjob").count() == 1

    # The same file again: nothing new.
    upload(client, csv_bytes(rows, encoding="gb18030"))
    again = ImportJob.objects.first()
    assert again is not None and (again.unchanged_count, again.created_count, again.refused_count) == (2, 0, 1)
    assert Supply.objects.count() == 2


def test_a_running_job_polls_and_a_finished_one_stops(world: World) -> None:
    client = client_for(world, "a_staff")
    job = ImportJob.objects.create(
        kind="supply", original_name="大文件.csv", stored_name="x.csv", organization=world.a, rows_expected=20000
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, rows_seen=5000)
    partial = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('\n<div id="import-result" hx-get="/imports/') and 'hx-trigger="every 2s"' in partial
    assert "已处理 5000 行，约 20000 行（25%）" in partial and "<html" not in partial
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)
    assert "hx-trigger" not in client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()


def test_xlsx_upload_and_file_level_failures(world: World) -> None:
    client = client_for(world, "a_staff")
    upload(client, xlsx_bytes([SUPPLY_HEADERS, [supply_row(world, 1)[h] for h in SUPPLY_HEADERS]]), name="供应.xlsx")
    assert ImportJob.objects.get().created_count == 1

    upload(client, "供应单号,数量\n".encode() + b"\x81\x30\xff\xfe\n")
    failed = ImportJob.objects.first()
    assert failed is not None and failed.status == ImportStatus.FAILED
    assert "文件编码无法识别" in client.get(f"/imports/{failed.pk}/").content.decode()

    upload(client, csv_bytes([supply_row(world, 2)], headers=[h for h in SUPPLY_HEADERS if h != "数量"]))
    missing = ImportJob.objects.first()
    assert missing is not None and missing.message.startswith("缺少必填列：数量") and missing.rows_seen == 0
    assert Supply.objects.count() == 1


def test_bad_files_are_refused_on_the_upload_form(world: World, settings: Any) -> None:
    client = client_for(world, "a_staff")
    response = upload(client, b"\x89PNG\r\n\x1a\n\x00\x00", name="photo.csv")
    assert response.status_code == 400 and "文件不是CSV或XLSX格式" in response.content.decode()
    response = upload(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", name="old.xls")
    assert "不支持旧版Excel（.xls）文件" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 1024
    response = upload(client, csv_bytes([supply_row(world, n) for n in range(30)]))
    assert response.status_code == 400 and "超过上限 1.0 KB" in response.content.decode()
    response = upload(client, csv_bytes([supply_row(world, 1)]), kind="purchase")
    assert response.status_code == 400  # not a kind A files
    assert not ImportJob.objects.exists() and not Supply.objects.exists()


def test_who_sees_and_starts_imports(world: World) -> None:
    upload(client_for(world, "a_staff"), csv_bytes([supply_row(world, 1)]))
    job = ImportJob.objects.get()
    assert client_for(world, "a_admin").get(f"/imports/{job.pk}/").status_code == 200  # same organization
    assert client_for(world, "cy_biz").get(f"/imports/{job.pk}/").status_code == 200  # A is in 朝阳区
    assert client_for(world, "b_staff").get(f"/imports/{job.pk}/").status_code == 403
    assert client_for(world, "b_staff").get(f"/imports/{job.pk}/errors.csv").status_code == 403
    assert "北京朝建建材有限公司" not in client_for(world, "b_staff").get("/imports/").content.decode()
    assert job.original_name in client_for(world, "city_biz").get("/imports/").content.decode()
    assert client_for(world, "cy_biz").get("/imports/new/").status_code == 403  # regulators do not file
    assert client_for(world, "city_audit").get("/imports/").status_code == 403
    b = client_for(world, "b_staff")
    assert 'value="purchase"' in b.get("/imports/new/").content.decode()


def test_template_downloads(world: World) -> None:
    client = client_for(world, "b_staff")
    xlsx = client.get("/imports/templates/purchase.xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in xlsx["Content-Disposition"]
    assert client.get("/imports/templates/purchase.csv").content.decode("utf-8-sig").startswith("采购单号,")
    assert client.get("/imports/templates/nothing.csv").status_code == 404
    assert client.get("/imports/templates/purchase.pdf").status_code == 404


def test_without_redis_the_job_runs_in_a_thread_after_commit(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_RUN_INLINE = False
    settings.REDIS_URL = ""
    ran: list[tuple[int, str]] = []
    monkeypatch.setattr(import_jobs, "run_import_job", lambda pk: ran.append((pk, threading.current_thread().name)))
    client = client_for(world, "a_staff")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, csv_bytes([supply_row(world, 1)]))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and len(callbacks) == 1 and job.status == ImportStatus.QUEUED
    for thread in threading.enumerate():
        if thread.name == f"import-job-{job.pk}":
            assert thread.daemon
            thread.join(5)
    assert ran == [(job.pk, f"import-job-{job.pk}")]


def test_with_redis_the_job_goes_to_celery_after_commit(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from jiancai.filings import tasks

    settings.IMPORT_RUN_INLINE = False
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    queued: list[int] = []
    monkeypatch.setattr(tasks.run_import_job_task, "delay", queued.append)
    client = client_for(world, "a_staff")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, csv_bytes([supply_row(world, 1)]))
    assert queued == [ImportJob.objects.get().pk]
    # What the worker then runs:
    assert tasks.run_import_job_task.run(queued[0]) == "done"
    assert Supply.objects.count() == 1
