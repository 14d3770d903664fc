"""Aggregate warnings (预警) with hand-computed figures: quality failure rates, supply against demand, price
movement and Tukey-fence outliers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from jiancai.accounts.tests.personas import World, login_as
from jiancai.filings.tests.records import Filers, file_as, purchase_row, report_row
from jiancai.monitoring.models import EarlyWarning, WarningTopic
from jiancai.monitoring.warnings import compute_warnings

pytestmark = pytest.mark.django_db
JUNE = dt.date(2025, 6, 1)


def messages(topic: str) -> list[str]:
    return sorted(EarlyWarning.objects.filter(topic=topic).values_list("message", flat=True))


def test_quality_warning_per_category_and_producer(world: World, filers: Filers) -> None:
    rows = [
        report_row(world, filers, n, result="不合格" if n <= 2 else "合格", test_date="2025-06-10") for n in range(1, 7)
    ]
    file_as(filers.lab_staff, "test_report", *rows)
    # Routine tests count; type tests (型式检验) do not.
    file_as(
        filers.lab_staff,
        "test_report",
        report_row(world, filers, 9, kind="型式检验", result="不合格", test_date="2025-06-11"),
    )
    compute_warnings(JUNE)
    assert messages(WarningTopic.CATEGORY_FAILURES) == [
        "钢筋 2025年06月 检测 6 批次，不合格 2 批次，不合格率 33.3%，高于预警线 5.0%（阈值 5.0%；近12个月样本不足）"
    ]
    assert messages(WarningTopic.PRODUCER_FAILURES) == [
        f"{world.a.name} 的钢筋 2025年06月 检测 6 批次，不合格 2 批次，不合格率 33.3%，高于预警线 5.0%"
        "（全市该品类本月 33.3%）"
    ]


def test_quality_not_judged_below_the_minimum_sample(world: World, filers: Filers) -> None:
    rows = [report_row(world, filers, n, result="不合格", test_date="2025-06-10") for n in range(1, 5)]
    file_as(filers.lab_staff, "test_report", *rows)
    assert [w for w in compute_warnings(JUNE) if w.kind == "quality"] == []


def test_supply_demand_shortage_and_overcapacity(world: World) -> None:
    """Both demo projects: 23,800.50 ㎡ 剪力墙, started 2025-03-01. Rebar reference 45–65 kg/㎡ (middle 55):
    23,800.50 × 55 kg ÷ 1000 ÷ 24 months = 54.543 t a month. A (朝阳) registered 120,000 t of rebar a year
    (10,000 t a month): overcapacity in 朝阳, shortage in 海淀 (no rebar capacity)."""
    compute_warnings(JUNE)
    shortage = EarlyWarning.objects.get(topic=WarningTopic.SHORTAGE, category__code="GJ")
    assert shortage.district == world.b_project.district
    assert shortage.message == (
        "钢筋：本月需求约 54.543 t（在建项目 1 个，按单位面积用量参考值中值、工期 24 个月均摊），"
        "本区登记月产能 0.000 t，缺口 54.543 t"
    )
    over = EarlyWarning.objects.get(topic=WarningTopic.OVERCAPACITY, category__code="GJ")
    assert over.district == world.a_project.district
    assert over.message == "钢筋：本区登记月产能 10000.000 t，本月需求约 54.543 t，产能超过需求的 3 倍"
    # Concrete (0.40–0.55 m³/㎡, middle 0.475): 471.052 m³ a month; B (海淀) has 50,000 m³ a year.
    hnt = EarlyWarning.objects.get(topic=WarningTopic.SHORTAGE, category__code="HNT")
    assert hnt.district == world.a_project.district and "本月需求约 471.052 m³" in hnt.message


def test_price_movement_and_outlier_with_quartiles(world: World) -> None:
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, unit_price="4000", arrival_date="2025-05-20"))
    prices = ["4000", "4050", "4100", "4150", "4200", "6000"]
    file_as(
        world["b_staff"],
        "purchase",
        *[purchase_row(world, 10 + i, unit_price=p, arrival_date="2025-06-05") for i, p in enumerate(prices)],
    )
    compute_warnings(JUNE)
    # Weighted average (all 60 t): 26,500 ÷ 6 = 4,416.67, +10.4 % against May's 4,000.
    assert messages(WarningTopic.PRICE_MOVEMENT) == [
        "钢筋 HRB400E Φ20 2025年06月 加权均价 4416.67 元/t（6 笔，360.000 t），上月 4000.00 元，上涨 10.4%，超过 10.0%"
    ]
    # Inclusive quartiles of the six prices: Q1 4062.50, Q3 4187.50, IQR 125, upper fence 4375.
    [outlier] = EarlyWarning.objects.filter(topic=WarningTopic.PRICE_OUTLIER)
    assert outlier.message == (
        f"采购单 CG-0015（{world.b.name}，供应 {world.a.name}）钢筋 HRB400E Φ20 单价 6000.00 元，高于上限 4375.00 元"
        "（本月 6 笔：Q1 4062.50，Q3 4187.50，IQR 125.00，围栏 Q1−1.5·IQR 至 Q3+1.5·IQR）"
    )
    assert outlier.evidence["q1"] == "4062.50" and outlier.organization == world.b


def test_recomputing_a_month_replaces_its_warnings(world: World) -> None:
    first = compute_warnings(JUNE)
    second = compute_warnings(JUNE)
    assert len(first) == len(second) == EarlyWarning.objects.filter(period=JUNE).count() > 0


def test_command_and_page(world: World, client: Any) -> None:
    call_command("compute_warnings", "2025-06")
    assert EarlyWarning.objects.filter(period=JUNE).exists()
    login_as(client, world["cy_biz"])
    page = client.get("/warnings/", {"kind": "supply_demand"})
    assert page.status_code == 200
    text = page.content.decode()
    # The 朝阳 regulator sees its district's warnings, not 海淀's.
    assert "产能超过需求" in text and "本区登记月产能 0.000 t，缺口 54.543 t" not in text
    login_as(client, world["a_admin"])
    assert client.get("/warnings/").status_code == 403  # an enterprise does not read the regulators' warnings


def test_detail_page_shows_the_figures(world: World, client: Any) -> None:
    compute_warnings(JUNE)
    shortage = EarlyWarning.objects.get(topic=WarningTopic.SHORTAGE, category__code="GJ")
    login_as(client, world["city_biz"])
    page = client.get(f"/warnings/{shortage.pk}/").content.decode()
    assert "本月需求" in page and "54.543" in page and "均摊工期（月）" in page
    # Categories without usage references are not judged (their demand is unknown, not zero).
    assert not EarlyWarning.objects.filter(topic=WarningTopic.OVERCAPACITY).exclude(category__code__in=["GJ", "HNT"])
