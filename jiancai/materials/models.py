"""The material catalog: categories and their rules, dated usage references, product supply filings, and the
promoted / restricted / prohibited catalog."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from jiancai.accounts.access import CATALOG_ROLES, AccessScope, ScopedQuerySet
from jiancai.accounts.models import Organization
from jiancai.registry.models import StructureType


def in_force_q(on: dt.date) -> Q:
    """Rows whose dated range [effective_from, effective_until] (an empty end: open) covers `on`."""
    return Q(effective_from__lte=on) & (Q(effective_until__isnull=True) | Q(effective_until__gte=on))


def plain_decimal(value: Decimal | None) -> str:
    """A stored decimal without trailing zeros, never in exponent form: 60.000 → 60, 0.2000 → 0.2."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class MaterialCategory(models.Model):
    """A material category (材料品类). City regulators edit it; each change is audited."""

    code = models.CharField("品类代码", max_length=8, unique=True)
    name = models.CharField("品类名称", max_length=32, unique=True)
    unit = models.CharField("计量单位", max_length=8)
    witness_retest_required = models.BooleanField("需见证复试", default=True)
    batch_size = models.DecimalField(
        "检验批量",
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"), "检验批量必须大于0")],
        help_text="一个检验批代表的最大数量（与计量单位相同）；为空表示未设定",
    )
    batch_rule = models.CharField("取样规则说明", max_length=200, blank=True)
    sort = models.PositiveSmallIntegerField("排序", default=0)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district=None, roles=CATALOG_ROLES, shared=True)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = "材料品类"
        verbose_name_plural = "材料品类"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("materials:category_detail", args=[self.code])


class UsageReferenceQuerySet(ScopedQuerySet["UsageReference"]):
    def in_force(self, on: dt.date) -> UsageReferenceQuerySet:
        return self.filter(in_force_q(on))


