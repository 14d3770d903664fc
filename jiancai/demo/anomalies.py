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

from jiancai.accounts.models import Organization, Verdict
from jiancai.audit.actions import AuditContext
from jiancai.filings.actions import file_records
from jiancai.filings.models import Channel
from jiancai.materials.models import CatalogEntry, Listing, MaterialCategory
from jiancai.registry.models import Project, ProjectStatus, Qualification, QualificationStatus

from .filings import TYPE_REPORT_AGENCY, type_report_no
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

    def project(self, rule: str, **overrides: Any) -> Project:
        """A new project under construction for one case (its own, so project-level rules see only this case):
        剪力墙, 1,000 ㎡, so a clean 50 t rebar line is 50 kg/㎡, inside the 45–65 kg/㎡ reference (XC17)."""
        self.count += 1
        t = self.template
        fields: dict[str, Any] = {
            "floor_area": Decimal(1000),
            "structure_type": "剪力墙",
            "start_date": self.today - dt.timedelta(days=180),
            "status": ProjectStatus.UNDER_CONSTRUCTION,
            **overrides,
        }
        return Project.objects.create(
            project_code=f"YC-{rule}-{self.count:03d}",
            name=f"异常样本项目（{rule}）{self.count}号",
            district=t.district,
            builder=self.builder,
            contractor=self.contractor,
            supervisor=t.supervisor,
            project_type=t.project_type,
            **fields,
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
                    "type_report_no": type_report_no(self.supplier.uscc),
                    "type_report_agency": TYPE_REPORT_AGENCY,
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

    def tender(self, project: Project, *, contract_no: str, price: str = "4100.00") -> dict[str, Any]:
        """The builder's tender result for the project's rebar, won by the demo supplier at `price`."""
        return {
            "tender_no": f"ZB-{project.project_code}",
            "project_code": project.project_code,
            "category": "GJ",
            "winner_uscc": self.supplier.uscc,
            "contract_no": contract_no,
            "awarded_price": price,
            "guide_price": price,
            "award_date": (self.today - dt.timedelta(days=60)).isoformat(),
        }

    def concrete_reports(
        self, project: Project, strengths: list[str], *, age: int, grade: str = "C30"
    ) -> list[dict[str, Any]]:
        """Compression tests of ready-mix concrete cubes of one grade on the project, by the demo laboratory."""
        code = project.project_code
        day = self.today - dt.timedelta(days=20)
        return [
            {
                "report_no": f"KY-{code}-{age:02d}-{n + 1:02d}",
                "lab_uscc": self.lab.uscc,
                "kind": "见证检测",
                "project_code": code,
                "category": "HNT",
                "spec": grade,
                "batch_no": f"{code}-{grade}",
                "quantity_represented": "100",
                "unit": "m³",
                "sample_date": (day - dt.timedelta(days=age)).isoformat(),
                "test_date": day.isoformat(),
                "age_days": str(age),
                "strength_mpa": value,
                "result": "合格",
                "items": f"抗压强度={value}MPa",
            }
            for n, value in enumerate(strengths)
        ]

    def file_rows(self, kind: str, rows: list[dict[str, Any]]) -> None:
        result = file_records(
            kind=kind, rows=rows, context=PLANTER, channel=Channel.IMPORT, actor=None, today=self.today
        )
        if result.refused:
            first = result.refused[0]
            raise RuntimeError(f"planted {kind} row refused: {first.key} {[e.message for e in first.errors]}")

    def file(self, line: Line) -> None:
        for kind, rows in line.rows():
            if rows:
                self.file_rows(kind, rows)


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
            category="GJ",
            spec=s["spec"],
        )
    ]


def _purchase_key(line: Line) -> dict[str, str]:
    purchase = line.purchases[0]
    return {"purchaser_uscc": purchase["purchaser_uscc"], "purchase_no": purchase["purchase_no"]}


def _contract_line_key(line: Line) -> dict[str, str]:
    s = line.supplies[0]
    return {
        "project_code": s["project_code"],
        "supplier_uscc": s["supplier_uscc"],
        "contract_no": s["contract_no"],
        "category": s["category"],
        "spec": s["spec"],
    }


