"""factory_boy factories of the registries: qualifications, capacities, persons (ID numbers encrypted) and projects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from jiancai.accounts.tests.factories import OrganizationFactory, district
from jiancai.accounts.validators import id_check_char, mask_id_number
from jiancai.registry.models import Capacity, Person, Project, ProjectStatus, Qualification
from jiancai.registry.protected import encrypt_text, lookup_digest


def make_id_number(n: int, *, region: str = "110105", birth: dt.date = dt.date(1980, 1, 1)) -> str:
    """A valid 18-digit citizen ID number (GB 11643) with a real birth date and the right check character."""
    born = birth + dt.timedelta(days=n * 37 % 9000)
    first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


class QualificationFactory(DjangoModelFactory[Qualification]):
    class Meta:
        model = Qualification

    organization = factory.SubFactory(OrganizationFactory)
    certificate_no = factory.Sequence(lambda n: f"D2110{n:07d}")
    qualification_type = "预拌混凝土专业承包"
    grade = "不分等级"
    issued_on = dt.date(2024, 1, 10)
    valid_until = dt.date(2029, 1, 9)


class CapacityFactory(DjangoModelFactory[Capacity]):
    class Meta:
        model = Capacity

    organization = factory.SubFactory(OrganizationFactory)
    category = "GJ"
    unit = "t"
    annual_capacity = Decimal("120000.000")


class PersonFactory(DjangoModelFactory[Person]):
    """Stores the ID number as the platform does: encrypted, a keyed digest, and the mask."""

    class Meta:
        model = Person

    class Params:
        id_number = factory.Sequence(lambda n: make_id_number(n + 1))

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"王材料{n}")
    role = "材料员"
    phone = "13800000000"
    id_number_encrypted = factory.LazyAttribute(lambda o: encrypt_text(o.id_number))
    id_number_digest = factory.LazyAttribute(lambda o: lookup_digest(o.id_number))
    id_number_masked = factory.LazyAttribute(lambda o: mask_id_number(o.id_number))


class ProjectFactory(DjangoModelFactory[Project]):
    class Meta:
        model = Project

    class Params:
        district_name = "朝阳区"

    project_code = factory.Sequence(lambda n: f"11010520260{n:05d}")
    name = factory.Sequence(lambda n: f"测试住宅项目{n}号楼")
    district = factory.LazyAttribute(lambda o: district(o.district_name))
    builder = factory.SubFactory(OrganizationFactory)
    floor_area = Decimal("23800.50")
    structure_type = "剪力墙"
    project_type = "住宅"
    budget = Decimal("18000.00")
    start_date = dt.date(2025, 3, 1)
    status = ProjectStatus.UNDER_CONSTRUCTION
