"""The downloadable reports: contents (XLSX opened with openpyxl, PDF text extracted with pypdf), the audit row of
every download, and the funnel (a district regulator gets only its district)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from jiancai.accounts.context import context_for
from jiancai.accounts.models import District
from jiancai.accounts.tests.factories import OrganizationFactory, make_uscc
from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.filings.tests.records import Filers
from jiancai.indicators.actions import save_statistic, save_target
from jiancai.monitoring.models import Alert
from jiancai.registry.tests.factories import CapacityFactory, QualificationFactory

from .month import Month, file_month
from .seed import SEED_2010

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    login_as(client, user)
    return client


def sheet(data: bytes, title_part: str) -> list[list[Any]]:
    wb = load_workbook(io.BytesIO(data))
    name = next(n for n in wb.sheetnames if title_part in n)
    return [list(r) for r in wb[name].iter_rows(values_only=True)]


def row_of(rows: list[list[Any]], first: str) -> list[Any]:
    return next(r for r in rows if r and r[0] == first)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def monthly(client: Client, fmt: str, region: str, month: Month) -> Any:
    return client.get(f"/indicators/reports/monthly.{fmt}", {"region": region, "month": f"{month.start:%Y-%m}"})


@pytest.fixture
def month(world: World, filers: Filers) -> Month:
    return file_month(world, filers)


def test_city_monthly_xlsx_contents(world: World, month: Month) -> None:
    response = monthly(client_for(world["city_biz"]), "xlsx", "city", month)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = response.content
    volumes = sheet(data, "信息填报量")
    assert volumes[0][0] == "一、信息填报量" and volumes[1] == ["记录类型", "本月件数"]
    assert row_of(volumes, "供应记录")[1] == 1
    assert row_of(volumes, "采购记录")[1] == 2
    assert row_of(volumes, "检测报告")[1] == 2
    assert row_of(volumes, "预拌混凝土发货单")[1] == 1
    quantities = sheet(data, "供应与采购")
    rebar = row_of(quantities, "GJ")
    assert rebar[3:7] == [1, 60, 2, 90]
    prices = sheet(data, "材料价格")
    price_row = row_of(prices, "钢筋")
    # (60 × 4150 + 30 × 4300) ÷ 90 = 4200.00
    assert price_row[3] == 2 and price_row[4] == 90 and Decimal(str(price_row[5])) == Decimal("4200.00")
    rates = sheet(data, "检测合格率")
    assert row_of(rates, "钢筋")[1:] == [2, 1, 1, "50.0%"]
    alerts = sheet(data, "预警")
    start = month.start
    raised = Alert.objects.filter(raised_at__date__gte=start).count()
    assert raised > 0  # the filings above break cross-checks (XC01 at least)
    assert row_of(alerts, "合计")[-1] == raised
    for code in Alert.objects.values_list("rule__code", flat=True).distinct():
        assert row_of(alerts, code)[-1] == Alert.objects.filter(rule__code=code).count()
    summary = sheet(data, "概况")
    assert summary[0][0] == f"全市建材监管月报（{start:%Y年%m月}）"


def test_seed_figures_and_targets_in_the_monthly_pdf(world: World, month: Month) -> None:
    user = world["city_biz"]
    year = timezone.localdate().year
    save_statistic(
        district=None, year=year, figures=SEED_2010, expected_version=None, actor=user, context=context_for(user)
    )
    save_target(
        target=None,
        data={
            "indicator": "bulk_cement_usage_rate",
            "district": None,
            "value": Decimal(85),
            "direction": "at_least",
            "deadline": timezone.localdate().replace(month=12, day=31),
            "basis": "京建发〔2011〕535号",
        },
        actor=user,
        context=context_for(user),
    )
    response = monthly(client_for(user), "pdf", "city", month)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    headings = ("全市建材监管月报", "一、信息填报量", "三、本月新增预警", "六、检测合格率", "九、目标完成情况")
    charts = ("本月信息填报量（件）", "本月新增预警状态分布", "本月检测合格率（%）")
    for heading in (*headings, *charts):
        assert heading in text
    for figure in ("78.1%", "47.6%", "15.6%", "28.5%", "40.7%", "40.6%", "98.7万吨"):
        assert figure in text
    # 78.1 of a target of 85: 91 % of the way, not reached
    assert "不低于85万" not in text and "不低于85%" in text and "未达到" in text and "91%" in text
    assert "50.0%" in text  # the pass rate
    xlsx = monthly(client_for(user), "xlsx", "city", month).content
    indicators = sheet(xlsx, "发展指标")
    assert row_of(indicators, "散装水泥使用率")[1] == "78.1%"
    targets = sheet(xlsx, "目标完成")
    assert row_of(targets, "散装水泥使用率")[5:] == ["未达到", "91%"]


def test_every_download_is_audited(world: World, month: Month) -> None:
    client = client_for(world["city_biz"])
    before = AuditEvent.objects.filter(action="export").count()
    monthly(client, "pdf", "city", month)
    chaoyang = District.objects.get(name="朝阳区")
    client.get("/indicators/reports/concrete.xlsx", {"region": chaoyang.code, "year": str(month.start.year)})
    events = list(AuditEvent.objects.filter(action="export", target_type="indicators.report").order_by("seq"))
    assert len(events) == 2 == AuditEvent.objects.filter(action="export").count() - before
    first, second = events
    assert first.target_id == "monthly" and first.changes["region"] == "全市"
    assert first.changes["format"] == "pdf" and first.changes["month"] == f"{month.start:%Y-%m}"
    assert second.target_id == "concrete" and second.changes["region"] == "朝阳区"
    assert second.actor_id == world["city_biz"].pk


def test_district_regulator_gets_only_its_district(world: World, month: Month) -> None:
    client = client_for(world["cy_biz"])
    chaoyang, haidian = District.objects.get(name="朝阳区"), District.objects.get(name="海淀区")
    for region in ("city", haidian.code):
        assert monthly(client, "xlsx", region, month).status_code == 403
    assert AuditEvent.objects.filter(action="permission.denied", actor=world["cy_biz"]).count() == 2
    response = monthly(client, "xlsx", chaoyang.code, month)
    assert response.status_code == 200
    volumes = sheet(response.content, "信息填报量")
    assert row_of(volumes, "供应记录")[1] == 1  # A's supply to its 朝阳 project
    assert row_of(volumes, "采购记录")[1] == 0  # B's purchases are for the 海淀 project
    assert row_of(volumes, "检测报告")[1] == 2
    alerts = sheet(response.content, "预警")
    assert row_of(alerts, "合计")[-1] == Alert.objects.filter(district=chaoyang).count()
    # without a region: its own district
    default = client.get("/indicators/reports/monthly.xlsx", {"month": f"{month.start:%Y-%m}"})
    assert sheet(default.content, "概况")[1] == ["区域", "朝阳区"]
    # the reports page offers only its district
    page = client.get("/indicators/reports/").content.decode()
    assert f'value="{chaoyang.code}"' in page and "全市" not in page.split("<form")[1].split("</form>")[0]


@pytest.mark.parametrize("persona", ["a_admin", "b_staff", "city_sys", "city_audit"])
def test_others_get_no_reports(world: World, month: Month, persona: str) -> None:
    client = client_for(world[persona])
    assert client.get("/indicators/reports/").status_code == 403
    assert monthly(client, "pdf", "city", month).status_code == 403


def test_bad_month_and_unknown_report(world: World) -> None:
    client = client_for(world["city_biz"])
    assert client.get("/indicators/reports/monthly.pdf", {"region": "city", "month": "2026-13"}).status_code == 404
    assert client.get("/indicators/reports/nothing.pdf", {"region": "city"}).status_code == 404
    assert client.get("/indicators/reports/monthly.csv", {"region": "city"}).status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


def test_concrete_plant_summary(world: World, filers: Filers, month: Month) -> None:
    plant = filers.plant
    CapacityFactory.create(organization=plant, category="HNT", unit="m³", annual_capacity="600000.000")
    QualificationFactory.create(
        organization=plant, certificate_no="D211000001", qualification_type="预拌混凝土专业承包", grade="不分等级"
    )
    sneaky = OrganizationFactory.create(
        name='=HYPERLINK("http://x")混凝土', uscc=make_uscc(505), district_name="朝阳区", kinds=["concrete_plant"]
    )
    client = client_for(world["city_biz"])
    year = month.start.year
    response = client.get("/indicators/reports/concrete.xlsx", {"region": "city", "year": str(year)})
    rows = sheet(response.content, "预拌混凝土生产企业情况统计表")
    headers = rows[1]
    assert headers[:4] == ["序号", "所在区", "企业名称", "统一社会信用代码"]
    assert "资质证书编号" in headers and "年产能（m³）" in headers and f"{year}年供应方量（m³）" in headers
    by_uscc = {r[3]: dict(zip(headers, r, strict=True)) for r in rows[2:] if r[3]}
    assert set(by_uscc) == {plant.uscc, sneaky.uscc}
    row = by_uscc[plant.uscc]
    assert row["企业名称"] == plant.name and row["所在区"] == "朝阳区"
    assert row["资质证书编号"] == "D211000001" and row["年产能（m³）"] == 600000
    assert row[f"{year}年供应方量（m³）"] == 12
    assert by_uscc[sneaky.uscc]["企业名称"].startswith("'=HYPERLINK")  # never a formula
    assert by_uscc[sneaky.uscc]["资质证书编号"] == "无"
    pdf = client.get("/indicators/reports/concrete.pdf", {"region": "city", "year": str(year)})
    text = pdf_text(pdf.content)
    assert "全市预拌混凝土生产企业情况统计表" in text and plant.name in text and "D211000001" in text
    mortar = client.get("/indicators/reports/mortar.xlsx", {"region": "city", "year": str(year)})
    assert sheet(mortar.content, "预拌砂浆")[1][7] == "资质/备案证编号"


def test_report_queries_do_not_grow_with_rows(world: World, filers: Filers, month: Month) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiancai.indicators.reports import monthly_report, plant_summary

    user = world["city_biz"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            plant_summary(user=user, district=None, kind="concrete")
            monthly_report(user=user, district=None, month=month.start)
        return len(captured)

    before = queries()
    for n in range(5):
        plant = OrganizationFactory.create(
            name=f"北京第{n}混凝土有限公司", uscc=make_uscc(600 + n), district_name="朝阳区", kinds=["concrete_plant"]
        )
        CapacityFactory.create(organization=plant, category="HNT", unit="m³")
        QualificationFactory.create(organization=plant, certificate_no=f"D2110{n:05d}", qualification_type="预拌混凝土")
    assert queries() == before


def test_warnings_and_district_targets_in_the_district_report(world: World, month: Month) -> None:
    from jiancai.materials.models import MaterialCategory
    from jiancai.monitoring.models import EarlyWarning

    chaoyang, haidian = District.objects.get(name="朝阳区"), District.objects.get(name="海淀区")
    for district, message in ((chaoyang, "朝阳钢筋供应能力不足"), (haidian, "海淀钢筋供应能力不足")):
        EarlyWarning.objects.create(
            kind="supply_demand",
            topic="shortage",
            period=month.start,
            category=MaterialCategory.objects.get(code="GJ"),
            district=district,
            value=Decimal(1),
            message=message,
            computed_at=timezone.now(),
        )
    user = world["cy_biz"]
    save_target(
        target=None,
        data={
            "indicator": "concrete_capacity_utilization",
            "district": chaoyang,
            "value": Decimal(60),
            "direction": "at_least",
            "deadline": timezone.localdate().replace(month=12, day=31),
        },
        actor=user,
        context=context_for(user),
    )
    client = client_for(user)
    data = monthly(client, "xlsx", chaoyang.code, month).content
    warnings = sheet(data, "预警分析")
    assert [r[6] for r in warnings[2:] if r[0]] == ["朝阳钢筋供应能力不足"]
    targets = sheet(data, "目标完成")
    # 朝阳 has tickets but no registered ready-mix capacity this year: no value, so no judgement
    assert row_of(targets, "预拌混凝土产能利用率")[1:] == [
        "不低于60%",
        f"{timezone.localdate():%Y}-12-31",
        "—",
        timezone.localdate().year,
        "无数据",
        "—",
    ]
    city = sheet(monthly(client_for(world["city_biz"]), "xlsx", "city", month).content, "预警分析")
    assert len([r for r in city[2:] if r[0]]) == 2
    text = pdf_text(monthly(client, "pdf", chaoyang.code, month).content)
    assert "朝阳区建材监管月报" in text and "朝阳钢筋供应能力不足" in text and "海淀钢筋" not in text
