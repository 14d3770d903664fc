"""The one visibility funnel.

Every page and endpoint that reads or changes a scoped model goes through `restrict` (usually as
`Model.objects.visible_to(user, action)`) or `get_for`. A model declares its `access_scope`: which
organization paths own a row, which district path places it under a district regulator, and which roles
may perform each action. The rules:

* a user whose role does not grant the action sees nothing;
* the city regulator sees every row;
* a district regulator sees the rows of its district;
* an enterprise sees (and, where its role allows, changes) the rows it owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

from .roles import OrgType, Role

if TYPE_CHECKING:
    from .models import User


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"
    VERIFY = "verify"
    UNLOCK = "unlock"
    REVOKE = "revoke"


def _roles(*roles: Role) -> frozenset[str]:
    return frozenset(str(r) for r in roles)


REGISTRY_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS, Role.SYSTEM_ADMIN),
    Action.CHANGE: _roles(Role.ORG_ADMIN, Role.STAFF),
    Action.VERIFY: _roles(Role.BUSINESS),
}
ORGANIZATION_ROLES: Mapping[str, frozenset[str]] = {
    **REGISTRY_ROLES,
    Action.CHANGE: _roles(Role.ORG_ADMIN, Role.SYSTEM_ADMIN),
}
USER_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN),
    Action.CHANGE: _roles(Role.ORG_ADMIN, Role.SYSTEM_ADMIN),
    Action.UNLOCK: _roles(Role.ORG_ADMIN, Role.SECURITY_ADMIN),
}
TOKEN_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.SECURITY_ADMIN),
    Action.CHANGE: _roles(Role.ORG_ADMIN),
    Action.REVOKE: _roles(Role.ORG_ADMIN, Role.SECURITY_ADMIN),
}
CATALOG_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS, Role.SYSTEM_ADMIN),
    Action.CHANGE: _roles(Role.BUSINESS),
}
# Alerts: the enterprises concerned read theirs and answer requests for explanation (CHANGE); the regulator's
# business staff work them (VERIFY). Rules: everyone reads them, the city regulator's business staff change
# their parameters (with `shared=True`).
ALERT_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS),
    Action.CHANGE: _roles(Role.ORG_ADMIN, Role.STAFF),
    Action.VERIFY: _roles(Role.BUSINESS),
}
RULE_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS, Role.SYSTEM_ADMIN),
    Action.CHANGE: _roles(Role.BUSINESS),
}
# Aggregate warnings (预警分析) are the regulators' working material: their business staff read them.
WARNING_ROLES: Mapping[str, frozenset[str]] = {Action.VIEW: _roles(Role.BUSINESS)}
AUDIT_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.AUDIT_ADMIN, Role.SECURITY_ADMIN),
}


@dataclass(frozen=True)
class AccessScope:
    owners: tuple[str, ...]
    district: str | None
    roles: Mapping[str, frozenset[str]] = field(default_factory=lambda: REGISTRY_ROLES)
    editors: tuple[str, ...] | None = None  # owner paths allowed to change; defaults to owners
    # Shared reference data (the material catalog): every role allowed VIEW sees every row; only the city
    # regulator performs the other actions.
    shared: bool = False

    def owner_paths(self, action: str) -> tuple[str, ...]:
        if action != Action.VIEW and self.editors is not None:
            return self.editors
        return self.owners


_M = TypeVar("_M", bound=models.Model)


def role_allows(user: Any, model: type[models.Model], action: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active or user.organization_id is None:
        return False
    scope: AccessScope = model.access_scope  # type: ignore[attr-defined]
    if user.role not in scope.roles.get(action, frozenset()):
        return False
    if scope.shared and action != Action.VIEW:
        # Shared reference data: beyond viewing, only the city regulator acts (the same rule as `restrict`), so a
        # "new" button or an action's early role check does not pass a district regulator's business staff.
        return bool(user.organization.org_type == OrgType.CITY_REGULATOR)
    return True


def restrict(queryset: models.QuerySet[_M], user: User | Any, action: str = Action.VIEW) -> models.QuerySet[_M]:
    model = queryset.model
    if not role_allows(user, model, action):
        return queryset.none()
    scope: AccessScope = model.access_scope  # type: ignore[attr-defined]
    org = user.organization
    if org is None:
        return queryset.none()
    if scope.shared:
        return queryset if action == Action.VIEW or org.org_type == OrgType.CITY_REGULATOR else queryset.none()
    if org.org_type == OrgType.CITY_REGULATOR:
        return queryset
    if org.org_type == OrgType.DISTRICT_REGULATOR:
        if scope.district is None or org.district_id is None:
            return queryset.none()
        return queryset.filter(**{scope.district: org.district_id})
    condition = Q()
    for path in scope.owner_paths(action):
        condition |= Q(**{path: org.pk})
    return queryset.filter(condition)


class ScopedQuerySet(models.QuerySet[_M]):
    def visible_to(self, user: User | Any, action: str = Action.VIEW) -> models.QuerySet[_M]:
        return restrict(self, user, action)


def get_for(queryset: models.QuerySet[_M], user: User | Any, action: str = Action.VIEW, **lookup: Any) -> _M:
    """The row the user may act on, or 404 when it does not exist, or PermissionDenied when it is not theirs.

    PermissionDenied is audited by the middleware (web) and the exception handler (API).
    """
    obj = restrict(queryset, user, action).filter(**lookup).first()
    if obj is not None:
        return obj
    if queryset.filter(**lookup).exists():
        model = queryset.model
        raise PermissionDenied(f"无权对{model._meta.verbose_name}执行此操作")
    raise Http404("记录不存在")


def can(user: User | Any, action: str, obj: models.Model) -> bool:
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()
