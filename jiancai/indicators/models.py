"""Yearly statistics entered by regulators, and targets on the indicators of `formulas`.

A region is a district, or the whole city (`district` empty). `YearlyStatistic` keeps every version of a
region's year: an edit inserts a new version and marks the previous one not current (as filings do), so the
figures a report was made from can always be found again. Only city and district regulators' business staff
read or change these rows; a district regulator only its district's (the funnel: `district`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from jiancai.accounts.access import AccessScope, Action, ScopedQuerySet
from jiancai.accounts.models import District
from jiancai.accounts.roles import Role

from .formulas import INDICATOR_BY_CODE, INDICATOR_CHOICES, INPUTS, Indicator

# Statistics and targets are the regulators' working material: their business staff read and maintain them.
INDICATOR_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: frozenset({str(Role.BUSINESS)}),
    Action.CHANGE: frozenset({str(Role.BUSINESS)}),
}

CITY_LABEL = "全市"


def _figure(label: str, unit: str) -> models.DecimalField[Any, Any]:
    return models.DecimalField(
        f"{label}（{unit}）",
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0), f"{label}不能为负数")],
    )


class StatisticQuerySet(ScopedQuerySet["YearlyStatistic"]):
    def current(self) -> StatisticQuerySet:
        return self.filter(is_current=True)

    def of_region(self, district: District | None) -> StatisticQuerySet:
        return self.filter(district=district) if district is not None else self.filter(district__isnull=True)


class YearlyStatistic(models.Model):
    """统计年报: the figures of one region and year that the platform's own data does not hold (or that the
    official statistics override). Empty fields are taken from filings and registries (see `figures`)."""

    district = models.ForeignKey(
        District, verbose_name="区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(
        "年度",
        validators=[MinValueValidator(2000, "年度不能早于2000年"), MaxValueValidator(2100, "年度不能晚于2100年")],
    )
    cement_capacity = _figure("水泥年产能", "万吨")
    cement_supplied = _figure("水泥供应量", "万吨")
    bulk_cement_supplied = _figure("散装水泥供应量", "万吨")
    cement_used = _figure("水泥使用量", "万吨")
    bulk_cement_used = _figure("散装水泥使用量", "万吨")
    concrete_capacity = _figure("预拌混凝土年生产能力", "万立方米")
    concrete_supplied = _figure("预拌混凝土供应量", "万立方米")
    mortar_capacity = _figure("预拌砂浆年产能", "万吨")
    dry_mortar_capacity = _figure("普通干混砂浆年产能", "万吨")
    dry_mortar_output = _figure("普通干混砂浆年产量", "万吨")
    dry_mortar_bulk_output = _figure("散装普通干混砂浆产量", "万吨")
    mortar_demand = _figure("预拌砂浆需求量", "万吨")
    mortar_used = _figure("预拌砂浆使用量", "万吨")
    wet_mortar_used = _figure("预拌湿砂浆使用量", "万吨")
    precast_capacity = _figure("预制构件生产能力", "万立方米")
    precast_output = _figure("预制构件产量", "万立方米")
    precast_used = _figure("预制构件使用量", "万立方米")
    source = models.CharField("数据来源", max_length=200, blank=True)
    note = models.TextField("说明", blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    is_current = models.BooleanField("当前版本", default=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_by_name = models.CharField("填报人", max_length=150, blank=True)
    created_at = models.DateTimeField("填报时间", auto_now_add=True)

    objects = StatisticQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district="district", roles=INDICATOR_ROLES)

    class Meta:
        ordering = ["-year", "district__code", "-version"]
        verbose_name = "年度统计"
        verbose_name_plural = "年度统计"
        constraints = [
            models.UniqueConstraint(
                fields=["district", "year"],
                condition=Q(is_current=True, district__isnull=False),
                name="statistic_one_current_per_district_year",
            ),
            models.UniqueConstraint(
                fields=["year"],
                condition=Q(is_current=True, district__isnull=True),
                name="statistic_one_current_per_city_year",
            ),
            models.UniqueConstraint(
                fields=["district", "year", "version"],
                condition=Q(district__isnull=False),
                name="statistic_district_version_unique",
            ),
            models.UniqueConstraint(
                fields=["year", "version"], condition=Q(district__isnull=True), name="statistic_city_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_name} {self.year}年度统计（第{self.version}版）"

    def get_absolute_url(self) -> str:
        return reverse("indicators:statistic_detail", args=[self.pk])

    @property
    def region_name(self) -> str:
        return self.district.name if self.district_id else CITY_LABEL  # type: ignore[union-attr]

    def inputs(self) -> dict[str, Decimal | None]:
        return {i.code: getattr(self, i.code) for i in INPUTS}


FIGURE_FIELDS = tuple(i.code for i in INPUTS)


class TargetDirection(models.TextChoices):
    AT_LEAST = "at_least", "不低于"
    AT_MOST = "at_most", "不高于"


class Target(models.Model):
    """A target on an indicator for a region by a deadline (the seed's 发展目标: “散装水泥使用率达85%”,
    “预拌混凝土生产能力控制在7000万立方米以下”). Rates are stored as percent (85.0)."""

    indicator = models.CharField("指标", max_length=40, choices=INDICATOR_CHOICES)
    district = models.ForeignKey(
        District, verbose_name="区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(
        "目标值", max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal(0), "目标值不能为负数")]
    )
    direction = models.CharField("目标方向", max_length=8, choices=TargetDirection.choices, default="at_least")
    deadline = models.DateField("完成期限")
    basis = models.CharField("依据", max_length=200, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("最后修改", auto_now=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district="district", roles=INDICATOR_ROLES)

    class Meta:
        ordering = ["deadline", "indicator", "district__code"]
        verbose_name = "发展目标"
        verbose_name_plural = "发展目标"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "district", "deadline"],
                condition=Q(district__isnull=False),
                name="target_unique_district",
            ),
            models.UniqueConstraint(
                fields=["indicator", "deadline"], condition=Q(district__isnull=True), name="target_unique_city"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_name} {self.get_indicator_display()} {self.get_direction_display()}{self.value_text}"

    def get_absolute_url(self) -> str:
        return reverse("indicators:target_edit", args=[self.pk])

    @property
    def region_name(self) -> str:
        return self.district.name if self.district_id else CITY_LABEL  # type: ignore[union-attr]

    @property
    def spec(self) -> Indicator:
        return INDICATOR_BY_CODE[self.indicator]

    @property
    def value_text(self) -> str:
        unit = self.spec.unit
        return f"{self.value.normalize():f}{unit}"
