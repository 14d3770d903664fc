"""Records of every filing kind for the web and API tests (English keys of FORMATS.md), and the filers the
`world` personas lack: a laboratory and a ready-mix plant, each with a staff user.

World: enterprise A (朝阳区) is supplier, producer and builder of a_project (朝阳区); enterprise B (海淀区) is
contractor and builder of b_project (海淀区).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jiancai.accounts.context import context_for
from jiancai.accounts.models import Organization, User
from jiancai.accounts.roles import Role
from jiancai.accounts.tests.factories import OrganizationFactory, UserFactory, make_uscc
from jiancai.accounts.tests.personas import World
from jiancai.filings.actions import BatchResult, file_records
from jiancai.filings.models import Channel

UNKNOWN_USCC = make_uscc(9999)  # well-formed, but no such enterprise
TOMORROW = (dt.date.today() + dt.timedelta(days=2)).isoformat()


@dataclass
class Filers:
    lab: Organization
    plant: Organization
    lab_staff: User
    plant_staff: User


def make_filers() -> Filers:
    lab = OrganizationFactory.create(
        name="北京市建设工程质量检测中心", uscc=make_uscc(303), district_name="朝阳区", kinds=["laboratory"]
    )
    plant = OrganizationFactory.create(
        name="北京朝阳混凝土有限公司", uscc=make_uscc(404), district_name="朝阳区", kinds=["concrete_plant"]
    )
    return Filers(
        lab=lab,
        plant=plant,
        lab_staff=UserFactory.create(username="lab_staff", display_name="钱检测", organization=lab, role=Role.STAFF),
        plant_staff=UserFactory.create(
            username="plant_staff", display_name="孙搅拌", organization=plant, role=Role.STAFF
        ),
    )


def supply_row(world: World, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A supply of enterprise A to A's project."""
    return {
        "supply_no": f"GY-{n:04d}",
        "supplier_uscc": world.a.uscc,
        "project_code": world.a_project.project_code,
        "contract_no": "HT-2025-001",
        "category": "GJ",
        "spec": "HRB400E Φ20",
        "batch_no": f"PH{n:04d}",
        "quantity": "60",
        "unit": "t",
        "unit_price": "4150.00",
        "delivery_date": "2025-06-01",
        **overrides,
    }


def purchase_row(world: World, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A purchase of contractor B for B's project, bought from A."""
    return {
        "purchase_no": f"CG-{n:04d}",
        "purchaser_uscc": world.b.uscc,
        "project_code": world.b_project.project_code,
        "supplier_uscc": world.a.uscc,
        "contract_no": "HT-B-001",
        "category": "GJ",
        "spec": "HRB400E Φ20",
        "batch_no": f"PH{n:04d}",
        "quantity": "60",
        "unit": "t",
        "purchase_method": "公开招标",
        "arrival_date": "2025-06-02",
        "witness_report_no": "",
        **overrides,
    }


def report_row(world: World, filers: Filers, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A witness test of A's rebar batch on B's project, by the laboratory."""
    return {
        "report_no": f"JC-{n:04d}",
        "lab_uscc": filers.lab.uscc,
        "kind": "见证检测",
        "project_code": world.b_project.project_code,
        "producer_uscc": world.a.uscc,
        "category": "GJ",
        "spec": "HRB400E Φ20",
        "batch_no": "PH0001",
        "quantity_represented": "60",
        "unit": "t",
        "sample_date": "2025-06-03",
        "test_date": "2025-06-05",
        "result": "合格",
        "items": "屈服强度=455MPa;抗拉强度=610MPa",
        **overrides,
    }


def ticket_row(world: World, filers: Filers, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A ready-mix delivery of the plant to A's project."""
    return {
        "ticket_no": f"FH-{n:04d}",
        "plant_uscc": filers.plant.uscc,
        "project_code": world.a_project.project_code,
        "contract_no": "HT-HNT-001",
        "grade": "C30",
        "volume": "12",
        "departed_at": "2025-06-01 08:00",
        "arrived_at": "2025-06-01 08:40",
        "discharged_at": "2025-06-01 09:10",
        "vehicle_plate": "京A12345",
        "pour_location": "3#楼 5层 顶板",
        **overrides,
    }


def tender_row(world: World, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A tender result of builder A's project, won by A."""
    return {
        "tender_no": f"ZB-{n:04d}",
        "project_code": world.a_project.project_code,
        "category": "HNT",
        "winner_uscc": world.a.uscc,
        "contract_no": "HT-ZB-001",
        "awarded_price": "520",
        "guide_price": "500",
        "award_date": "2025-05-01",
        **overrides,
    }


def event_row(world: World, **overrides: Any) -> dict[str, Any]:
    return {"project_code": world.a_project.project_code, "event": "开工", "date": "2025-03-01", **overrides}


def file_as(user: User, kind: str, *rows: dict[str, Any], status: str = "submitted") -> BatchResult:
    """Store rows the way the form and the API do (through file_records), as `user`."""
    result = file_records(
        kind=kind, rows=list(rows), context=context_for(user), channel=Channel.FORM, actor=user, status=status
    )
    assert not result.refused, [r.errors for r in result.refused]
    return result


def stored_pk(result: BatchResult) -> int:
    """The primary key of the first row a filing stored (or found unchanged)."""
    pk = result.rows[0].pk
    assert pk is not None
    return pk
