"""The monitoring app's listeners: filings that changed become an incremental evaluation scope."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import receiver

from jiancai.filings.signals import filings_changed

from .dispatch import request_evaluation
from .rules.base import Scope


def scope_for(model: Any, kind: str, ids: list[int]) -> Scope:
    """The rows themselves, plus their projects and contract numbers (the contract-level rules' reach)."""
    scope = Scope(records={kind: set(ids)})
    columns = ["project_id"] + (["contract_no"] if any(f.name == "contract_no" for f in model._meta.fields) else [])
    for start in range(0, len(ids), 5000):
        for row in model.objects.filter(pk__in=ids[start : start + 5000]).values(*columns).distinct():
            if row["project_id"] is not None:
                scope.projects.add(row["project_id"])
            if row.get("contract_no"):
                scope.contract_nos.add(row["contract_no"])
    return scope


@receiver(filings_changed)
def on_filings_changed(sender: Any, kind: str, ids: list[int], **kwargs: Any) -> None:
    if not getattr(settings, "MONITORING_AUTO", True):
        return  # request_evaluation would drop the scope: do not read the rows for it (a bulk import's millions)
    request_evaluation(scope_for(sender, kind, ids))
