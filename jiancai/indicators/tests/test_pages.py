"""The pages: overview with targets and progress, entering statistics and targets through the forms, the lists and
their export, and who may see or change what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from jiancai.accounts.models import District
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.indicators.models import Target, YearlyStatistic

from .seed import SEED_2010
from .test_reports import client_for, sheet

pytestmark = pytest.mark.django_db


def statistic_post(region: str, year: int, **extra: str) -> dict[str, str]:
    return {
        "region": region,
        "year": str(year),
        **{k: str(v) for k, v in SEED_2010.items()},
        "source": "京建发〔2011〕535号",
        "note": "",
        **extra,
    }


def test_enter_2010_statistics_then_the_overview_shows_the_seed_rates(world: World) -> None:
    client = client_for(world["city_biz"])
    assert client.get("/indicators/statistics/new/").status_code == 200
    response = client.post("/indicators/statistics/new/", statistic_post("city", 2010))
    assert response.status_code == 302
    row = YearlyStatistic.objects.get()
    assert response["Location"] == f"/indicators/statistics/{row.pk}/"
    assert row.district is None and row.cement_used == Decimal("2439.1") and row.entered_by_name == "孙监管"
    page = client.get("/indicators/", {"region": "city", "year": "2010"}).content.decode()
    for figure in ("78.1%", "47.6%", "15.6%", "28.5%", "40.7%", "98.7万吨", "40.6%"):
        assert figure in page
    assert "散装水泥使用率 = 散装水泥使用量 ÷ 水泥使用量" in page
    # the same year again through the new-page is refused (edit it instead), nothing stored
    again = client.post("/indicators/statistics/new/", statistic_post("city", 2010))
    assert again.status_code == 400 and "已存在" in again.content.decode()
    assert YearlyStatistic.objects.count() == 1
    # edit: a new version
    edit = client.post(
        f"/indicators/statistics/{row.pk}/edit/",
        statistic_post("city", 2010, cement_used="2500", expected_version="1"),
    )
    assert edit.status_code == 302
    assert YearlyStatistic.objects.get(is_current=True).version == 2
    detail = client.get(edit["Location"]).content.decode()
    assert "第1版" in detail and "第2版" in detail
    history = detail.split('id="history"')[1].split("</table>")[0]
    assert "水泥使用量（万吨）：2439.100 → 2500.000" in history and "孙监管" in history and "新增" in history
    assert "共 1 条" in client.get("/indicators/statistics/").content.decode()
    assert "共 2 条" in client.get("/indicators/statistics/", {"history": "true"}).content.decode()


def test_bad_figure_is_refused_with_the_field_named(world: World) -> None:
    client = client_for(world["city_biz"])
    response = client.post("/indicators/statistics/new/", statistic_post("city", 2010, cement_used="-5"))
    assert response.status_code == 400
    assert "水泥使用量（万吨）：不能为负数" in response.content.decode()
    response = client.post("/indicators/statistics/new/", statistic_post("city", 1999))
    assert "年度：年度不能早于2000年" in response.content.decode()
    assert not YearlyStatistic.objects.exists()


def test_targets_and_progress(world: World) -> None:
    client = client_for(world["city_biz"])
    year = timezone.localdate().year
    client.post("/indicators/statistics/new/", statistic_post("city", year))
    deadline = f"{year}-12-31"
    for indicator, value, direction in (
        ("bulk_cement_usage_rate", "85", "at_least"),
        ("concrete_capacity", "7000", "at_most"),
        ("mortar_usage_rate", "20", "at_least"),
    ):
        response = client.post(
            "/indicators/targets/new/",
            {
                "region": "city",
                "indicator": indicator,
                "direction": direction,
                "value": value,
                "deadline": deadline,
                "basis": "十二五规划",
            },
        )
        assert response.status_code == 302, response.content.decode()
    assert Target.objects.count() == 3
    assert AuditEvent.objects.filter(action="create", target_type="indicators.target").count() == 3
    page = client.get("/indicators/", {"region": "city", "year": str(year)}).content.decode()
    progress = page.split('id="progress"')[1].split("</table>")[0]
    # 78.1 of ≥ 85: 91 %, not reached; 10480 against ≤ 7000: 66 %, not reached; 28.5 of ≥ 20: reached
    assert '<progress max="100" value="91">' in progress
    assert '<progress max="100" value="66">' in progress
    assert '<progress max="100" value="100">' in progress
    assert progress.count("未达到") == 2 and progress.count("已达到") == 1
    # duplicate target refused with a message
    dup = client.post(
        "/indicators/targets/new/",
        {
            "region": "city",
            "indicator": "mortar_usage_rate",
            "direction": "at_least",
            "value": "30",
            "deadline": deadline,
        },
    )
    assert dup.status_code == 400 and "已有目标" in dup.content.decode()
    target = Target.objects.get(indicator="mortar_usage_rate")
    edit = client.post(
        f"/indicators/targets/{target.pk}/edit/",
        {
            "region": "city",
            "indicator": "mortar_usage_rate",
            "direction": "at_least",
            "value": "30",
            "deadline": deadline,
            "expected_version": "1",
        },
    )
    assert edit.status_code == 302
    target.refresh_from_db()
    assert target.value == Decimal(30) and target.version == 2
    update = AuditEvent.objects.get(action="update", target_type="indicators.target")
    assert update.changes["value"] == ["20.000", "30"]


def test_district_regulator_funnel(world: World) -> None:
    chaoyang, haidian = District.objects.get(name="朝阳区"), District.objects.get(name="海淀区")
    city = client_for(world["city_biz"])
    city.post("/indicators/statistics/new/", statistic_post("city", 2010))
    city.post("/indicators/statistics/new/", statistic_post(haidian.code, 2010))
    city_row = YearlyStatistic.objects.get(district=None)
    haidian_row = YearlyStatistic.objects.get(district=haidian)
    client = client_for(world["cy_biz"])
    assert client.get("/indicators/", {"region": "city"}).status_code == 403
    assert client.get("/indicators/", {"region": haidian.code}).status_code == 403
    assert client.get("/indicators/").status_code == 200  # its own district
    assert client.get(f"/indicators/statistics/{city_row.pk}/").status_code == 403
    assert client.get(f"/indicators/statistics/{haidian_row.pk}/edit/").status_code == 403
    response = client.post("/indicators/statistics/new/", statistic_post("city", 2011))
    assert response.status_code == 400  # "city" is not among its region choices
    assert client.post("/indicators/statistics/new/", statistic_post(chaoyang.code, 2011)).status_code == 302
    listing = client.get("/indicators/statistics/").content.decode()
    assert "朝阳区 2011年" in listing and "海淀区" not in listing.split("<table")[1]
    export = client.get("/indicators/statistics/", {"export": "xlsx"})
    rows = sheet(export.content, "年度统计")
    assert [r[0] for r in rows[1:]] == ["朝阳区 2011年"]
    for persona in ("a_admin", "city_sys"):
        other = client_for(world[persona])
        assert other.get("/indicators/").status_code == 403
        assert other.get("/indicators/statistics/new/").status_code == 403


def test_nav_links_for_regulators_only(world: World) -> None:
    assert "统计报表" in client_for(world["city_biz"]).get("/").content.decode()
    assert "统计报表" not in client_for(world["a_admin"]).get("/").content.decode()


def test_the_plan_command_and_progress_in_the_chosen_year(world: World) -> None:
    from django.core.management import call_command

    call_command("load_plan_indicators", user="city_biz")
    call_command("load_plan_indicators", user="city_biz")  # again: nothing changes
    assert YearlyStatistic.objects.count() == 1 and Target.objects.count() == 8
    client = client_for(world["city_biz"])
    page = client.get("/indicators/", {"region": "city", "year": "2010"}).content.decode()
    progress = page.split('id="progress"')[1].split("</table>")[0]
    # 2010: 散装水泥使用率 78.1 % of the 2015 target 85 % → 91 %; 预拌混凝土生产能力 10480 over the 7000 ceiling → 66 %
    assert '<progress max="100" value="91">' in progress and '<progress max="100" value="66">' in progress
    assert "78.1%（2010年）" in progress
