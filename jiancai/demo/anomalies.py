"""Planted anomalies with a ground truth: records that break exactly one cross-check rule each.

`plant_anomalies` files, on top of the clean demo data, a few small cases per rule through the real filing
path (`file_records`). Each case sits on its own new project, so project-level rules (batches, usage per area,
completion) see only it, and is built from a **clean line** — a supply, the purchase that matches it and the
witness tests its quantity needs — with one thing changed. It returns the ground truth: which rule must raise
an alert about which subject (by its natural key, as `Alert.subject_key` gives it). The monitoring tests run
every rule over demo data plus planted anomalies and require the alerts to be exactly the planted ones: every
anomaly found, nothing raised on a clean record.

`seed_demo --anomalies` plants them into the demo database, so the demo's regulators have alerts to work.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jiancai.accounts.models import Organization
from jiancai.audit.actions import AuditContext
from jiancai.filings.actions import file_records
from jiancai.filings.models import Channel
from jiancai.registry.models import Project, ProjectStatus

from .generator import derive_seed

PLANTER = AuditContext(actor_name="演示数据生成（异常样本）")


@dataclass(frozen=True)
class Planted:
    """One anomaly: the rule that must find it and the subject it must name."""

    rule: str
    subject_key: tuple[tuple[str, str], ...]
    note: str

    @classmethod
    def of(cls, rule: str, note: str, **key: str) -> Planted:
        return cls(rule, tuple(sorted((k, str(v)) for k, v in key.items())), note)


@dataclass
class Line:
    """A clean contract line on one project: rows of each kind, ready to be changed and filed."""

    supplies: list[dict[str, Any]] = field(default_factory=list)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)

    def rows(self) -> Iterable[tuple[str, list[dict[str, Any]]]]:
        return (("supply", self.supplies), ("purchase", self.purchases), ("test_report", self.reports))


class Planting:
    """What planters work with: the demo's enterprises, new projects, and the clean-line builder."""

    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(derive_seed(seed, "anomalies"))
        self.today = today
        self.count = 0

        def first(kind: str) -> Organization:
            org = Organization.objects.filter(kinds__code=kind).order_by("uscc").first()
            if org is None:
                raise RuntimeError(f"planting anomalies needs the demo data: no enterprise of kind {kind}")
            return org

        self.supplier = first("supplier")
        self.contractor = first("contractor")
        self.builder = first("builder")
        self.lab = first("laboratory")
        template = Project.objects.filter(status=ProjectStatus.UNDER_CONSTRUCTION).order_by("project_code").first()
        if template is None:
            raise RuntimeError("planting anomalies needs the demo data: no project under construction")
        self.template = template

    def project(self, rule: str) -> Project:
        """A new project under construction for one case (its own, so project-level rules see only this case)."""
        self.count += 1
        t = self.template
        return Project.objects.create(
            project_code=f"YC-{rule}-{self.count:03d}",
            name=f"异常样本项目（{rule}）{self.count}号",
            district=t.district,
            builder=self.builder,
            contractor=self.contractor,
            supervisor=t.supervisor,
            floor_area=t.floor_area,
            structure_type=t.structure_type,
            project_type=t.project_type,
            start_date=self.today - dt.timedelta(days=180),
            status=ProjectStatus.UNDER_CONSTRUCTION,
        )

    def line(self, project: Project, *, quantity: Decimal = Decimal("50"), days_ago: int = 40) -> Line:
        """A supply of rebar, the purchase that matches it, and the witness tests (one per 60 t)."""
        code = project.project_code
        day = self.today - dt.timedelta(days=days_ago)
        batch = f"YC{self.count:03d}"
        common = {
            "project_code": code,
            "contract_no": f"HT-{code}",
            "category": "GJ",
            "spec": "HRB400E Φ20",
            "batch_no": batch,
            "quantity": str(quantity),
            "unit": "t",
            "unit_price": "4100.00",
        }
        report_nos = [f"JZ-{code}-{n + 1:02d}" for n in range(max(1, math.ceil(quantity / 60)))]
        line = Line(
            supplies=[
                {
                    **common,
                    "supply_no": f"GY-{code}",
                    "supplier_uscc": self.supplier.uscc,
                    "delivery_date": day.isoformat(),
                }
            ],
            purchases=[
                {
                    **common,
                    "purchase_no": f"CG-{code}",
                    "purchaser_uscc": self.contractor.uscc,
                    "supplier_uscc": self.supplier.uscc,
                    "purchase_method": "询价",
                    "arrival_date": day.isoformat(),
                    "witness_report_no": report_nos[0],
                    "use_location": "主体结构",
                }
            ],
        )
        for report_no in report_nos:
            line.reports.append(
                {
                    "report_no": report_no,
                    "lab_uscc": self.lab.uscc,
                    "kind": "见证检测",
                    "project_code": code,
                    "producer_uscc": self.supplier.uscc,
                    "category": "GJ",
                    "spec": "HRB400E Φ20",
                    "batch_no": batch,
                    "quantity_represented": str(min(quantity, Decimal(60))),
                    "unit": "t",
                    "sample_date": day.isoformat(),
                    "test_date": (day + dt.timedelta(days=2)).isoformat(),
                    "result": "合格",
                    "items": "屈服强度=455MPa;抗拉强度=610MPa",
                }
            )
        return line

    def file(self, line: Line) -> None:
        for kind, rows in line.rows():
            if not rows:
                continue
            result = file_records(
                kind=kind, rows=rows, context=PLANTER, channel=Channel.IMPORT, actor=None, today=self.today
            )
            if result.refused:
                first = result.refused[0]
                raise RuntimeError(f"planted {kind} row refused: {first.key} {[e.message for e in first.errors]}")


# ---------------------------------------------------------------------------------------------- planters


def _xc01(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC01"))
    line.purchases, line.reports = [], []
    p.file(line)
    supply = line.supplies[0]
    return [Planted.of("XC01", "供应无对应采购", supplier_uscc=supply["supplier_uscc"], supply_no=supply["supply_no"])]


def _xc02(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC02"))
    line.supplies = []
    p.file(line)
    purchase = line.purchases[0]
    return [
        Planted.of(
            "XC02", "采购无对应供应", purchaser_uscc=purchase["purchaser_uscc"], purchase_no=purchase["purchase_no"]
        )
    ]


def _xc03(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC03"), quantity=Decimal("50"))
    line.supplies[0]["quantity"] = "58"  # 58 t delivered, 50 t bought: 13.8 % apart
    p.file(line)
    s = line.supplies[0]
    return [
        Planted.of(
            "XC03",
            "供应与采购数量不符",
            project_code=s["project_code"],
            supplier_uscc=s["supplier_uscc"],
            contract_no=s["contract_no"],
            category="钢筋",
            spec=s["spec"],
        )
    ]


def _clean(p: Planting) -> list[Planted]:
    """A clean line on its own project: must raise nothing."""
    p.file(p.line(p.project("CLEAN"), quantity=Decimal("120")))
    return []


PLANTERS: dict[str, Callable[[Planting], list[Planted]]] = {
    "XC01": _xc01,
    "XC02": _xc02,
    "XC03": _xc03,
    "CLEAN": _clean,
}


def plant_anomalies(*, seed: int, today: dt.date, rules: Iterable[str] | None = None) -> list[Planted]:
    """File the planted cases (all, or those of `rules`); returns the ground truth."""
    planting = Planting(seed, today)
    truth: list[Planted] = []
    for code, planter in PLANTERS.items():
        if rules is None or code in rules or code == "CLEAN":
            truth.extend(planter(planting))
    return truth
