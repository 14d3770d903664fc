"""A small public data set for the portal tests, filed through the real actions (file_records)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from jiancai.accounts.context import context_for
from jiancai.accounts.models import Organization
from jiancai.accounts.tests.factories import OrganizationFactory, make_uscc
from jiancai.accounts.tests.personas import World
from jiancai.credit import actions as credit_actions
from jiancai.credit.models import RecordSource
from jiancai.filings.models import TestReport
from jiancai.filings.tests.records import Filers, event_row, file_as, purchase_row, report_row, stored_pk
from jiancai.materials.models import CatalogEntry, MaterialCategory, ProductFiling

TODAY = dt.date.today()


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


@dataclass
class PortalData:
    filing: ProductFiling
    expired_filing: ProductFiling
    report: TestReport
    suppliers: list[Organization]


def make_portal_data(world: World, filers: Filers, *, extra_suppliers: int = 0, start: int = 1) -> PortalData:
    """Enterprise A: a product filing of rebar in force and one expired; contractor B bought rebar from A at 4,000
    (60 t) and 4,300 (30 t) this month and last (weighted 4,100.00); B's project completed; a witness report by
    the laboratory with named witness and sampler; a bad credit record of A (一般, score 88.5, rating B).
    `extra_suppliers` more suppliers sell smaller quantities."""
    gj = MaterialCategory.objects.get(code="GJ")
    world.a.legal_representative = "张三丰"
    world.a.save(update_fields=["legal_representative"])
    filing = ProductFiling.objects.get_or_create(
        filing_no="BA-GJ-0001",
        defaults=dict(
            producer=world.a,
            category=gj,
            product_name="热轧带肋钢筋",
            spec="HRB400E Φ20",
            type_report_no="TR-2026-001",
            type_report_agency="国家建筑材料质量监督检验中心",
            type_report_valid_until=TODAY + dt.timedelta(days=400),
            valid_until=TODAY + dt.timedelta(days=700),
        ),
    )[0]
    expired = ProductFiling.objects.get_or_create(
        filing_no="BA-GJ-0009",
        defaults=dict(
            producer=world.a,
            category=gj,
            product_name="过期钢筋",
            spec="HPB300",
            valid_until=TODAY - dt.timedelta(days=1),
        ),
    )[0]
    CatalogEntry.objects.get_or_create(
        entry_no="JZ-2019-001",
        defaults=dict(
            listing="禁止",
            category=MaterialCategory.objects.get(code="QT"),
            product_name="黏土实心砖",
            effective_from=dt.date(2019, 7, 1),
            document_no="京建发〔2019〕149号",
        ),
    )
    buyer = world["b_staff"]
    n = start
    rows = [
        purchase_row(
            world,
            n,
            quantity="60",
            unit_price="4000",
            arrival_date=days_ago(3),
            responsible_person="李四",
            contact_phone="13812345678",
        ),
        purchase_row(world, n + 1, quantity="30", unit_price="4300", arrival_date=days_ago(35)),
    ]
    suppliers = []
    for i in range(extra_suppliers):
        supplier = OrganizationFactory.create(
            name=f"北京第{i + 1:02d}钢材供应有限公司",
            uscc=make_uscc(500 + i),
            district_name="海淀区",
            kinds=["supplier"],
        )
        suppliers.append(supplier)
        rows.append(
            purchase_row(
                world,
                n + 2 + i,
                supplier_uscc=supplier.uscc,
                quantity=str(Decimal(20 - i)),
                unit_price="3900",
                arrival_date=days_ago(10),
                contract_no=f"HT-X-{i}",
            )
        )
    file_as(buyer, "purchase", *rows)
    file_as(
        buyer,
        "project_event",
        event_row(
            world,
            project_code=world.b_project.project_code,
            event="竣工验收备案",
            date=days_ago(2),
            document_no="竣备-2026-01",
        ),
    )
    result = file_as(filers.lab_staff, "test_report", report_row(world, filers, witness="王五", sampler="赵六、钱七"))
    report = TestReport.objects.get(pk=stored_pk(result))
    if start == 1:
        regulator = world["city_biz"]
        credit_actions.create_record(
            organization=world.a,
            kind="bad",
            severity="B",
            points="11.5",
            title="供应钢筋未备案",
            legal_basis="《建设工程质量管理条例》第二十九条",
            facts="2026年供应的钢筋无产品供应备案",
            decided_on=TODAY - dt.timedelta(days=10),
            source=RecordSource.INSPECTION,
            actor=regulator,
            context=context_for(regulator),
        )
    return PortalData(filing=filing, expired_filing=expired, report=report, suppliers=suppliers)
