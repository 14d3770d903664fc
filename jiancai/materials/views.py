"""Pages of the material catalog: categories with their dated usage references, product supply filings, and the
promoted / restricted / prohibited catalog. Reads go through the funnel; every change through materials.actions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import models
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from jiancai.accounts.access import Action, can, get_for
from jiancai.accounts.context import acting_user, audit_context
from jiancai.audit.models import AuditEvent
from jiancai.registry.models import StructureType
from jiancai.ui.lists import Column, ScopedListView
from jiancai.ui.pages import form_page, require_change

from . import actions, filters, forms
from .models import CatalogEntry, MaterialCategory, ProductFiling, UsageReference, plain_decimal

STRUCTURE_ORDER = {value: i for i, value in enumerate(StructureType.values)}


def _structure_key(ref: UsageReference) -> tuple[int, int]:
    return STRUCTURE_ORDER.get(ref.structure_type, len(STRUCTURE_ORDER)), -ref.effective_from.toordinal()


def batch_text(category: MaterialCategory) -> str:
    return f"{plain_decimal(category.batch_size)} {category.unit}" if category.batch_size is not None else ""


def current_references_text(category: MaterialCategory) -> list[str]:
    refs = sorted(getattr(category, "current_references", []), key=_structure_key)
    return [f"{r.structure_type} {r.range_text}" for r in refs]


# ---------------------------------------------------------------------------------------------------- lists


class CategoryList(ScopedListView):
    model = MaterialCategory
    filterset_class = filters.CategoryFilter
    title = "材料品类"
    create_url_name = "materials:category_create"
    paginate_by = 50
    columns = (
        Column("品类代码", "code"),
        Column("品类名称", "name"),
        Column("计量单位", "unit"),
        Column("需见证复试", "witness_retest_required"),
        Column("检验批量", batch_text),
        Column("取样规则说明", "batch_rule"),
        Column("现行单位面积用量参考值", current_references_text),
    )

    def get_queryset(self) -> models.QuerySet[Any]:
        in_force = UsageReference.objects.in_force(timezone.localdate())
        return (
            super()
            .get_queryset()
            .prefetch_related(Prefetch("usage_references", in_force, to_attr="current_references"))
        )


def _filing_status(filing: ProductFiling) -> str:
    return "有效" if filing.valid_on(timezone.localdate()) else "已过期"


def _report_status(filing: ProductFiling) -> str:
    return "有效" if filing.type_report_valid_on(timezone.localdate()) else "已过期"


class ProductFilingList(ScopedListView):
    model = ProductFiling
    filterset_class = filters.ProductFilingFilter
    title = "产品供应备案"
    create_url_name = "materials:filing_create"
    related = ("producer", "category")
    columns = (
        Column("备案编号", "filing_no"),
        Column("生产企业", "producer.name"),
        Column("材料品类", "category.name"),
        Column("产品名称", "product_name"),
        Column("规格型号", "spec"),
        Column("型式检验报告编号", "type_report_no"),
        Column("型式检验机构", "type_report_agency"),
        Column("报告有效期至", "type_report_valid_until"),
        Column("报告状态", _report_status),
        Column("备案有效期至", "valid_until"),
        Column("备案状态", _filing_status),
        Column("版本", "version"),
    )

    def can_create(self) -> bool:
        # Only an enterprise that produces materials files products; others would meet an empty producer choice.
        user = self.request.user
        return super().can_create() and forms.producer_choices(user).exists()


def _entry_status(entry: CatalogEntry) -> str:
    return entry.status_on(timezone.localdate())


class CatalogEntryList(ScopedListView):
    model = CatalogEntry
    filterset_class = filters.CatalogEntryFilter
    title = "推广、限制、禁止使用目录"
    create_url_name = "materials:catalog_create"
    related = ("category",)
    columns = (
        Column("目录编号", "entry_no"),
        Column("类别", "listing"),
        Column("材料品类", "category.name"),
        Column("产品名称", "product_name"),
        Column("规格型号关键字", "spec_keyword"),
        Column("限制范围", "scope"),
        Column("生效日期", "effective_from"),
        Column("失效日期", "effective_until"),
        Column("发布文号", "document_no"),
        Column("状态", _entry_status),
    )


# ---------------------------------------------------------------------------------------------------- details


def _fields(obj: models.Model, names: Sequence[str]) -> list[tuple[str, Any]]:
    rows = []
    for name in names:
        field = obj._meta.get_field(name)
        display = getattr(obj, f"get_{name}_display", None)
        value = display() if display is not None else getattr(obj, name)
        if isinstance(value, Decimal):
            value = plain_decimal(value)
        rows.append((str(getattr(field, "verbose_name", name)), value))
    return rows


def _history(targets: Iterable[models.Model], limit: int = 100) -> list[dict[str, Any]]:
    """Audit rows of the given records, newest first, with field names turned into their Chinese labels."""
    condition = Q(pk__in=[])
    labels: dict[str, dict[str, str]] = {}
    ids: dict[str, list[str]] = {}
    for obj in targets:
        label = obj._meta.label_lower
        labels.setdefault(label, {f.name: str(f.verbose_name) for f in obj._meta.concrete_fields})
        ids.setdefault(label, []).append(str(obj.pk))
    for label, pks in ids.items():
        condition |= Q(target_type=label, target_id__in=pks)
    rows = []
    for event in AuditEvent.objects.filter(condition).order_by("-seq")[:limit]:
        names = labels.get(event.target_type, {})
        changes = [
            (names.get(key, key), *(value if isinstance(value, list) and len(value) == 2 else (None, value)))
            for key, value in (event.changes or {}).items()
        ]
        rows.append({"event": event, "changes": changes})
    return rows


def _detail(request: HttpRequest, template: str, obj: models.Model, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"obj": obj, "title": str(obj), "history": _history([obj]), **context})


@login_required
def category_detail(request: HttpRequest, code: str) -> HttpResponse:
    category = get_for(MaterialCategory.objects.all(), request.user, code=code)
    today = timezone.localdate()
    refs = sorted(category.usage_references.all(), key=_structure_key)
    can_edit = can(request.user, Action.CHANGE, category)
    structures: list[dict[str, Any]] = []
    for ref in refs:
        if not structures or structures[-1]["structure_type"] != ref.structure_type:
            structures.append({"structure_type": ref.structure_type, "rows": []})
        structures[-1]["rows"].append(
            {
                "ref": ref,
                "min": plain_decimal(ref.min_per_m2),
                "max": plain_decimal(ref.max_per_m2),
                "status": ref.status_on(today),
            }
        )
    fields = _fields(category, ["code", "name", "unit", "witness_retest_required"])
    fields += [("检验批量", batch_text(category)), *_fields(category, ["batch_rule", "sort"])]
    context = {
        "title": f"{category.name}（{category.code}）",
        "fields": fields,
        "structures": structures,
        "can_edit": can_edit,
        "actions": (
            [
                {"label": "修改品类", "url": reverse("materials:category_edit", args=[category.code])},
                {"label": "调整参考值", "url": reverse("materials:usage_change", args=[category.code])},
            ]
            if can_edit
            else []
        ),
        "history": _history([category, *refs]),
        "today": today,
    }
    return render(request, "materials/category_detail.html", {"obj": category, **context})


@login_required
def filing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    filing = get_for(ProductFiling.objects.select_related("producer", "category"), request.user, pk=pk)
    today = timezone.localdate()
    fields = _fields(filing, forms.ProductFilingForm.Meta.fields)
    fields += [("版本", filing.version), ("更新时间", filing.updated_at)]
    edit = can(request.user, Action.CHANGE, filing)
    context = {
        "fields": fields,
        "badge": "有效" if filing.valid_on(today) else "已过期",
        "badge_class": "ok" if filing.valid_on(today) else "bad",
        "actions": [{"label": "修改", "url": reverse("materials:filing_edit", args=[filing.pk])}] if edit else [],
        "back_url": reverse("materials:filing_list"),
    }
    return _detail(request, "materials/detail.html", filing, context)


@login_required
def catalog_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_for(CatalogEntry.objects.select_related("category"), request.user, pk=pk)
    status = entry.status_on(timezone.localdate())
    edit = can(request.user, Action.CHANGE, entry)
    context = {
        "fields": _fields(entry, forms.CatalogEntryForm.Meta.fields),
        "badge": status,
        "badge_class": "ok" if status == "有效" else "pending" if status == "未生效" else "bad",
        "actions": [{"label": "修改", "url": reverse("materials:catalog_edit", args=[entry.pk])}] if edit else [],
        "back_url": reverse("materials:catalog_list"),
    }
    return _detail(request, "materials/detail.html", entry, context)


# ---------------------------------------------------------------------------------------------------- forms


@login_required
def category_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    require_change(request, MaterialCategory)
    user = acting_user(request)
    instance = get_for(MaterialCategory.objects.all(), user, Action.CHANGE, code=code) if code else MaterialCategory()
    form = forms.CategoryForm(request.POST or None, instance=instance, user=user)

    def save(f: Any) -> models.Model:
        return actions.save_category(
            instance=instance, data=f.data_for_action(), actor=user, context=audit_context(request)
        )

    return form_page(
        request,
        form=form,
        title=f"修改材料品类：{instance.name}" if code else "新增材料品类",
        save=save,
        cancel_url=instance.get_absolute_url() if code else reverse("materials:category_list"),
        success="材料品类已保存",
    )


@login_required
def usage_change(request: HttpRequest, code: str) -> HttpResponse:
    user = acting_user(request)
    category = get_for(MaterialCategory.objects.all(), user, Action.CHANGE, code=code)
    initial = {"structure_type": request.GET.get("structure_type", "")}
    form = forms.UsageReferenceChangeForm(request.POST or None, category=category, initial=initial)

    def save(f: Any) -> models.Model:
        data = f.cleaned_data
        return actions.change_usage_reference(
            category=category,
            structure_type=data["structure_type"],
            min_per_m2=data["min_per_m2"],
            max_per_m2=data["max_per_m2"],
            per_m2_unit=data["per_m2_unit"],
            effective_from=data["effective_from"],
            actor=user,
            context=audit_context(request),
            reason=data.get("reason", ""),
        )

    return form_page(
        request,
        form=form,
        title=f"调整{category.name}单位面积材料用量参考值",
        save=save,
        cancel_url=category.get_absolute_url(),
        success="参考值已调整；原参考值对其有效期内的日期继续适用",
        submit_label="确认调整",
    )


@login_required
def filing_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_change(request, ProductFiling)
    user = acting_user(request)
    instance = get_for(ProductFiling.objects.all(), user, Action.CHANGE, pk=pk) if pk else ProductFiling()
    form = forms.ProductFilingForm(request.POST or None, instance=instance, user=user)

    def save(f: Any) -> models.Model:
        return actions.save_product_filing(
            instance=instance,
            data=f.data_for_action(),
            actor=user,
            context=audit_context(request),
            expected_version=f.cleaned_data.get("expected_version"),
        )

    return form_page(
        request,
        form=form,
        title=f"修改产品供应备案：{instance}" if pk else "新增产品供应备案",
        save=save,
        cancel_url=instance.get_absolute_url() if pk else reverse("materials:filing_list"),
        success="产品供应备案已保存",
    )


@login_required
def catalog_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_change(request, CatalogEntry)
    user = acting_user(request)
    instance = get_for(CatalogEntry.objects.all(), user, Action.CHANGE, pk=pk) if pk else CatalogEntry()
    form = forms.CatalogEntryForm(request.POST or None, instance=instance, user=user)

    def save(f: Any) -> models.Model:
        return actions.save_catalog_entry(
            instance=instance, data=f.data_for_action(), actor=user, context=audit_context(request)
        )

    return form_page(
        request,
        form=form,
        title=f"修改目录条目：{instance.entry_no}" if pk else "新增目录条目",
        save=save,
        cancel_url=instance.get_absolute_url() if pk else reverse("materials:catalog_list"),
        success="目录条目已保存",
    )
