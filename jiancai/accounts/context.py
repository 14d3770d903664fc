"""The audit context of a request: who acts, for which organization, from which address."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from jiancai.audit.actions import AuditContext

from .models import User


def client_ip(request: HttpRequest) -> str | None:
    # Behind the production reverse proxy, set the proxy to overwrite REMOTE_ADDR (no X-Forwarded-For trust here).
    return request.META.get("REMOTE_ADDR") or None


def context_for(user: Any, ip_address: str | None = None) -> AuditContext:
    if user is None or not getattr(user, "is_authenticated", False):
        return AuditContext(ip_address=ip_address)
    org = user.organization
    return AuditContext(
        actor_id=user.pk,
        actor_name=user.display_name or user.username,
        organization_id=org.pk if org else None,
        organization_name=org.name if org else "",
        ip_address=ip_address,
    )


def acting_user(request: HttpRequest) -> User:
    """The logged-in user of a view that requires login (login_required or the API's IsAuthenticated)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("请先登录")
    return user


def audit_context(request: HttpRequest) -> AuditContext:
    return context_for(getattr(request, "user", None), client_ip(request))