class UsageReference(models.Model):
    """Unit-area usage reference range (单位面积材料用量参考值) of a category and structure type.

    A change never overwrites: the old row gets an end date and a new row starts the next day, so a check
    of material delivered in the past uses the values that were in force then.
    """

    category = models.ForeignKey(
        MaterialCategory, verbose_name="材料品类", on_delete=models.PROTECT, related_name="usage_references"
    )
    structure_type = models.CharField("结构型式", max_length=16, choices=StructureType.choices)
    min_per_m2 = models.DecimalField("下限（每㎡）", max_digits=10, decimal_places=4)
    max_per_m2 = models.DecimalField("上限（每㎡）", max_digits=10, decimal_places=4)
    per_m2_unit = models.CharField("单位", max_length=16, help_text="如 kg/㎡、m³/㎡")
    effective_from = models.DateField("生效日期")
    effective_until = models.DateField("失效日期", null=True, blank=True)

    objects = UsageReferenceQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district=None, roles=CATALOG_ROLES, shared=True)

    class Meta:
        ordering = ["category__sort", "structure_type", "-effective_from"]
        verbose_name = "单位面积用量参考值"
        verbose_name_plural = "单位面积用量参考值"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "structure_type"],
                condition=Q(effective_until__isnull=True),
                name="usage_reference_one_open_range",
            ),
            models.CheckConstraint(condition=Q(max_per_m2__gte=models.F("min_per_m2")), name="usage_reference_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.structure_type} {self.range_text}"

    def get_absolute_url(self) -> str:
        return reverse("materials:category_detail", args=[self.category.code])

    @property
    def range_text(self) -> str:
        """40–60 kg/㎡ (trailing zeros of the stored four decimals dropped)."""
        return f"{plain_decimal(self.min_per_m2)}–{plain_decimal(self.max_per_m2)} {self.per_m2_unit}"

    def status_on(self, on: dt.date) -> str:
        if self.effective_from > on:
            return "待生效"
        if self.effective_until is not None and self.effective_until < on:
            return "已失效"
        return "现行"

    def clean(self) -> None:
        if self.min_per_m2 is not None and self.max_per_m2 is not None and self.max_per_m2 < self.min_per_m2:
            raise ValidationError({"max_per_m2": ValidationError("上限不能小于下限", code="range_order")})


class ProductFiling(models.Model):
    """A product supply filing (产品供应备案) with its type-inspection report."""

    filing_no = models.CharField("备案编号", max_length=64, unique=True)
    producer = models.ForeignKey(
        Organization, verbose_name="生产企业", on_delete=models.PROTECT, related_name="product_filings"
    )
    category = models.ForeignKey(
        MaterialCategory, verbose_name="材料品类", on_delete=models.PROTECT, related_name="product_filings"
    )
    product_name = models.CharField("产品名称", max_length=128)
    spec = models.CharField("规格型号", max_length=128, blank=True)
    type_report_no = models.CharField("型式检验报告编号", max_length=64, blank=True, db_index=True)
    type_report_agency = models.CharField("型式检验机构", max_length=128, blank=True)
    type_report_valid_until = models.DateField("报告有效期至", null=True, blank=True)
    valid_until = models.DateField("备案有效期至", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("producer",), district="producer__district")
    # Bookkeeping left out of audit snapshots (materials.actions records the version bump itself).
    audit_exclude: tuple[str, ...] = ("created_at", "updated_at", "version")

    class Meta:
        ordering = ["filing_no"]
        verbose_name = "产品供应备案"
        verbose_name_plural = "产品供应备案"
        indexes = [models.Index(fields=["producer", "category"])]

    def __str__(self) -> str:
        return f"{self.filing_no} {self.product_name}"

    def get_absolute_url(self) -> str:
        return reverse("materials:filing_detail", args=[self.pk])

    def valid_on(self, on: dt.date) -> bool:
        return self.valid_until is None or self.valid_until >= on

    def type_report_valid_on(self, on: dt.date) -> bool:
        return self.type_report_valid_until is None or self.type_report_valid_until >= on


class Listing(models.TextChoices):
    PROMOTED = "推广", "推广"
    RESTRICTED = "限制", "限制"
    PROHIBITED = "禁止", "禁止"


class CatalogEntryQuerySet(ScopedQuerySet["CatalogEntry"]):
    def in_force(self, on: dt.date) -> CatalogEntryQuerySet:
        return self.filter(in_force_q(on))


class CatalogEntry(models.Model):
    """An entry of the promoted / restricted / prohibited catalog (推广、限制、禁止使用建材目录)."""

    entry_no = models.CharField("目录编号", max_length=32, unique=True)
    listing = models.CharField("类别", max_length=4, choices=Listing.choices)
    category = models.ForeignKey(
        MaterialCategory, verbose_name="材料品类", on_delete=models.PROTECT, related_name="catalog_entries"
    )
    product_name = models.CharField("产品名称", max_length=128)
    spec_keyword = models.CharField("规格型号关键字", max_length=64, blank=True)
    scope = models.CharField("限制范围", max_length=128, blank=True)
    effective_from = models.DateField("生效日期")
    effective_until = models.DateField("失效日期", null=True, blank=True)
    document_no = models.CharField("发布文号", max_length=64)

    objects = CatalogEntryQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district=None, roles=CATALOG_ROLES, shared=True)

    class Meta:
        ordering = ["listing", "entry_no"]
        verbose_name = "推广限制禁止目录条目"
        verbose_name_plural = "推广限制禁止目录"

    def __str__(self) -> str:
        return f"[{self.listing}] {self.product_name}"

    def get_absolute_url(self) -> str:
        return reverse("materials:catalog_detail", args=[self.pk])

    def status_on(self, on: dt.date) -> str:
        if self.effective_from > on:
            return "未生效"
        if self.effective_until is not None and self.effective_until < on:
            return "已失效"
        return "有效"

    def clean(self) -> None:
        if self.effective_until and self.effective_until < self.effective_from:
            raise ValidationError({"effective_until": ValidationError("失效日期不能早于生效日期", code="date_order")})
