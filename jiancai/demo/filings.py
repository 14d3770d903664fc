"""Demo filings: supplies, purchases, witness test reports and ready-mix tickets for the demo projects.

Rows are built as FORMATS.md records and stored through `filings.actions.file_records`, the same path as an
import, so the demo data passes every rule the platform applies to real filings. Deterministic from the seed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jiancai.accounts.models import Organization, Verdict
from jiancai.audit.actions import AuditContext
from jiancai.filings.actions import file_records
from jiancai.filings.models import Channel
from jiancai.materials.models import MaterialCategory, ProductFiling, UsageReference
from jiancai.registry.models import Project, ProjectStatus, Qualification, QualificationStatus

from .generator import chunked, derive_seed

DEMO_FILER = AuditContext(actor_name="演示数据生成")
CHUNK = 5000
T = Decimal("0.001")

# Material filed per project: category, spec choices, unit price range (元 per unit).
REBAR_SPECS = ("HRB400E Φ12", "HRB400E Φ16", "HRB400E Φ20", "HRB400E Φ25", "HRB500E Φ28")
CONCRETE_GRADES = ("C30", "C35", "C40", "C30 P8")
TICKETS_PER_PROJECT = 12
REBAR_BATCH = Decimal(60)  # t per witness sampling batch of rebar (the category's batch size)
TYPE_REPORT_AGENCY = "国家建筑钢材质量检验检测中心"


def _kind_ids(code: str) -> list[int]:
    return list(Organization.objects.filter(kinds__code=code).order_by("uscc").values_list("id", flat=True))


def _usccs() -> dict[int, str]:
    return dict(Organization.objects.values_list("id", "uscc"))


def _between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    days = max((end - start).days, 0)
    return start + dt.timedelta(days=rng.randint(0, days))


def type_report_no(uscc: str) -> str:
    """The type-inspection report a demo supplier's rebar filing carries (its supplies cite it)."""
    return f"XS-{uscc[-8:]}-GJ"


def ensure_product_filings(today: dt.date) -> int:
    """A rebar product supply filing (产品供应备案) for every demo supplier, valid for three years from a year ago,
    with its type-inspection report: what XC06/XC07 check the demo supplies against. Seeding, not a user's change."""
    category = MaterialCategory.objects.get(code="GJ")
    have = set(ProductFiling.objects.filter(category=category).values_list("producer_id", flat=True))
    start = today - dt.timedelta(days=365)
    rows = [
        ProductFiling(
            filing_no=f"BA-{org.uscc[-8:]}-GJ",
            producer=org,
            category=category,
            product_name="钢筋混凝土用热轧带肋钢筋",
            spec="",
            type_report_no=type_report_no(org.uscc),
            type_report_agency=TYPE_REPORT_AGENCY,
            type_report_valid_until=start + dt.timedelta(days=3 * 365),
            valid_until=start + dt.timedelta(days=3 * 365),
        )
        for org in Organization.objects.filter(kinds__code="supplier").exclude(pk__in=have).order_by("uscc")
    ]
    ProductFiling.objects.bulk_create(rows)
    return len(rows)


def _witness_report(
    rng: random.Random,
    number: str,
    lab: str,
    code: str,
    supplier: str,
    spec: str,
    batch: str,
    represented: Decimal,
    day: dt.date,
    test_day: dt.date,
) -> dict[str, Any]:
    return {
        "report_no": number,
        "lab_uscc": lab,
        "kind": "见证检测",
        "project_code": code,
        "producer_uscc": supplier,
        "category": "GJ",
        "spec": spec,
        "batch_no": batch,
        "quantity_represented": str(represented),
        "unit": "t",
        "sample_date": day.isoformat(),
        "test_date": test_day.isoformat(),
        # Clean data passes; failures are planted with a ground truth (demo.anomalies).
        "result": "合格",
        "items": f"屈服强度={rng.randint(420, 520)}MPa;抗拉强度={rng.randint(560, 680)}MPa",
    }


def _plant_licences(usccs: dict[int, str]) -> list[tuple[str, dt.date, dt.date]]:
    """Plants with a valid ready-mix qualification (not found false): (USCC, issued on, valid until)."""
    rows = (
        Qualification.objects.filter(
            organization__kinds__code="concrete_plant",
            qualification_type__contains="混凝土",
            status=QualificationStatus.VALID,
        )
        .exclude(verification_status=Verdict.FALSE)
        .order_by("organization__uscc", "certificate_no")
        .values_list("organization_id", "issued_on", "valid_until")
    )
    return [(usccs[org], issued, until) for org, issued, until in rows]


