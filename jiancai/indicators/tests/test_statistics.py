"""Yearly statistics entered through the action, the seed-004 reproduction end to end, versions and audit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jiancai.accounts.context import context_for
from jiancai.accounts.models import District
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.filings.tests.records import Filers
from jiancai.indicators.actions import save_statistic
from jiancai.indicators.figures import SOURCE_ENTERED, SOURCE_PLATFORM, region_year
from jiancai.indicators.formulas import percent
from jiancai.indicators.models import YearlyStatistic

from .seed import SEED_2010

pytestmark = pytest.mark.django_db


def enter(
    user: Any,
    district: District | None = None,
    year: int = 2010,
    figures: dict[str, Decimal] | None = None,
    expected_version: int | None = None,
) -> YearlyStatistic:
    return save_statistic(
        district=district,
        year=year,
        figures=SEED_2010 if figures is None else figures,
        source="京建发〔2011〕535号",
        expected_version=expected_version,
        actor=user,
        context=context_for(user),
    )


def test_seed_2010_entered_reproduces_the_published_rates(world: World) -> None:
    user = world["city_biz"]
    enter(user)
    figures = region_year(user=user, district=None, year=2010)
    shown = {v.indicator.code: v.shown for v in figures.indicators}
    assert shown["bulk_cement_usage_rate"] == Decimal("78.1")
    assert shown["concrete_capacity_utilization"] == Decimal("47.6")
    assert shown["dry_mortar_capacity_utilization"] == Decimal("15.6")
    assert shown["mortar_usage_rate"] == Decimal("28.5")
    assert shown["wet_mortar_share"] == Decimal("40.7")
    assert shown["dry_mortar_used"] == Decimal("98.7")
    assert shown["precast_capacity_utilization"] == Decimal("40.6")
    assert figures.value("bulk_cement_usage_rate").text == "78.1%"
    by_code = {f.code: f for f in figures.figures}
    assert by_code["cement_used"].source == SOURCE_ENTERED and by_code["cement_used"].value == Decimal("2439.1")
    assert by_code["mortar_demand"].source == SOURCE_ENTERED


def test_a_new_version_keeps_the_old_and_is_audited(world: World) -> None:
    user = world["city_biz"]
    first = enter(user)
    event = AuditEvent.objects.get(action="create", target_type="indicators.yearlystatistic")
    assert event.changes["cement_used"] == "2439.100"
    changed = {**SEED_2010, "cement_used": Decimal("2500")}
    second = enter(user, figures=changed, expected_version=1)
    assert second.version == 2 and second.is_current
    first.refresh_from_db()
    assert not first.is_current and first.cement_used == Decimal("2439.1")
    update = AuditEvent.objects.get(action="update", target_type="indicators.yearlystatistic")
    assert update.changes["cement_used"] == ["2439.100", "2500.000"]
    # unchanged resubmission: no new version, no audit row
    assert enter(user, figures=changed, expected_version=2).pk == second.pk
    assert YearlyStatistic.objects.count() == 2
    # a stale edit is refused and nothing is stored
    with pytest.raises(ValidationError, match="已被修改"):
        enter(user, figures=SEED_2010, expected_version=1)
    assert YearlyStatistic.objects.count() == 2


def test_district_regulator_enters_only_its_district(world: World) -> None:
    chaoyang = District.objects.get(name="朝阳区")
    haidian = District.objects.get(name="海淀区")
    user = world["cy_biz"]
    row = enter(user, district=chaoyang)
    assert row.district == chaoyang
    for other in (haidian, None):
        with pytest.raises(PermissionDenied):
            enter(user, district=other)
    with pytest.raises(PermissionDenied):
        enter(world["a_admin"], district=chaoyang)
    assert list(YearlyStatistic.objects.visible_to(user)) == [row]
    assert list(YearlyStatistic.objects.visible_to(world["a_admin"])) == []


def test_negative_figure_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        enter(world["city_biz"], figures={"cement_used": Decimal(-1)})
    assert not YearlyStatistic.objects.exists()


def test_platform_figures_fill_what_was_not_entered(world: World, filers: Filers) -> None:
    """B's registered ready-mix capacity (50000 m³, 海淀区) and the plant's 12 m³ ticket (朝阳区) this year."""
    from .month import file_month

    month = file_month(world, filers)
    user = world["city_biz"]
    year = month.start.year
    figures = region_year(user=user, district=None, year=year)
    by_code = {f.code: f for f in figures.figures}
    assert by_code["concrete_capacity"].value == Decimal("5") and by_code["concrete_capacity"].source == SOURCE_PLATFORM
    assert by_code["concrete_supplied"].value == Decimal("0.0012")
    # 12 ÷ 50000 = 0.024 %
    assert figures.value("concrete_capacity_utilization").value == Decimal("0.00024")
    assert by_code["mortar_demand"].source == ""  # entered only
    # an entered figure wins over the platform's
    save_statistic(
        district=None,
        year=year,
        figures={"concrete_capacity": Decimal("6")},
        expected_version=None,
        actor=user,
        context=context_for(user),
    )
    entered = {f.code: f for f in region_year(user=user, district=None, year=year).figures}
    assert entered["concrete_capacity"].value == Decimal("6") and entered["concrete_capacity"].source == SOURCE_ENTERED
    assert entered["concrete_supplied"].source == SOURCE_PLATFORM
    # per district: 海淀 has the capacity, 朝阳 the ticket
    chaoyang = District.objects.get(name="朝阳区")
    cy = {f.code: f.value for f in region_year(user=user, district=chaoyang, year=year).figures}
    assert cy["concrete_capacity"] is None and cy["concrete_supplied"] == Decimal("0.0012")
    # today's registry says nothing about last year's capacity
    last = {f.code: f.value for f in region_year(user=user, district=None, year=year - 1).figures}
    assert last["concrete_capacity"] is None and last["concrete_supplied"] is None


def test_mortar_split_from_specs(world: World) -> None:
    """Wet-mix (WM/WP…) and dry-mix (DM/DP…) mortar purchases, bulk (散装) dry-mix supplies."""
    from jiancai.filings.tests.records import file_as, purchase_row, supply_row

    day = timezone.localdate().replace(day=1).isoformat()
    mortar = {"category": "SJ", "unit": "t", "arrival_date": day}
    file_as(
        world["b_staff"],
        "purchase",
        purchase_row(world, 1, spec="WM M10", quantity="300", **mortar),
        purchase_row(world, 2, spec="DP M10", quantity="700", **mortar),
    )
    file_as(
        world["a_staff"],
        "supply",
        supply_row(world, 1, category="SJ", unit="t", spec="DM M7.5 散装", quantity="100", delivery_date=day),
        supply_row(world, 2, category="SJ", unit="t", spec="DM M7.5 袋装", quantity="300", delivery_date=day),
    )
    user = world["city_biz"]
    figures = region_year(user=user, district=None, year=timezone.localdate().year)
    assert percent(figures.value("wet_mortar_share").value or Decimal(-1)) == Decimal("30.0")
    assert percent(figures.value("dry_mortar_share").value or Decimal(-1)) == Decimal("70.0")
    assert percent(figures.value("dry_mortar_bulk_rate").value or Decimal(-1)) == Decimal("25.0")
    assert figures.value("dry_mortar_used").value == Decimal("0.07")
