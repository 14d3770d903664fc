"""The dashboard page: who sees it, district scoping through the funnel, and drill-down links that open exactly the
records each number counts (checked by opening every link and reading the list's own count)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import QueryDict
from django.test import Client

from jiancai.accounts.tests.personas import World, login_as
from jiancai.analytics import selectors
from jiancai.filings.filters import FILTERS
from jiancai.filings.models import FILING_MODELS
from jiancai.filings.tests.records import Filers, file_as, purchase_row, supply_row
from jiancai.indicators.tests.month import Month, file_month

pytestmark = pytest.mark.django_db

COUNTED_PANELS = {
    "volumes", "districts", "alert_rules", "alert_status", "alert_districts", "alert_ages", "warnings", "ratings",
    "suppliers",
}
COUNT = re.compile(r"共 (\d+) 条")


@pytest.fixture
def month(world: World, filers: Filers, django_capture_on_commit_callbacks: Any) -> Month:
    with django_capture_on_commit_callbacks(execute=True):
        m = file_month(world, filers)
        # A supply of another category in the same month, and one of the month before.
        file_as(world["a_staff"], "supply", supply_row(world, 2, delivery_date=m.day, category="SN", unit="t"))
    return m


def _client(user: Any) -> Client:
    client = Client()
    login_as(client, user)
    return client


def _listed(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    found = COUNT.search(response.content.decode())
    assert found, url
    return int(found.group(1))


def test_city_dashboard_links_open_the_counted_records(world: World, month: Month) -> None:
    user = world["city_biz"]
    client = _client(user)
    response = client.get("/analytics/", {"month": f"{month.start:%Y-%m}"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "数据分析 · 全市" in page and "echarts-6.1.0.min.js" in page and 'id="monthly-report"' in page

    board = selectors.dashboard(user, None, month.start, "city")
    tiles = {t.label: t for t in board.tiles}
    assert tiles["本月供应记录"].value == 2 and tiles["本月采购记录"].value == 2 and tiles["本月检测记录"].value == 2
    assert (tiles["未结预警"].value or 0) > 0
    checked = 0
    for point in board.tiles:
        assert _listed(client, point.url) == point.value, point
        checked += 1
    for panel in board.panels:
        if panel.key not in COUNTED_PANELS:
            continue
        for series in panel.series:
            for point in series.points:
                if point.value or checked % 7 == 0:  # every non-zero figure, and a sample of the zeros
                    assert _listed(client, point.url) == point.value, (panel.key, series.name, point)
                checked += 1
    assert checked > 40


def test_supply_demand_and_pass_rate_links(world: World, month: Month) -> None:
    user = world["city_biz"]
    board = selectors.dashboard(user, None, month.start, "city")
    panels = {p.key: p for p in board.panels}
    for series in panels["supply_demand"].series:
        for point in series.points:
            path, query = urlsplit(point.url)[2:4]
            kind = "supply" if "/supplies/" in path else "purchase"
            model = FILING_MODELS[kind]
            qs = FILTERS[kind](QueryDict(query), queryset=model.objects.visible_to(user)).qs
            unit = point.label.split("（")[1].rstrip("）")
            total = sum((r.quantity for r in qs if r.unit == unit), Decimal(0))
            assert float(total) == point.value
    rates, failed = panels["pass_rates"].series
    assert [p.value for p in rates.points] == [50.0] and [p.value for p in failed.points] == [1]
    assert parse_qs(urlsplit(failed.points[0].url).query)["result"] == ["不合格"]
    client = _client(user)
    assert _listed(client, failed.points[0].url) == 1 and _listed(client, rates.points[0].url) == 2


def test_district_regulator_sees_only_its_district(world: World, month: Month) -> None:
    user = world["cy_biz"]  # 朝阳区: A's project (supplies, tests, the ticket); purchases are on B's project (海淀区)
    client = _client(user)
    response = client.get("/analytics/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "数据分析 · 朝阳区" in page and "各区信息填报量" not in page
    assert client.get("/analytics/", {"region": "city"}).status_code == 403
    assert client.get("/analytics/", {"region": world.b_project.district.code}).status_code == 403

    board = selectors.dashboard(user, world.a_project.district, month.start, world.a_project.district.code)
    tiles = {t.label: t for t in board.tiles}
    assert tiles["本月供应记录"].value == 2 and tiles["本月采购记录"].value == 0
    assert "district=%E6%9C%9D%E9%98%B3%E5%8C%BA" in tiles["本月供应记录"].url  # 朝阳区
    panels = {p.key: p for p in board.panels}
    assert "districts" not in panels and "alert_districts" not in panels
    assert all(p.value == 0 for p in panels["supply_demand"].series[1].points)  # no purchases in 朝阳区
    # The city regulator looking at 朝阳区 sees the same figures.
    city = selectors.dashboard(world["city_biz"], world.a_project.district, month.start, "x")
    assert [t.value for t in city.tiles] == [t.value for t in board.tiles]


def test_enterprises_and_other_roles_are_refused(world: World) -> None:
    assert _client(world["a_staff"]).get("/analytics/").status_code == 403
    assert _client(world["city_sys"]).get("/analytics/").status_code == 403


def test_bad_month_is_explained(world: World) -> None:
    response = _client(world["city_biz"]).get("/analytics/", {"month": "2025-13"})
    assert response.status_code == 200
    assert "月份：“2025-13”格式不正确" in response.content.decode()


def test_menu_entry_for_regulators(world: World) -> None:
    assert "数据分析" in _client(world["city_biz"]).get("/").content.decode()
    assert "数据分析" not in _client(world["a_staff"]).get("/").content.decode()


def test_purchase_link_matches_rollup(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, 1, arrival_date="2025-06-02", unit_price="4000"))
    board = selectors.dashboard(world["city_biz"], None, dt.date(2025, 6, 1), "city")
    volumes = {p.key: p for p in board.panels}["volumes"]
    june = next(s for s in volumes.series if s.name == "采购").points[-1]
    assert june.value == 1 and _listed(_client(world["city_biz"]), june.url) == 1


def test_alert_ages_match_the_list(world: World, month: Month) -> None:
    """Ages to the second as the alert list's `age` filter: recent ones from the alert table, older from the rollup."""
    from django.utils import timezone

    from jiancai.analytics import rollups
    from jiancai.monitoring.models import Alert

    standing = list(Alert.objects.filter(status="open").order_by("pk").values_list("pk", flat=True))
    assert len(standing) >= 3
    now = timezone.now()
    Alert.objects.filter(pk=standing[0]).update(raised_at=now - dt.timedelta(days=40))
    Alert.objects.filter(pk=standing[1]).update(raised_at=now - dt.timedelta(days=10))
    rollups.refresh_alerts(set(Alert.objects.values_list("rule_id", flat=True)))  # as after the engine's run
    user = world["city_biz"]
    board = selectors.dashboard(user, None, month.start, "city")
    ages = next(p for p in board.panels if p.key == "alert_ages").series[0].points
    assert [p.value for p in ages] == [len(standing) - 2, 1, 1]
    client = _client(user)
    for point in ages:
        assert _listed(client, point.url) == point.value
