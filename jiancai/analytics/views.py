"""The regulator dashboard page (数据分析): the city regulator chooses the city or a district, a district regulator
sees its own district only (regions as the statistics pages take them)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.context import acting_user
from jiancai.indicators.regions import region_choices, region_value, resolve_region

from . import selectors
from .models import FilingRollup


def parse_month(value: str | None) -> tuple[dt.date, str]:
    """The month the page is about (default: this month) and a Chinese error for a malformed one."""
    this_month = timezone.localdate().replace(day=1)
    if not value:
        return this_month, ""
    try:
        return dt.datetime.strptime(value, "%Y-%m").date(), ""
    except ValueError:
        return this_month, f"月份：“{value}”格式不正确，应为 YYYY-MM，已显示本月"


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not role_allows(user, FilingRollup, Action.VIEW) or not region_choices(user):
        raise PermissionDenied("无权查看数据分析")
    district = resolve_region(user, request.GET.get("region"))
    region = region_value(district)
    month, error = parse_month(request.GET.get("month"))
    board = selectors.dashboard(user, district, month, region)
    context = {
        "title": "数据分析",
        "board": board,
        "error": error,
        "region_label": district.name if district else "全市",
        "regions": region_choices(user),
        "charts": [p.as_json() for p in board.panels],
    }
    return render(request, "analytics/dashboard.html", context)
