"""Every change of yearly statistics and targets, each with its audit row in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.models import District
from jiancai.accounts.roles import OrgType
from jiancai.audit.actions import AuditContext, diff, record_event, snapshot
from jiancai.audit.models import AuditAction

from .models import FIGURE_FIELDS, Target, YearlyStatistic


def may_act_for(user: Any, district: District | None, action: str = Action.VIEW) -> bool:
    """The region rule of the funnel: the city regulator acts for the city and every district, a district
    regulator for its own district only; everyone else for none."""
    if not role_allows(user, YearlyStatistic, action):
        return False
    org = user.organization
    if org.org_type == OrgType.CITY_REGULATOR:
        return True
    if org.org_type == OrgType.DISTRICT_REGULATOR:
        return district is not None and district.pk == org.district_id
    return False


def require_region(user: Any, district: District | None, action: str = Action.VIEW) -> None:
    if not may_act_for(user, district, action):
        region = district.name if district is not None else "全市"
        raise PermissionDenied(f"无权{'查看' if action == Action.VIEW else '维护'}{region}的统计数据")


def save_statistic(
    *,
    district: District | None,
    year: int,
    figures: Mapping[str, Decimal | None],
    source: str = "",
    note: str = "",
    expected_version: int | None,
    actor: Any,
    context: AuditContext,
) -> YearlyStatistic:
    """Enter a region's yearly statistics: the first version, or a new version replacing the current one.

    `expected_version` is the version the user edited (None when entering the first one); a stale edit is refused."""
    require_region(actor, district, Action.CHANGE)
    unknown = set(figures) - set(FIGURE_FIELDS)
    if unknown:
        raise ValidationError(f"未知的统计项：{'、'.join(sorted(unknown))}")
    negative = [f for f, v in figures.items() if v is not None and v < 0]
    if negative:
        raise ValidationError({f: ValidationError("不能为负数", code="negative") for f in negative})
    with transaction.atomic():
        current = (
            YearlyStatistic.objects.select_for_update()
            .current()
            .of_region(district)
            .filter(year=year)
            .order_by("pk")
            .first()
        )
        if current is not None and expected_version is None:
            raise ValidationError(
                f"{current.region_name}{year}年度统计已存在（第{current.version}版），请在其页面修改", code="exists"
            )
        if current is None and expected_version is not None:
            raise ValidationError("该年度统计已不存在，请刷新后重试", code="stale")
        if current is not None and current.version != expected_version:
            raise ValidationError(
                f"{current.region_name}{year}年度统计已被修改（当前第{current.version}版），请刷新后重试", code="stale"
            )
        row = YearlyStatistic(
            district=district,
            year=year,
            source=source,
            note=note,
            version=(current.version + 1) if current else 1,
            entered_by=actor,
            entered_by_name=getattr(actor, "display_name", "") or actor.username,
            **{f: _thousandths(figures.get(f)) for f in FIGURE_FIELDS},
        )
        row.full_clean(exclude=["entered_by"], validate_constraints=False)
        if current is not None:
            before = snapshot(current, [*FIGURE_FIELDS, "source", "note"])
            after = snapshot(row, [*FIGURE_FIELDS, "source", "note"])
            if before == after:
                return current  # nothing changed: no new version
            current.is_current = False
            current.save(update_fields=["is_current"])
            row.save()
            record_event(
                context=context,
                action=AuditAction.UPDATE,
                target=row,
                changes={"version": row.version, **diff(before, after)},
            )
        else:
            row.save()
            record_event(context=context, action=AuditAction.CREATE, target=row, changes=snapshot(row))
    return row


def _thousandths(value: Decimal | None) -> Decimal | None:
    """As stored (3 decimals), so a resubmitted figure compares equal to the stored one."""
    return None if value is None else Decimal(value).quantize(Decimal("0.001"))


TARGET_FIELDS = ("indicator", "district", "value", "direction", "deadline", "basis")


def save_target(
    *,
    target: Target | None,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    actor: Any,
    context: AuditContext,
) -> Target:
    """Create a target, or change one (optimistic: `expected_version` must still be its version)."""
    with transaction.atomic():
        if target is not None:
            require_region(actor, target.district, Action.CHANGE)
            target = Target.objects.select_for_update().order_by().get(pk=target.pk)
            if expected_version is not None and target.version != expected_version:
                raise ValidationError("该目标已被他人修改，请刷新后重试", code="stale")
            before = snapshot(target)
        else:
            target = Target()
            before = None
        for name in TARGET_FIELDS:
            if name in data:
                setattr(target, name, data[name])
        require_region(actor, target.district, Action.CHANGE)
        try:
            target.full_clean()
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "__all__" in exc.error_dict:
                raise ValidationError("该区域该指标在同一期限已有目标", code="duplicate") from exc
            raise
        if before is None:
            target.save()
            record_event(context=context, action=AuditAction.CREATE, target=target, changes=snapshot(target))
        else:
            changes = diff(before, snapshot(target))
            if not changes:
                return target
            target.version += 1
            target.save()
            record_event(context=context, action=AuditAction.UPDATE, target=target, changes=changes)
    return target