def _xc04(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC04"))
    line.purchases[0]["unit_price"] = "4400.00"  # 4,100 supplied, 4,400 bought: 6.8 % apart
    p.file(line)
    return [Planted.of("XC04", "供应与采购单价不符", **_contract_line_key(line))]


def _xc05(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC05"))
    line.purchases[0]["spec"] = "HRB400E Φ25"  # bought as Φ25, delivered as Φ20
    for report in line.reports:
        report["spec"] = "HRB400E Φ25"  # the witness tests follow what the contractor says it bought
    p.file(line)
    s = line.supplies[0]
    return [
        Planted.of(
            "XC05",
            "同一合同供应与采购规格不一致",
            project_code=s["project_code"],
            supplier_uscc=s["supplier_uscc"],
            contract_no=s["contract_no"],
        )
    ]


def _xc06(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC06"))
    line.supplies[0]["type_report_no"] = "XS-00000000-GJ"  # no product filing carries this report
    p.file(line)
    s = line.supplies[0]
    return [Planted.of("XC06", "型式检验报告无法对应", supplier_uscc=s["supplier_uscc"], supply_no=s["supply_no"])]


def _xc07(p: Planting) -> list[Planted]:
    """Pipes (管材管件, no witness re-test, no batch size), which the supplier has no product filing for."""
    line = p.line(p.project("XC07"))
    for row in (*line.supplies, *line.purchases):
        row.update(category="GC", spec="PPR De25", unit="m", quantity="800", unit_price="6.50", batch_no="")
    line.supplies[0].update(type_report_no="", type_report_agency="")
    line.purchases[0]["witness_report_no"] = ""
    line.reports = []
    p.file(line)
    s = line.supplies[0]
    return [Planted.of("XC07", "无有效产品供应备案", supplier_uscc=s["supplier_uscc"], supply_no=s["supply_no"])]


def _xc08(p: Planting) -> list[Planted]:
    """The purchase cites no witness test; the project's only rebar report is of another batch and spec (so the
    batch count of XC11 is met, but this purchase's material is untested)."""
    line = p.line(p.project("XC08"))
    line.purchases[0]["witness_report_no"] = ""
    line.reports[0].update(batch_no="YC-OTHER", spec="HRB400E Φ28")
    p.file(line)
    return [Planted.of("XC08", "需复试材料无见证检测报告", **_purchase_key(line))]


def _xc09(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC09"))
    line.reports[0]["result"] = "不合格"
    p.file(line)
    r = line.reports[0]
    return [Planted.of("XC09", "见证检测不合格", lab_uscc=r["lab_uscc"], report_no=r["report_no"])]


def _xc10(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC10"))
    line.reports[0]["spec"] = "HRB400E Φ25"  # the cited report tested another spec (same batch)
    p.file(line)
    return [Planted.of("XC10", "引用的检测报告与采购不符", **_purchase_key(line))]


def _xc11(p: Planting) -> list[Planted]:
    line = p.line(p.project("XC11"), quantity=Decimal("130"))  # three 60 t batches needed
    line.reports.pop()  # two reports only
    p.file(line)
    s = line.supplies[0]
    return [Planted.of("XC11", "见证检测批次不足", project_code=s["project_code"], category="GJ")]


def _xc12(p: Planting) -> list[Planted]:
    project = p.project("XC12")
    line = p.line(project)
    p.file_rows("tender", [p.tender(project, contract_no=f"HT-{project.project_code}-ZB")])
    p.file(line)  # bought under HT-…, not the tendered contract HT-…-ZB
    return [Planted.of("XC12", "招标材料未按中标合同采购", **_purchase_key(line))]


def _xc13(p: Planting) -> list[Planted]:
    project = p.project("XC13")
    line = p.line(project)
    for row in (*line.supplies, *line.purchases):
        row["unit_price"] = "4600.00"  # both sides agree, 12.2 % above the tender's guide price of 4,100
    p.file_rows("tender", [p.tender(project, contract_no=line.purchases[0]["contract_no"])])
    p.file(line)
    return [Planted.of("XC13", "采购价格偏离市场指导价", **_purchase_key(line))]


def _xc14(p: Planting) -> list[Planted]:
    """HPB235 plain round bars, prohibited by a catalog entry (planted with the case)."""
    CatalogEntry.objects.get_or_create(
        entry_no="YC-JZ-001",
        defaults={
            "listing": Listing.PROHIBITED,
            "category": MaterialCategory.objects.get(code="GJ"),
            "product_name": "HPB235 热轧光圆钢筋",
            "spec_keyword": "HPB235",
            "document_no": "京建发〔2012〕XX号",
            "effective_from": dt.date(2013, 1, 1),
        },
    )
    line = p.line(p.project("XC14"))
    for row in (*line.supplies, *line.purchases, *line.reports):
        row["spec"] = "HPB235 Φ8"
    p.file(line)
    return [Planted.of("XC14", "采购禁止使用的材料", **_purchase_key(line))]


def _quiet_day(p: Planting, org: Organization) -> dt.date:
    """A past day on which no filing concerns `org` (as supplier, winner or plant), avoiding the days the other
    planters use (40 and 60 days ago), so a one-day listing accuses only what is planted on it."""
    from django.db.models.functions import Coalesce, TruncDate

    from jiancai.filings.models import Purchase, Supply, Tender, Ticket

    busy = set(Supply.objects.filter(filer=org).values_list("delivery_date", flat=True))
    busy |= set(
        Purchase.objects.filter(supplier=org)
        .annotate(day=Coalesce("arrival_date", TruncDate("created_at")))
        .values_list("day", flat=True)
    )
    busy |= set(Tender.objects.filter(winner=org).values_list("award_date", flat=True))
    busy |= set(Ticket.objects.filter(filer=org).annotate(day=TruncDate("departed_at")).values_list("day", flat=True))
    for back in range(45, 800):
        day = p.today - dt.timedelta(days=back)
        if day not in busy and back != 60:
            return day
    raise RuntimeError("planting XC15 needs a day without filings of the demo supplier")


def _xc15(p: Planting) -> list[Planted]:
    """The demo supplier was on the blacklist (and under a supply ban) for one past day on which it had no other
    business; a clean line delivered on that day: its supply and the purchase from it are both found."""
    from django.utils import timezone

    from jiancai.blacklist.models import BlacklistEntry, EntryStatus, ExitReason, LiftReason, Restriction, add_years

    supplier = p.supplier
    day = _quiet_day(p, supplier)
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
    entry = BlacklistEntry.objects.create(
        entry_no=f"HMD-YC-{p.count + 1:03d}",
        enterprise=supplier,
        grounds="异常样本：质量抽检不合格（演示）",
        legal_basis="《建设工程质量管理条例》",
        evidence="演示数据",
        period_months=1,
        status=EntryStatus.EXITED,
        proposer_name="演示数据",
        proposer_org_name="演示数据",
        proposed_at=moment,
        approver_name="演示数据",
        decided_at=moment,
        published_on=day,
        ends_on=day,
        exited_on=day + dt.timedelta(days=1),
        exit_reason=ExitReason.PERIOD_END,
        public_until=add_years(day + dt.timedelta(days=1), 3),
    )
    Restriction.objects.create(
        restriction_no=f"XZ-YC-{p.count + 1:03d}",
        enterprise=supplier,
        entry=entry,
        kind="supply_ban",
        starts_on=day,
        ends_on=day,
        basis="演示数据",
        imposed_by_name="演示数据",
        imposed_at=moment,
        lifted_on=day + dt.timedelta(days=1),
        lift_reason=LiftReason.PERIOD_END,
        lifted_at=moment,
        notified_at=moment,
    )
    line = p.line(p.project("XC15"), days_ago=(p.today - day).days)
    p.file(line)
    supply, purchase = line.supplies[0], line.purchases[0]
    return [
        Planted.of("XC15", "失信期间供货", supplier_uscc=supply["supplier_uscc"], supply_no=supply["supply_no"]),
        Planted.of(
            "XC15", "向失信企业采购", purchaser_uscc=purchase["purchaser_uscc"], purchase_no=purchase["purchase_no"]
        ),
    ]


def _xc16(p: Planting) -> list[Planted]:
    """A delivery ticket from a plant on a day its ready-mix qualification did not cover."""
    day = p.today - dt.timedelta(days=30)
    plants = Organization.objects.filter(kinds__code="concrete_plant").order_by("uscc")
    licences = Qualification.objects.filter(
        qualification_type__contains="混凝土", status=QualificationStatus.VALID
    ).exclude(verification_status=Verdict.FALSE)
    unlicensed = plants.exclude(pk__in=licences.filter(issued_on__lte=day, valid_until__gte=day).values("organization"))
    plant = unlicensed.first()
    if plant is None:  # every plant licensed on that day: take one before its licence was issued
        earliest = licences.filter(organization__in=plants).order_by("issued_on").first()
        if earliest is None:
            raise RuntimeError("planting XC16 needs a ready-mix plant in the demo data")
        plant, day = earliest.organization, earliest.issued_on - dt.timedelta(days=1)
    project = p.project("XC16")
    departed = dt.datetime.combine(day, dt.time(8, 0))
    ticket = {
        "ticket_no": f"FH-{project.project_code}",
        "plant_uscc": plant.uscc,
        "project_code": project.project_code,
        "contract_no": f"HT-{project.project_code}-HNT",
        "grade": "C30",
        "volume": "10",
        "departed_at": f"{departed:%Y-%m-%d %H:%M}",
        "arrived_at": f"{departed + dt.timedelta(minutes=40):%Y-%m-%d %H:%M}",
        "vehicle_plate": "京A00001",
        "pour_location": "基础筏板",
    }
    p.file_rows("ticket", [ticket])
    return [Planted.of("XC16", "无有效资质搅拌站供应", plant_uscc=plant.uscc, ticket_no=ticket["ticket_no"])]


def _xc17(p: Planting) -> list[Planted]:
    """A completed project of 200 ㎡ that bought 50 t of rebar: 250 kg/㎡ against 45–65 (剪力墙)."""
    project = p.project(
        "XC17", floor_area=Decimal(200), status=ProjectStatus.COMPLETED, completion_date=p.today - dt.timedelta(days=5)
    )
    p.file(p.line(project))
    return [Planted.of("XC17", "单位面积用量超出参考值", project_code=project.project_code, category="GJ")]


def _xc18(p: Planting) -> list[Planted]:
    """Completion filed while the project's price mismatch (XC04) is still open: both are found."""
    project = p.project("XC18")
    line = p.line(project)
    line.purchases[0]["unit_price"] = "4400.00"
    p.file(line)
    event = {
        "project_code": project.project_code,
        "event": "竣工验收备案",
        "date": (p.today - dt.timedelta(days=3)).isoformat(),
        "document_no": f"JB-{project.project_code}",
    }
    p.file_rows("project_event", [event])
    return [
        Planted.of("XC04", "供应与采购单价不符（竣工时未处理）", **_contract_line_key(line)),
        Planted.of("XC18", "竣工备案时仍有未处理预警", project_code=project.project_code),
    ]


def _xc19(p: Planting) -> list[Planted]:
    """7-day strength 18.0 MPa of C30: β(7) = exp(0.25·(1 − √4)) = 0.7788, so 23.1 MPa predicted at 28 days."""
    project = p.project("XC19")
    [report] = p.concrete_reports(project, ["18.0"], age=7)
    p.file_rows("test_report", [report])
    return [Planted.of("XC19", "7天强度推定28天强度不足", lab_uscc=report["lab_uscc"], report_no=report["report_no"])]


def _xc20(p: Planting) -> list[Planted]:
    """Three 28-day C30 results 30.0, 31.0, 32.0: mean 31.0 < 1.15 × 30 = 34.5 (non-statistical method)."""
    project = p.project("XC20")
    p.file_rows("test_report", p.concrete_reports(project, ["30.0", "31.0", "32.0"], age=28))
    return [Planted.of("XC20", "混凝土强度检验批不合格", project_code=project.project_code, grade="C30")]


def _clean(p: Planting) -> list[Planted]:
    """A clean line of 120 t (two witness tests) under a tender it matches, and a C30 strength lot that passes
    (7-day 24.0 MPa predicting 30.8; 28-day 36.0, 37.0, 38.0), on its own project: raises nothing."""
    project = p.project("CLEAN", floor_area=Decimal(2000))
    p.file_rows("tender", [p.tender(project, contract_no=f"HT-{project.project_code}")])
    p.file(p.line(project, quantity=Decimal("120")))
    p.file_rows("test_report", p.concrete_reports(project, ["24.0"], age=7))
    p.file_rows("test_report", p.concrete_reports(project, ["36.0", "37.0", "38.0"], age=28))
    return []


PLANTERS: dict[str, Callable[[Planting], list[Planted]]] = {
    "XC01": _xc01,
    "XC02": _xc02,
    "XC03": _xc03,
    "XC04": _xc04,
    "XC05": _xc05,
    "XC06": _xc06,
    "XC07": _xc07,
    "XC08": _xc08,
    "XC09": _xc09,
    "XC10": _xc10,
    "XC11": _xc11,
    "XC12": _xc12,
    "XC13": _xc13,
    "XC14": _xc14,
    "XC15": _xc15,
    "XC16": _xc16,
    "XC17": _xc17,
    "XC18": _xc18,
    "XC19": _xc19,
    "XC20": _xc20,
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
