from __future__ import annotations

import datetime as dt

import pytest

from jiancai.accounts.models import Organization
from jiancai.accounts.tests.factories import OrganizationFactory, make_uscc
from jiancai.accounts.tests.personas import *  # noqa: F403  (fixtures: world, logged_in, fast_password_hasher)
from jiancai.accounts.tests.personas import World
from jiancai.materials.models import CatalogEntry, MaterialCategory, ProductFiling


@pytest.fixture
def haidian_producer(world: World) -> Organization:
    """A producer in 海淀区 (outside the 朝阳 district regulator's district, not A or B)."""
    return OrganizationFactory.create(
        name="北京海淀钢材制造有限公司",
        uscc=make_uscc(303, region="110108"),
        district_name="海淀区",
        kinds=["producer"],
    )


@pytest.fixture
def a_filing(world: World) -> ProductFiling:
    return ProductFiling.objects.create(
        filing_no="BA-GJ-0001",
        producer=world.a,
        category=MaterialCategory.objects.get(code="GJ"),
        product_name="热轧带肋钢筋",
        spec="HRB400E Φ12",
        type_report_no="TR-2025-001",
        type_report_agency="国家建筑材料质量监督检验中心",
        type_report_valid_until=dt.date(2027, 6, 30),
        valid_until=dt.date(2027, 12, 31),
    )


@pytest.fixture
def hd_filing(haidian_producer: Organization) -> ProductFiling:
    return ProductFiling.objects.create(
        filing_no="BA-GJ-0002",
        producer=haidian_producer,
        category=MaterialCategory.objects.get(code="GJ"),
        product_name="热轧光圆钢筋",
        spec="HPB300 Φ8",
        valid_until=dt.date(2020, 12, 31),
    )


@pytest.fixture
def catalog_entry(db: None) -> CatalogEntry:
    return CatalogEntry.objects.create(
        entry_no="JZ-2019-001",
        listing="禁止",
        category=MaterialCategory.objects.get(code="QT"),
        product_name="黏土实心砖",
        scope="",
        effective_from=dt.date(2019, 7, 1),
        document_no="京建发〔2019〕149号",
    )
