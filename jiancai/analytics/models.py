"""Rollup tables (汇总表) behind the regulator dashboards: derived data, never edited by anyone.

Each table holds aggregates of the base tables grouped by a few dimensions, kept up to date as filings and alerts
change (`rollups.py`, called from `receivers.py`) and recomputable from scratch (`manage.py rebuild_rollups`).
A rollup row is the aggregate of one group over the *current, submitted* filings; there is no history. Category and
district are plain ids (no foreign keys): a rollup row never holds a reference data row back from deletion, and
the dashboards join the few names they show.
"""

from __future__ import annotations

from django.db import models

from jiancai.accounts.access import WARNING_ROLES, AccessScope, ScopedQuerySet


class FilingRollup(models.Model):
    """Current submitted filings of one kind, month, district (the project's), material category and unit.

    The month is the record's own date (supply: delivery date, purchase: arrival date, test report: test date,
    tender: award date, ticket: departure date in Beijing time, project event: its date); purchases without an
    arrival date are not counted (the purchase list filters by arrival date, so a drill-down could not find them).
    `quantity` sums the quantity (ticket: volume; test report: quantity represented), `priced_quantity` and `amount`
    the quantity and quantity × unit price of the rows with a price (price index = amount / priced quantity);
    `failed` counts failed test reports.
    """

    kind = models.CharField("记录类型", max_length=16)
    month = models.DateField("月份")
    district_id = models.IntegerField("所在区")  # 0: a test report without a project
    category_id = models.IntegerField("材料品类")  # 0: a kind without a category (tickets, project events)
    unit = models.CharField("计量单位", max_length=8, blank=True)
    records = models.IntegerField("记录数")
    quantity = models.DecimalField("数量", max_digits=24, decimal_places=3, default=0)
    priced_quantity = models.DecimalField("带单价数量", max_digits=24, decimal_places=3, default=0)
    amount = models.DecimalField("金额(元)", max_digits=28, decimal_places=2, default=0)
    failed = models.IntegerField("不合格数", default=0)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district="district_id", roles=WARNING_ROLES)

    class Meta:
        verbose_name = "填报汇总"
        verbose_name_plural = "填报汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "month", "district_id", "category_id", "unit"], name="analytics_filing_group"
            )
        ]
        indexes = [
            models.Index(fields=["kind", "month", "category_id"], name="analytics_filing_kind_month"),
            models.Index(fields=["district_id", "kind", "month"], name="analytics_filing_district"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m} {self.records}"


CITY_DISTRICT = -1  # SupplierRollup.district_id of the whole city's rows


class SupplierRollup(models.Model):
    """Supplier activity: per month, district and enterprise, its current submitted supplies (as filer) and the
    purchases naming it as supplier (by arrival date). Each group is also kept for the whole city, under district
    `CITY_DISTRICT` (the city's top suppliers then read months × suppliers rows, not × 16 districts); a district
    regulator's funnel (`district_id` = its district) never reaches those rows."""

    kind = models.CharField("记录类型", max_length=16)
    month = models.DateField("月份")
    district_id = models.IntegerField("所在区")
    organization_id = models.IntegerField("企业")
    records = models.IntegerField("记录数")

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district="district_id", roles=WARNING_ROLES)

    class Meta:
        verbose_name = "供应企业活跃度汇总"
        verbose_name_plural = "供应企业活跃度汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "month", "district_id", "organization_id"], name="analytics_supplier_group"
            )
        ]
        indexes = [
            models.Index(fields=["month", "organization_id"], name="analytics_supplier_month"),
            models.Index(fields=["district_id", "month"], name="analytics_supplier_district"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m} {self.organization_id} {self.records}"


class AlertRollup(models.Model):
    """Alerts per rule, district (none: an alert without a district), status and day raised (Beijing time)."""

    rule_id = models.IntegerField("规则")
    district_id = models.IntegerField("所在区")  # 0: an alert without a district
    status = models.CharField("状态", max_length=24)
    raised_on = models.DateField("预警日期")
    alerts = models.IntegerField("预警数")

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district="district_id", roles=WARNING_ROLES)

    class Meta:
        verbose_name = "预警汇总"
        verbose_name_plural = "预警汇总"
        indexes = [
            models.Index(fields=["rule_id", "district_id"], name="analytics_alert_rule"),
            models.Index(fields=["district_id", "status"], name="analytics_alert_district"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.status} {self.alerts}"
