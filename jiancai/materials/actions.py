"""Every change to the material catalog: categories, dated usage references, product filings, catalog entries.

Categories, usage references and catalog entries are shared reference data: every business role reads them,
only the city regulator's business staff changes them (`CATALOG_ROLES` with `shared=True`, decided by the
funnel). Product supply filings belong to their producer, who files and edits them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model

from jiancai.accounts.access import Action, can, role_allows
from jiancai.accounts.models import User
from jiancai.audit.actions import AuditContext, diff, record_event, snapshot
from jiancai.audit.models import AuditAction
from jiancai.registry.actions import STALE_EDIT, save_record
from jiancai.registry.models import StructureType

from .models import CatalogEntry, MaterialCategory, ProductFiling, UsageReference
from .signals import announce

FOUR_PLACES = Decimal("0.0001")
CATEGORY_CODE = re.compile(r"[A-Z][A-Z0-9]{0,7}")
# Enterprise kinds (OrganizationKind.code) that may hold a product supply filing (产品供应备案): producers and plants,
# and supply enterprises, which file the products they sell (seed 000: 建材供应企业凭密备案). XC06/XC07 check every
# supply against its filer's filings.
PRODUCER_KINDS = frozenset({"producer", "supplier", "concrete_plant", "mortar_plant"})


def _stored(instance: Model, field: str) -> Any:
    """The value in the database (a bound ModelForm has already copied the posted values onto `instance`)."""
    return type(instance)._default_manager.filter(pk=instance.pk).values_list(field, flat=True).first()


def save_category(
    *,
    instance: MaterialCategory,
    data: Mapping[str, Any],
    actor: User,
    context: AuditContext,
    reason: str = "",
) -> MaterialCategory:
    """Create or change a material category (the city regulator's business staff); audited with the diff."""
    if not role_allows(actor, MaterialCategory, Action.CHANGE):
        raise PermissionDenied("无权维护材料品类")
    data = {**data}
    if "code" in data:
        data["code"] = str(data["code"] or "").strip().upper()
    if data.get("batch_size") is not None:
        # Stored with three decimals: "60" and "60.000" are the same value, not a change.
        data["batch_size"] = Decimal(data["batch_size"]).quantize(Decimal("0.001"))
    if "code" in data:
        if not instance._state.adding and data["code"] != _stored(instance, "code"):
            # The code names the category in import files, the API and page addresses: it never changes.
            raise ValidationError({"code": ValidationError("品类代码创建后不能修改", code="immutable")})
        if data["code"] and not CATEGORY_CODE.fullmatch(data["code"]):
            raise ValidationError(
                {"code": ValidationError("品类代码应为1–8位大写字母或数字，并以字母开头，如 GJ", code="invalid")}
            )
    saved = save_record(instance=instance, data=data, actor=actor, context=context, reason=reason)
    announce(MaterialCategory, categories=[saved.pk])
    return saved


def change_usage_reference(
    *,
    category: MaterialCategory,
    structure_type: str,
    min_per_m2: Decimal,
    max_per_m2: Decimal,
    per_m2_unit: str,
    effective_from: dt.date,
    actor: User,
    context: AuditContext,
    reason: str = "",
) -> UsageReference:
    """Adopt new usage reference values from `effective_from` on; the values in force before are kept.

    Never overwrites: the open row of the category and structure type is closed the day before
    `effective_from`, and a new open row starts on it, so a check of an earlier date still finds the values
    that were in force then. Both rows and their audit rows are written in one transaction.
    """
    if not role_allows(actor, UsageReference, Action.CHANGE):
        raise PermissionDenied("无权调整单位面积材料用量参考值")
    per_m2_unit = (per_m2_unit or "").strip()
    errors: dict[str, ValidationError] = {}
    if structure_type not in StructureType.values:
        errors["structure_type"] = ValidationError(f"未知的结构型式“{structure_type}”", code="invalid_choice")
    if min_per_m2 is None:
        errors["min_per_m2"] = ValidationError("请填写下限", code="required")
    elif min_per_m2 < 0:
        errors["min_per_m2"] = ValidationError("下限不能为负数", code="min_value")
    if max_per_m2 is None:
        errors["max_per_m2"] = ValidationError("请填写上限", code="required")
    elif min_per_m2 is not None and max_per_m2 < min_per_m2:
        errors["max_per_m2"] = ValidationError("上限不能小于下限", code="range_order")
    if not per_m2_unit:
        errors["per_m2_unit"] = ValidationError("请填写单位，如 kg/㎡、m³/㎡", code="required")
    if effective_from is None:
        errors["effective_from"] = ValidationError("请填写生效日期", code="required")
    if errors:
        raise ValidationError(errors)
    # Stored with four decimals: the audit row shows what the database holds.
    min_per_m2, max_per_m2 = Decimal(min_per_m2).quantize(FOUR_PLACES), Decimal(max_per_m2).quantize(FOUR_PLACES)

    with transaction.atomic():
        # Locking the category serializes changes of its references (also when there is no open row yet).
        locked_category = MaterialCategory.objects.select_for_update().get(pk=category.pk)
        if not can(actor, Action.CHANGE, locked_category):
            raise PermissionDenied("无权调整单位面积材料用量参考值")
        rows = UsageReference.objects.filter(category=locked_category, structure_type=structure_type)
        current = rows.filter(effective_until__isnull=True).select_for_update().first()
        if current is not None:
            if effective_from <= current.effective_from:
                raise ValidationError(
                    {
                        "effective_from": ValidationError(
                            f"生效日期须晚于现行参考值的生效日期（{current.effective_from:%Y-%m-%d}），"
                            "已生效的参考值不能被覆盖",
                            code="not_after_current",
                        )
                    }
                )
            if (current.min_per_m2, current.max_per_m2, current.per_m2_unit) == (min_per_m2, max_per_m2, per_m2_unit):
                raise ValidationError("新参考值与现行参考值相同，无需调整", code="unchanged")
        else:
            last = rows.order_by("-effective_until").first()
            if last is not None and last.effective_until is not None and effective_from <= last.effective_until:
                raise ValidationError(
                    {
                        "effective_from": ValidationError(
                            f"生效日期须晚于上一参考值的失效日期（{last.effective_until:%Y-%m-%d}）",
                            code="overlap",
                        )
                    }
                )
        if current is not None:
            before = snapshot(current)
            current.effective_until = effective_from - dt.timedelta(days=1)
            current.save(update_fields=["effective_until"])
            record_event(
                context=context,
                action=AuditAction.UPDATE,
                target=current,
                changes=diff(before, snapshot(current)),
                reason=reason or f"由{effective_from:%Y-%m-%d}起生效的新参考值接替",
            )
        new = UsageReference(
            category=locked_category,
            structure_type=structure_type,
            min_per_m2=min_per_m2,
            max_per_m2=max_per_m2,
            per_m2_unit=per_m2_unit,
            effective_from=effective_from,
        )
        new.full_clean()
        new.save()
        if not can(actor, Action.CHANGE, new):
            raise PermissionDenied("无权调整单位面积材料用量参考值")
        record_event(
            context=context, action=AuditAction.CREATE, target=new, changes=diff({}, snapshot(new)), reason=reason
        )
        announce(UsageReference, categories=[locked_category.pk])
    return new


def usage_reference_on(category: MaterialCategory | str, structure_type: str, on: dt.date) -> UsageReference | None:
    """The usage reference of a category (instance or code) and structure type in force on a date, if any."""
    rows = UsageReference.objects.in_force(on).filter(structure_type=structure_type)
    if isinstance(category, MaterialCategory):
        rows = rows.filter(category=category)
    else:
        rows = rows.filter(category__code=category)
    return rows.order_by("-effective_from").first()


def save_product_filing(
    *,
    instance: ProductFiling,
    data: Mapping[str, Any],
    actor: User,
    context: AuditContext,
    expected_version: int | None = None,
    reason: str = "",
) -> ProductFiling:
    """Create or change a product supply filing on behalf of its producer (org_admin or staff).

    An edit with changes bumps `version`; an edit that changes nothing writes nothing. A stale edit (another
    user saved in between) is refused. The producer must be one of the actor's own producing enterprises.
    """
    if not role_allows(actor, ProductFiling, Action.CHANGE):
        raise PermissionDenied("无权维护产品供应备案")
    creating = instance._state.adding
    data = {**data}
    if "filing_no" in data:
        data["filing_no"] = str(data["filing_no"] or "").strip()
        if not creating and data["filing_no"] != _stored(instance, "filing_no"):
            raise ValidationError({"filing_no": ValidationError("备案编号创建后不能修改", code="immutable")})
    with transaction.atomic():
        if creating:
            row, before = instance, {}
        else:
            row = ProductFiling.objects.select_for_update().get(pk=instance.pk)
            if not can(actor, Action.CHANGE, row):
                raise PermissionDenied("无权修改该产品供应备案")
            if expected_version is not None and row.version != expected_version:
                message = STALE_EDIT.format(current=row.version, expected=expected_version)
                raise ValidationError({"version": ValidationError(message, code="stale_version")})
            before = snapshot(row)
        producer_before = row.producer_id if not creating else None
        for name, value in data.items():
            setattr(row, name, value)
        row.full_clean()
        producer = row.producer
        if not producer.kinds.filter(code__in=PRODUCER_KINDS).exists():
            raise ValidationError(
                {
                    "producer": ValidationError(
                        f"{producer.name}不是生产或供应企业，不能办理产品供应备案", code="not_producer"
                    )
                }
            )
        changes = diff(before, snapshot(row))
        if not creating:
            if not changes:
                return row
            changes["version"] = [row.version, row.version + 1]
            row.version += 1
        row.save()
        if not can(actor, Action.CHANGE, row):
            raise PermissionDenied(f"不能为其他单位{'新增' if creating else '修改'}产品供应备案")
        record_event(
            context=context,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            target=row,
            changes=changes,
            reason=reason,
        )
        # The supplies of the producer (before and after a change of producer) are checked again once this commits.
        announce(ProductFiling, organizations=[producer_before, row.producer_id])
    if row is not instance:
        instance.refresh_from_db()
    return row


def save_catalog_entry(
    *,
    instance: CatalogEntry,
    data: Mapping[str, Any],
    actor: User,
    context: AuditContext,
    reason: str = "",
) -> CatalogEntry:
    """Create or change an entry of the promoted / restricted / prohibited catalog (the city regulator)."""
    if not role_allows(actor, CatalogEntry, Action.CHANGE):
        raise PermissionDenied("无权维护推广、限制、禁止使用目录")
    data = {**data}
    if "entry_no" in data:
        data["entry_no"] = str(data["entry_no"] or "").strip()
        if not instance._state.adding and data["entry_no"] != _stored(instance, "entry_no"):
            raise ValidationError({"entry_no": ValidationError("目录编号创建后不能修改", code="immutable")})
    # The entry's category before and after the change: purchases of both are re-checked.
    before = None if instance._state.adding else _stored(instance, "category_id")
    with transaction.atomic():
        saved = save_record(instance=instance, data=data, actor=actor, context=context, reason=reason)
        announce(CatalogEntry, categories=[before, saved.category_id])
    return saved
