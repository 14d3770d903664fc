"""预警分析: the month's aggregate warnings (monitoring.warnings) for regulators, with filters and export."""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from jiancai.accounts.access import get_for
from jiancai.materials.filters import category_filter
from jiancai.registry.filters import SearchFilterSet, district_filter
from jiancai.ui.lists import Column, ScopedListView

from .models import EarlyWarning, WarningKind, WarningTopic


class EarlyWarningFilter(SearchFilterSet):
    search_fields = ("message", "spec", "organization__name", "organization__uscc")
    q = df.CharFilter(label="关键字", method="search")
    kind = df.ChoiceFilter(choices=WarningKind.choices, label="预警类型")
    topic = df.ChoiceFilter(choices=WarningTopic.choices, label="预警事项")
    period = df.DateFilter(field_name="period", label="期间（当月任一日）", method="in_month")
    category = category_filter()
    district = district_filter("district")

    class Meta:
        model = EarlyWarning
        fields: list[str] = []

    def in_month(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.filter(period=value.replace(day=1)) if value else queryset


class EarlyWarningList(ScopedListView):
    model = EarlyWarning
    filterset_class = EarlyWarningFilter
    title = "预警分析"
    related = ("category", "district", "organization")
    columns = (
        Column("期间", lambda w: f"{w.period:%Y-%m}"),
        Column("预警类型", "kind"),
        Column("预警事项", "topic"),
        Column("材料品类", "category.name"),
        Column("规格型号", "spec"),
        Column("区域", "district.name"),
        Column("企业", "organization.name"),
        Column("预警内容", "message"),
        Column("计算时间", "computed_at"),
    )


# The figures a warning was computed from (EarlyWarning.evidence keys), in Chinese.
EVIDENCE_LABELS = {
    "tests": "检测批次",
    "failed": "不合格批次",
    "rate": "不合格率",
    "baseline_tests": "近12个月检测批次",
    "baseline_failed": "近12个月不合格批次",
    "baseline_factor": "基准倍数",
    "category_rate": "全市该品类本月不合格率",
    "threshold": "预警阈值",
    "test_kinds": "计入的检测类别",
    "demand": "本月需求",
    "capacity": "本区登记月产能",
    "unit": "计量单位",
    "projects": "在建项目数",
    "construction_months": "均摊工期（月）",
    "margin": "缺口容差",
    "factor": "过剩倍数",
    "average": "本月加权均价（元）",
    "previous": "上月加权均价（元）",
    "movement": "变动幅度",
    "purchases": "采购笔数",
    "quantity": "采购数量",
    "price": "单价（元）",
    "q1": "下四分位数 Q1（元）",
    "q3": "上四分位数 Q3（元）",
    "iqr": "四分位距 IQR（元）",
    "low": "下围栏 Q1−1.5·IQR（元）",
    "high": "上围栏 Q3+1.5·IQR（元）",
    "prices": "本月同品类同规格价格笔数",
    "purchase_no": "采购单号",
    # credit warnings (registered by the credit app)
    "uscc": "统一社会信用代码",
    "score_before": "月初信用分",
    "score_after": "月末信用分",
    "rating_before": "月初信用等级",
    "rating_after": "月末信用等级",
    "fall_threshold": "预警降幅（分）",
    "records": "本月认定的不良行为",
    "suppliers": "供应企业数",
    "average_before": "月初平均信用分",
    "average_after": "月末平均信用分",
    "fallen": "信用分下降的企业",
}


def warning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    warning = get_for(EarlyWarning.objects.select_related("category", "district", "organization"), request.user, pk=pk)
    fields = [
        ("期间", f"{warning.period:%Y年%m月}"),
        ("预警类型", warning.get_kind_display()),
        ("预警事项", warning.get_topic_display()),
        ("材料品类", warning.category.name if warning.category else None),
        ("规格型号", warning.spec or None),
        ("区域", warning.district.name if warning.district else "全市"),
        ("企业", warning.organization.name if warning.organization else None),
        ("预警内容", warning.message),
        ("计算时间", warning.computed_at),
    ]
    evidence = [
        (EVIDENCE_LABELS.get(key, key), "、".join(value) if isinstance(value, list) else value)
        for key, value in warning.evidence.items()
        if key != "purchase_id"
    ]
    purchase_id = warning.evidence.get("purchase_id")
    context = {
        "title": f"{warning.get_kind_display()}：{warning.get_topic_display()}",
        "fields": fields,
        "evidence": evidence,
        "purchase_url": reverse("filings:purchase_detail", args=[purchase_id]) if purchase_id else "",
    }
    return render(request, "monitoring/warning_detail.html", context)
