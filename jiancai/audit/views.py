"""The audit administrator's pages. Read-only: there is no way to change or delete an audit row here."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.context import audit_context
from jiancai.accounts.roles import Role
from jiancai.ui.lists import Column, ScopedListView

from .actions import run_chain_verification
from .filters import AuditEventFilter
from .models import SECURITY_ACTIONS, AuditEvent, ChainVerification


def _changes(event: AuditEvent) -> str:
    return "；".join(
        f"{k}：{v[0] if isinstance(v, list) and len(v) == 2 else v}"
        f"{' → ' + str(v[1]) if isinstance(v, list) and len(v) == 2 else ''}"
        for k, v in (event.changes or {}).items()
    )


class AuditEventList(ScopedListView):
    model = AuditEvent
    filterset_class = AuditEventFilter
    title = "审计日志"
    paginate_by = 50
    columns = (
        Column("序号", "seq"),
        Column("时间", "occurred_at"),
        Column("操作人", "actor_name"),
        Column("机构", "organization_name"),
        Column("来源地址", "ip_address"),
        Column("操作", "action"),
        Column("对象", "target_repr"),
        Column("变更内容", _changes),
        Column("原因", "reason"),
    )

    def get_queryset(self) -> models.QuerySet[Any]:
        qs = super().get_queryset()
        if getattr(self.request.user, "role", None) == Role.SECURITY_ADMIN:
            qs = qs.filter(action__in=SECURITY_ACTIONS)
        return qs


@login_required
def chain_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not role_allows(user, AuditEvent, Action.VIEW) or getattr(user, "role", None) != Role.AUDIT_ADMIN:
        raise PermissionDenied("仅审计管理员可校验审计链")
    if request.method == "POST":
        result = run_chain_verification(context=audit_context(request))
        if result.ok:
            messages.success(request, f"审计链完好，共校验 {result.checked} 条记录")
        else:
            messages.error(request, f"审计链发现 {len(result.problems)} 处问题")
        return redirect("audit:chain")
    latest = ChainVerification.objects.first()
    history = ChainVerification.objects.all()[:20]
    return render(request, "audit/chain.html", {"title": "审计链校验", "latest": latest, "history": history})
