"""Alerts for the handling, export and API tests, raised the way production raises them: filings, then evaluate().

World: enterprise A (朝阳区) supplies; B (海淀区) is contractor and builder of b_project (海淀区); A is builder of
a_project (朝阳区, no contractor). The 朝阳 district regulator (cy_biz) works 朝阳 alerts only.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from jiancai.accounts.models import User
from jiancai.accounts.tests.personas import World, login_as
from jiancai.filings.tests.records import file_as, supply_row
from jiancai.materials.models import MaterialCategory, ProductFiling
from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.models import Alert


def clean_supplier(world: World) -> None:
    """A's rebar product supply filing (no type-inspection report number, open-ended), so a lone supply by A breaks
    XC01 only, not XC06/XC07."""
    ProductFiling.objects.get_or_create(
        filing_no="BA-A-GJ",
        defaults={
            "producer": world.a,
            "category": MaterialCategory.objects.get(code="GJ"),
            "product_name": "热轧带肋钢筋",
        },
    )


def haidian_alert(world: World, **overrides: Any) -> Alert:
    """XC01 on A's supply to B's project (海淀区): parties A (supplier) and B (contractor and builder)."""
    clean_supplier(world)
    file_as(
        world["a_staff"],
        "supply",
        supply_row(world, 1, project_code=world.b_project.project_code, contract_no="HT-B-001", **overrides),
    )
    evaluate()
    return Alert.objects.get(rule__code="XC01", subject_key__supply_no="GY-0001")


def chaoyang_alert(world: World) -> Alert:
    """XC01 on A's supply to its own project (朝阳区): A is the only party; B is not."""
    clean_supplier(world)
    file_as(world["a_staff"], "supply", supply_row(world, 3))
    evaluate()
    return Alert.objects.get(rule__code="XC01", subject_key__supply_no="GY-0003")


def client_for(user: User) -> Client:
    client = Client()
    login_as(client, user)
    return client