def _rows(seed: int, today: dt.date) -> Iterator[tuple[str, dict[str, Any]]]:
    rng = random.Random(derive_seed(seed, "filings"))
    usccs = _usccs()
    suppliers = _kind_ids("supplier")
    plants = _kind_ids("concrete_plant")
    labs = _kind_ids("laboratory")
    if not (suppliers and plants and labs):
        return
    plant_licences = _plant_licences(usccs)
    rebar_ref = {
        u.structure_type: (u.min_per_m2, u.max_per_m2)
        for u in UsageReference.objects.in_force(today).filter(category__code="GJ")
    }
    projects = (
        Project.objects.filter(status__in=[ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.COMPLETED])
        .exclude(contractor=None)
        .exclude(start_date=None)
        .order_by("project_code")
    )
    for project in projects.iterator(chunk_size=2000):
        if project.start_date is None or project.contractor_id is None:
            continue
        end = min(project.completion_date or today, today)
        if end <= project.start_date:
            continue
        code = project.project_code
        supplier = usccs[suppliers[rng.randrange(len(suppliers))]]
        contractor = usccs[project.contractor_id]
        lab = usccs[labs[rng.randrange(len(labs))]]
        # Rebar: the total follows the usage reference of the structure type (kg per m²), in 2–4 deliveries.
        low, high = rebar_ref.get(project.structure_type, (Decimal(40), Decimal(60)))
        per_m2 = Decimal(str(rng.uniform(float(low), float(high))))
        total = (project.floor_area * per_m2 / 1000).quantize(T)
        deliveries = rng.randint(2, 4)
        price = Decimal(rng.randint(3800, 4500))
        contract = f"HT-{code}-GJ"
        for n in range(deliveries):
            quantity = (total / deliveries).quantize(T, rounding=ROUND_HALF_UP)
            spec = rng.choice(REBAR_SPECS)
            day = _between(rng, project.start_date, end)
            batch = f"GJ{day:%y%m%d}{rng.randint(100, 999)}"
            # One witness test per 60 t sampling batch (GB/T 1499.2; the category's batch size), so XC11 passes.
            report_nos = [f"JZ-{code}-{n + 1:02d}-{k + 1:02d}" for k in range(math.ceil(quantity / REBAR_BATCH))]
            report_no = report_nos[0]
            common = {
                "project_code": code,
                "contract_no": contract,
                "category": "GJ",
                "spec": spec,
                "batch_no": batch,
                "quantity": str(quantity),
                "unit": "t",
                "unit_price": str(price),
            }
            yield (
                "supply",
                {
                    **common,
                    "supply_no": f"GY-{code}-GJ-{n + 1:02d}",
                    "supplier_uscc": supplier,
                    "delivery_date": day.isoformat(),
                    "type_report_no": type_report_no(supplier),
                    "type_report_agency": TYPE_REPORT_AGENCY,
                },
            )
            yield (
                "purchase",
                {
                    **common,
                    "purchase_no": f"CG-{code}-GJ-{n + 1:02d}",
                    "purchaser_uscc": contractor,
                    "supplier_uscc": supplier,
                    "purchase_method": "询价",
                    "arrival_date": day.isoformat(),
                    "witness_report_no": report_no,
                    "use_location": rng.choice(["基础", "主体结构", "地下室"]),
                },
            )
            test_day = min(day + dt.timedelta(days=rng.randint(1, 5)), today)
            for k, number in enumerate(report_nos):
                represented = min(quantity - REBAR_BATCH * k, REBAR_BATCH)
                yield (
                    "test_report",
                    _witness_report(rng, number, lab, code, supplier, spec, batch, represented, day, test_day),
                )
        # Ready-mix concrete: tickets from one plant whose qualification covers the days of the pour (XC16).
        licensed = [(u, a, b) for u, a, b in plant_licences if a <= project.start_date and b >= end]
        if not licensed:
            continue
        plant = licensed[rng.randrange(len(licensed))][0]
        grade = rng.choice(CONCRETE_GRADES)
        for n in range(TICKETS_PER_PROJECT):
            day = _between(rng, project.start_date, end)
            departed = dt.datetime.combine(day, dt.time(rng.randint(6, 20), rng.randint(0, 59)))
            arrived = departed + dt.timedelta(minutes=rng.randint(25, 80))
            yield (
                "ticket",
                {
                    "ticket_no": f"FH-{code}-{n + 1:04d}",
                    "plant_uscc": plant,
                    "project_code": code,
                    "contract_no": f"HT-{code}-HNT",
                    "grade": grade,
                    "volume": str(rng.choice([8, 10, 12])),
                    "departed_at": f"{departed:%Y-%m-%d %H:%M}",
                    "arrived_at": f"{arrived:%Y-%m-%d %H:%M}",
                    "discharged_at": f"{arrived + dt.timedelta(minutes=rng.randint(15, 40)):%Y-%m-%d %H:%M}",
                    "vehicle_plate": f"京A{rng.randint(10000, 99999)}",
                    "water_added": "0",
                    "pour_location": rng.choice(["一层顶板", "二层柱", "基础筏板", "三层梁板"]),
                },
            )


KINDS = ("supply", "purchase", "test_report", "ticket")
COUNT_KEYS = {"supply": "supplies", "purchase": "purchases", "test_report": "test_reports", "ticket": "tickets"}


def generate_filings(*, seed: int, today: dt.date, progress: Callable[[str], None]) -> dict[str, int]:
    """Store the demo filings; returns stored counts per kind. Any refused row is a generator bug: raise."""
    counts = dict.fromkeys(COUNT_KEYS.values(), 0)
    ensure_product_filings(today)
    pending: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}

    def flush(kind: str) -> None:
        for chunk in chunked(pending[kind], CHUNK):
            result = file_records(
                kind=kind, rows=chunk, context=DEMO_FILER, channel=Channel.IMPORT, actor=None, today=today
            )
            if result.refused:
                first = result.refused[0]
                raise RuntimeError(f"demo {kind} row refused: {first.key} {[e.message for e in first.errors]}")
            counts[COUNT_KEYS[kind]] += len(chunk)
        pending[kind] = []
        progress(f"填报 filings {kind} {counts[COUNT_KEYS[kind]]}")

    for kind, row in _rows(seed, today):
        pending[kind].append(row)
        if len(pending[kind]) >= CHUNK:
            flush(kind)
    # Supplies before purchases before test reports: the order a user would file them in.
    for kind in KINDS:
        flush(kind)
    return counts
