"""Web forms of the material catalog. They parse input; the rules that matter are checked again in actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import Max

from jiancai.registry.forms import DATE, VersionedForm, editable_organizations
from jiancai.registry.models import StructureType

from .actions import PRODUCER_KINDS
from .models import CatalogEntry, MaterialCategory, ProductFiling, UsageReference


def producer_choices(user: Any) -> Any:
    """The producing enterprises a user may file products for (an enterprise user: its own, if it produces)."""
    return editable_organizations(user).filter(kinds__code__in=PRODUCER_KINDS).distinct()


class CategoryForm(VersionedForm):
    class Meta:
        model = MaterialCategory
        fields = ["code", "name", "unit", "witness_retest_required", "batch_size", "batch_rule", "sort"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = "1–8位大写字母或数字，以字母开头，如 GJ；创建后不能修改"
        self.fields["unit"].help_text = "如 t、m³、m²、m、樘；供应、采购记录的计量单位须与之一致"
        self.fields["batch_rule"].help_text = "取样规则的文字说明，如“同一牌号、同一规格每60 t为一批”"
        if self.instance.pk:
            self.fields["code"].disabled = True
        else:
            top = MaterialCategory.objects.aggregate(top=Max("sort"))["top"]
            self.fields["sort"].initial = (top or 0) + 1

    def clean_code(self) -> str:
        return str(self.cleaned_data.get("code") or "").strip().upper()


class UsageReferenceChangeForm(forms.Form):
    structure_type = forms.ChoiceField(label="结构型式", choices=StructureType.choices)
    min_per_m2 = forms.DecimalField(
        label="下限（每㎡）",
        max_digits=10,
        decimal_places=4,
        min_value=Decimal(0),
        error_messages={"min_value": "下限不能为负数"},
    )
    max_per_m2 = forms.DecimalField(label="上限（每㎡）", max_digits=10, decimal_places=4)
    per_m2_unit = forms.CharField(label="单位", max_length=16, help_text="如 kg/㎡（钢筋）、m³/㎡（混凝土）")
    effective_from = forms.DateField(
        label="生效日期",
        widget=DATE,
        help_text="须晚于现行参考值的生效日期；现行参考值的有效期截至该日前一天，此前各日期仍按原参考值核算",
    )
    reason = forms.CharField(label="调整依据", max_length=500, required=False, help_text="如发布文号或会议纪要")

    def __init__(self, *args: Any, category: MaterialCategory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category = category
        structure = self.initial.get("structure_type")
        current = None
        if structure:
            current = UsageReference.objects.filter(
                category=category, structure_type=structure, effective_until__isnull=True
            ).first()
        if current is not None:
            self.initial.setdefault("min_per_m2", current.min_per_m2)
            self.initial.setdefault("max_per_m2", current.max_per_m2)
        unit_source = current or category.usage_references.order_by("-effective_from").first()
        self.initial.setdefault("per_m2_unit", unit_source.per_m2_unit if unit_source else f"{category.unit}/㎡")

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        low, high = data.get("min_per_m2"), data.get("max_per_m2")
        if low is not None and high is not None and high < low:
            self.add_error("max_per_m2", "上限不能小于下限")
        return data


class ProductFilingForm(VersionedForm):
    class Meta:
        model = ProductFiling
        fields = [
            "filing_no",
            "producer",
            "category",
            "product_name",
            "spec",
            "type_report_no",
            "type_report_agency",
            "type_report_valid_until",
            "valid_until",
        ]
        widgets = {"type_report_valid_until": DATE, "valid_until": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["producer"]).queryset = producer_choices(self.user)
        self.fields["producer"].error_messages["invalid_choice"] = "只能为本单位（生产企业）办理产品供应备案"
        if self.instance.pk:
            self.fields["filing_no"].disabled = True


class CatalogEntryForm(VersionedForm):
    class Meta:
        model = CatalogEntry
        fields = [
            "entry_no",
            "listing",
            "category",
            "product_name",
            "spec_keyword",
            "scope",
            "effective_from",
            "effective_until",
            "document_no",
        ]
        widgets = {"effective_from": DATE, "effective_until": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_name"].help_text = "与产品供应备案的产品名称或规格型号比对"
        self.fields["spec_keyword"].help_text = "可选；备案的规格型号包含该关键字即为命中"
        self.fields["scope"].help_text = "限制类填写不得使用的范围，如 政府投资工程、城六区"
        self.fields["document_no"].help_text = "如 京建发〔2019〕149号"
        if self.instance.pk:
            self.fields["entry_no"].disabled = True
