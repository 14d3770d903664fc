from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def cell(value: Any) -> Any:
    """How a list cell shows a value."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return value


@register.simple_tag(takes_context=True)
def page_url(context: Any, number: int) -> str:
    qs = context.get("querystring", "")
    return f"?{qs}&page={number}" if qs else f"?page={number}"


VERIFY_KINDS = {
    "accounts.organization": ("enterprise", "uscc"),
    "registry.qualification": ("qualification", "pk"),
    "registry.capacity": ("capacity", "pk"),
    "registry.person": ("person", "pk"),
    "registry.project": ("project", "project_code"),
}


@register.filter
def verify_kind(obj: Any) -> str:
    return VERIFY_KINDS[obj._meta.label_lower][0]


@register.filter
def verify_key(obj: Any) -> str:
    return str(getattr(obj, VERIFY_KINDS[obj._meta.label_lower][1]))
