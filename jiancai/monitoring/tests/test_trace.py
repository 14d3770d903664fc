"""溯源: from a failed test, every delivery of the same producer and batch, through the funnel, exportable."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.filings.models import TestReport
from jiancai.filings.tests.records import Filers, file_as, report_row, supply_row
from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_batch(world: World, filers: Filers) -> TestReport:
    """Batch PH0001 of supplier A went to A's project (朝阳) twice and to B's project (海淀) once; the witness test
    on B's project failed. Another batch (PH0002) is not part of the trace."""
    file_as(
        world["a_staff"],
        "supply",
        supply_row(world, 1, batch_no="PH0001"),
        supply_row(world, 2, batch_no="PH0001", quantity="30"),
        supply_row(world, 3, batch_no="PH0001", project_code=world.b_project.project_code, contract_no="HT-B-001"),
        supply_row(world, 4, batch_no="PH0002"),
    )
    file_as(filers.lab_staff, "test_report", report_row(world, filers, result="不合格"))
    return TestReport.objects.get(report_no="JC-0001")


def test_city_regulator_traces_every_delivery_of_the_batch(world: World, client: Any, failed_batch: TestReport) -> None:
    login_as(client, world["city_biz"])
    page = client.get(f"/monitoring/trace/{failed_batch.pk}/").content.decode()
    assert "溯源：检测报告 JC-0001（不合格），北京朝建建材有限公司 批号 PH0001 共供货 3 笔" in page
    for number in ("GY-0001", "GY-0002", "GY-0003"):
        assert number in page
    assert "GY-0004" not in page and "共 3 条" in page
    export = client.get(f"/monitoring/trace/{failed_batch.pk}/", {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("供应单号", "项目编号", "项目名称") and len(rows) == 4
    assert AuditEvent.objects.filter(action="export", target_repr__startswith="溯源").exists()


def test_district_regulator_sees_its_district_and_a_count_of_the_rest(
    world: World, client: Any, failed_batch: TestReport
) -> None:
    login_as(client, world["cy_biz"])  # 朝阳: the report's project is in 海淀, so the report itself is not theirs
    assert client.get(f"/monitoring/trace/{failed_batch.pk}/").status_code == 403


def test_the_producer_traces_its_own_deliveries_and_others_are_refused(
    world: World, client: Any, failed_batch: TestReport
) -> None:
    login_as(client, world["a_staff"])  # A is the report's producer (an owner of the report) and the supplier
    page = client.get(f"/monitoring/trace/{failed_batch.pk}/").content.decode()
    assert "共供货 3 笔" in page and "不在本机构可见范围" not in page
    client.logout()
    login_as(client, world["b_staff"])  # the contractor sees neither the report nor A's deliveries
    assert client.get(f"/monitoring/trace/{failed_batch.pk}/").status_code == 403


def test_xc09_alert_links_to_the_trace(world: World, client: Any, failed_batch: TestReport) -> None:
    evaluate()
    alert = Alert.objects.get(rule__code="XC09")
    login_as(client, world["city_biz"])
    page = client.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert f"/monitoring/trace/{failed_batch.pk}/" in page
