"""Pages of statistics (统计指标): the indicators of a region's year with targets and progress, the yearly
statistics regulators enter, targets, and the reports page with its audited downloads."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from jiancai.accounts.access import Action, get_for, role_allows
from jiancai.accounts.context import acting_user, audit_context
from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction, AuditEvent
from jiancai.ui.lists import Column, ScopedListView
from jiancai.ui.pages import form_page

from . import actions, documents, reports
from .figures import region_year, target_progress
from .filters import StatisticFilter, TargetFilter
from .forms import ReportForm, StatisticForm, TargetForm, district_of
from .models import FIGURE_FIELDS, Target, YearlyStatistic
from .regions import region_choices, region_value, resolve_region


def _require_viewer(request: HttpRequest) -> Any:
    user = acting_user(request)
    if not role_allows(user, YearlyStatistic, Action.VIEW) or not region_choices(user):
        raise PermissionDenied("无权查看统计指标")
    return user


def _year(value: str | None) -> int:
    try:
        year = int(value or timezone.localdate().year)
    except ValueError as exc:
        raise Http404("年度无效") from exc
    if not 2000 <= year <= 2100:
        raise Http404("年度无效")
    return year


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = _require_viewer(request)
    district = resolve_region(user, request.GET.get("region"))
    year = _year(request.GET.get("year"))
    figures = region_year(user=user, district=district, year=year)
    targets = Target.objects.visible_to(user, Action.VIEW)
    targets = targets.filter(district=district) if district else targets.filter(district__isnull=True)
    context = {
        "title": f"统计指标：{figures.region_name} {year}年",
        "figures": figures,
        "progress": target_progress(user=user, targets=targets, year=year),
        "regions": region_choices(user),
        "region": region_value(district),
        "year": year,
        "statistic": figures.statistic,
        "can_change": actions.may_act_for(user, district, Action.CHANGE),
    }
    return render(request, "indicators/overview.html", context)


class StatisticList(ScopedListView):
    model = YearlyStatistic
    filterset_class = StatisticFilter
    title = "年度统计"
    related = ("district",)
    create_url_name = "indicators:statistic_create"
    columns = (
        Column("区域 / 年度", lambda s: f"{s.region_name} {s.year}年"),
        Column("版本", "version"),
        Column("当前版本", "is_current"),
        Column("水泥使用量（万吨）", "cement_used"),
        Column("散装水泥使用量（万吨）", "bulk_cement_used"),
        Column("预拌混凝土供应量（万立方米）", "concrete_supplied"),
        Column("预拌砂浆使用量（万吨）", "mortar_used"),
        Column("数据来源", "source"),
        Column("填报人", "entered_by_name"),
        Column("填报时间", "created_at"),
    )


def _changes(event: AuditEvent, labels: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """An audit row's changes as (label, old, new); a created row's values have no old value."""
    rows = []
    for name, value in (event.changes or {}).items():
        if name not in labels:
            continue
        old, new = value if isinstance(value, list) and len(value) == 2 else (None, value)
        rows.append((str(labels[name]), old, new))
    return rows


@login_required
def statistic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    statistic = get_for(YearlyStatistic.objects.select_related("district"), user, pk=pk)
    versions = YearlyStatistic.objects.visible_to(user).filter(year=statistic.year, district=statistic.district)
    shown = ("year", *FIGURE_FIELDS, "source", "note", "version", "entered_by_name", "created_at")
    labels = {f.name: f.verbose_name for f in YearlyStatistic._meta.concrete_fields}
    fields = [(labels[name], getattr(statistic, name)) for name in shown]
    events = AuditEvent.objects.filter(
        target_type=YearlyStatistic._meta.label_lower, target_id__in=[str(v.pk) for v in versions]
    ).order_by("-seq")[:50]
    history = [
        (
            event,
            [
                (
                    str(labels.get(name, name)),
                    *(value if isinstance(value, list) and len(value) == 2 else (None, value)),
                )
                for name, value in (event.changes or {}).items()
                if name in labels or name == "version"
            ],
        )
        for event in events
    ]
    context = {
        "title": str(statistic),
        "statistic": statistic,
        "fields": fields,
        "history": history,
        "versions": versions.order_by("-version"),
        "can_change": statistic.is_current and actions.may_act_for(user, statistic.district, Action.CHANGE),
        "overview_url": f"{reverse('indicators:overview')}?region={region_value(statistic.district)}"
        f"&year={statistic.year}",
    }
    return render(request, "indicators/statistic_detail.html", context)


@login_required
def statistic_create(request: HttpRequest) -> HttpResponse:
    user = _require_viewer(request)
    if not role_allows(user, YearlyStatistic, Action.CHANGE):
        raise PermissionDenied("无权填报年度统计")
    form = StatisticForm(request.POST or None, user=user)

    def save(form: StatisticForm) -> YearlyStatistic:
        return actions.save_statistic(
            district=district_of(form.cleaned_data["region"]),
            year=form.cleaned_data["year"],
            figures=form.figures(),
            source=form.cleaned_data["source"],
            note=form.cleaned_data["note"],
            expected_version=None,
            actor=user,
            context=audit_context(request),
        )

    return form_page(
        request,
        form=form,
        title="填报年度统计",
        save=save,
        cancel_url=reverse("indicators:statistic_list"),
        success="年度统计已保存",
    )


@login_required
def statistic_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    statistic = get_for(YearlyStatistic.objects.select_related("district"), user, Action.CHANGE, pk=pk)
    actions.require_region(user, statistic.district, Action.CHANGE)
    initial = {
        "region": region_value(statistic.district),
        "year": statistic.year,
        "source": statistic.source,
        "note": statistic.note,
        "expected_version": statistic.version,
        **statistic.inputs(),
    }
    form = StatisticForm(request.POST or None, user=user, fixed=True, initial=initial)

    def save(form: StatisticForm) -> YearlyStatistic:
        return actions.save_statistic(
            district=statistic.district,
            year=statistic.year,
            figures=form.figures(),
            source=form.cleaned_data["source"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["expected_version"],
            actor=user,
            context=audit_context(request),
        )

    return form_page(
        request,
        form=form,
        title=f"修改{statistic.region_name}{statistic.year}年度统计（保存为新版本）",
        save=save,
        cancel_url=statistic.get_absolute_url(),
        success="年度统计已保存为新版本",
    )


class TargetList(ScopedListView):
    model = Target
    filterset_class = TargetFilter
    title = "发展目标"
    related = ("district",)
    create_url_name = "indicators:target_create"
    columns = (
        Column("指标", "indicator"),
        Column("区域", "region_name"),
        Column("目标", lambda t: t.get_direction_display() + t.value_text),
        Column("完成期限", "deadline"),
        Column("依据", "basis"),
        Column("最后修改", "updated_at"),
    )


def _target_page(request: HttpRequest, target: Target | None) -> HttpResponse:
    user = acting_user(request)
    form = TargetForm(request.POST or None, instance=target, user=user)

    def save(form: TargetForm) -> Target:
        data = {**form.cleaned_data, "district": district_of(form.cleaned_data["region"])}
        try:
            return actions.save_target(
                target=target,
                data=data,
                expected_version=form.cleaned_data.get("expected_version"),
                actor=user,
                context=audit_context(request),
            )
        except ValidationError:
            if target is not None:
                target.refresh_from_db()
            raise

    return form_page(
        request,
        form=form,
        title="修改发展目标" if target else "新增发展目标",
        save=save,
        cancel_url=reverse("indicators:target_list"),
        success="发展目标已保存",
    )


@login_required
def target_create(request: HttpRequest) -> HttpResponse:
    user = _require_viewer(request)
    if not role_allows(user, Target, Action.CHANGE):
        raise PermissionDenied("无权维护发展目标")
    return _target_page(request, None)


@login_required
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    target = get_for(Target.objects.select_related("district"), user, Action.CHANGE, pk=pk)
    actions.require_region(user, target.district, Action.CHANGE)
    return _target_page(request, target)


# ---------------------------------------------------------------------------------------------- reports

REPORTS = {
    "monthly": "建材监管月报",
    "concrete": "预拌混凝土生产企业情况统计表",
    "mortar": "预拌砂浆生产企业情况统计表",
}


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    user = _require_viewer(request)
    form = ReportForm(request.GET or None, user=user)
    links: list[dict[str, Any]] = []
    region = str(form.fields["region"].initial or region_choices(user)[0][0])
    month_text, year = str(form.fields["month"].initial), int(form.fields["year"].initial)
    if form.is_valid():
        region, year = form.cleaned_data["region"], form.cleaned_data["year"]
        month_text = f"{form.cleaned_data['month']:%Y-%m}"
    for name, label in REPORTS.items():
        query = f"region={region}&month={month_text}" if name == "monthly" else f"region={region}&year={year}"
        links.append(
            {
                "label": label,
                "period": month_text if name == "monthly" else f"{year}年",
                "pdf": f"{reverse('indicators:report_download', args=[name, 'pdf'])}?{query}",
                "xlsx": f"{reverse('indicators:report_download', args=[name, 'xlsx'])}?{query}",
            }
        )
    context = {"title": "统计报表", "form": form, "links": links}
    return render(request, "indicators/reports.html", context)


@login_required
def report_download(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    user = _require_viewer(request)
    if name not in REPORTS or fmt not in ("pdf", "xlsx"):
        raise Http404("报表不存在")
    district = resolve_region(user, request.GET.get("region"))
    params: dict[str, Any] = {"report": REPORTS[name], "region": reports.region_name(district), "format": fmt}
    if name == "monthly":
        data = {"region": region_value(district), "month": request.GET.get("month", ""), "year": 2000}
        form = ReportForm(data, user=user)
        if not form.is_valid():
            raise Http404("月份格式应为 YYYY-MM")
        month = form.cleaned_data["month"]
        report = reports.monthly_report(user=user, district=district, month=month)
        params["month"] = f"{month:%Y-%m}"
    else:
        year = _year(request.GET.get("year"))
        report = reports.plant_summary(user=user, district=district, kind=name, year=year)
        params["year"] = year
    response = documents.download(report, fmt)
    params["rows"] = sum(len(t.rows) for t in report.tables)
    record_event(
        context=audit_context(request),
        action=AuditAction.EXPORT,
        target_type="indicators.report",
        target_id=name,
        target_repr=report.title,
        changes=params,
    )
    return response
