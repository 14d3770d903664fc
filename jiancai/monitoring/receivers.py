"""The monitoring app's listeners: filings and catalog data that changed become an incremental evaluation scope."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import receiver

from jiancai.filings.signals import filings_changed
from jiancai.materials.signals import catalog_changed
from jiancai.registry.signals import registry_updated

from .dispatch import request_evaluation
from .rules.base import Scope, among

CHUNK = 5000


def scope_for(model: Any, kind: str, ids: list[int]) -> Scope:
    """The rows themselves and the earlier versions of corrected ones, plus all their projects and contract
    numbers (the contract-level rules' reach). A correction that moves a supply to another contract, spec or batch
    so re-checks what the old version touched as well as what the new one touches."""
    scope = Scope(records={kind: set(ids)})
    has_contract = any(f.name == "contract_no" for f in model._meta.fields)
    columns = ["project_id"] + (["contract_no"] if has_contract else [])
    key = [f"{f}_id" if f in model.relation_keys() else f for f in model.natural_key]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        corrected = list(model.objects.filter(among("pk", chunk), version__gt=1).values_list(*key))
        rows = model.objects.filter(among("pk", chunk))
        if corrected:
            # Over-approximated: every version whose key columns each take one of the corrected keys' values.
            earlier = model.objects.filter(**{f"{k}__in": {c[i] for c in corrected} for i, k in enumerate(key)})
            scope.records[kind].update(earlier.values_list("pk", flat=True))
            rows = rows | earlier
        for row in rows.order_by().values(*columns).distinct():
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


@receiver(catalog_changed)
def on_catalog_changed(sender: Any, organizations: list[int], categories: list[int], **kwargs: Any) -> None:
    """A product supply filing (its producer's supplies) or a material category (its purchases) changed."""
    request_evaluation(Scope(organizations=set(organizations), categories=set(categories)))


@receiver(registry_updated)
def on_registry_changed(sender: Any, organizations: list[int], projects: list[int], **kwargs: Any) -> None:
    """Qualifications or enterprise data (rules watching "organization"), project data (rules watching "project")."""
    request_evaluation(Scope(organizations=set(organizations), projects=set(projects), project_data=set(projects)))
