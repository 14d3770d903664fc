"""The regions a user may ask about (the city and every district for the city regulator; its own district for a
district regulator), as the `region` query parameter carries them: "city" or a district code."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from jiancai.accounts.access import Action
from jiancai.accounts.models import District
from jiancai.accounts.roles import OrgType

from .actions import require_region
from .models import CITY_LABEL

CITY = "city"


def region_choices(user: Any) -> list[tuple[str, str]]:
    org = user.organization
    if org is None:
        return []
    if org.org_type == OrgType.CITY_REGULATOR:
        return [(CITY, CITY_LABEL), *((d.code, d.name) for d in District.objects.order_by("code"))]
    if org.org_type == OrgType.DISTRICT_REGULATOR and org.district is not None:
        return [(org.district.code, org.district.name)]
    return []


def default_region(user: Any) -> str:
    choices = region_choices(user)
    if not choices:
        raise PermissionDenied("无权查看统计数据")
    return choices[0][0]


def resolve_region(user: Any, value: str | None, action: str = Action.VIEW) -> District | None:
    """The district (None: the city) the parameter names, if the user may act for it; else PermissionDenied
    (audited by the middleware). An unknown code is a 404."""
    value = value or default_region(user)
    district = None
    if value != CITY:
        district = District.objects.filter(code=value).first()
        if district is None:
            raise Http404("区域不存在")
    require_region(user, district, action)
    return district


def region_value(district: District | None) -> str:
    return district.code if district is not None else CITY
