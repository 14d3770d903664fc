"""Shared fixtures: the named personas (`world`), the real login flow (`login_as`) and API clients.

Imported by each app's tests/conftest.py (`from jiancai.accounts.tests.personas import *`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from jiancai.accounts.models import ApiToken, Organization, User
from jiancai.accounts.roles import OrgType, Role
from jiancai.registry.models import Capacity, Person, Project, Qualification

from .factories import (
    PASSWORD,
    OrganizationFactory,
    RegulatorFactory,
    RegulatorUserFactory,
    UserFactory,
    issue_token,
    make_uscc,
    totp_token,
)

__all__ = [
    "PERSONAS",
    "World",
    "api_client_for",
    "fast_password_hasher",
    "login_as",
    "logged_in",
    "world",
]

# persona -> (organization attribute of World, role)
PERSONAS: dict[str, tuple[str, Role]] = {
    "city_sys": ("city", Role.SYSTEM_ADMIN),
    "city_sec": ("city", Role.SECURITY_ADMIN),
    "city_audit": ("city", Role.AUDIT_ADMIN),
    "city_biz": ("city", Role.BUSINESS),
    "cy_biz": ("chaoyang", Role.BUSINESS),
    "cy_sys": ("chaoyang", Role.SYSTEM_ADMIN),
    "a_admin": ("a", Role.ORG_ADMIN),
    "a_staff": ("a", Role.STAFF),
    "b_admin": ("b", Role.ORG_ADMIN),
    "b_staff": ("b", Role.STAFF),
}

DISPLAY_NAMES = {
    "city_sys": "刘系统",
    "city_sec": "陈安全",
    "city_audit": "赵审计",
    "city_biz": "孙监管",
    "cy_biz": "周朝监",
    "cy_sys": "吴朝管",
    "a_admin": "郑企管",
    "a_staff": "王材料",
    "b_admin": "冯海管",
    "b_staff": "何施工",
}


@dataclass
class World:
    city: Organization
    chaoyang: Organization
    a: Organization
    b: Organization
    users: dict[str, User]
    a_qual: Qualification
    b_qual: Qualification
    a_cap: Capacity
    b_cap: Capacity
    a_person: Person
    b_person: Person
    a_project: Project
    b_project: Project
    id_numbers: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, persona: str) -> User:
        return self.users[persona]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    """PBKDF2 with a million rounds costs ~0.5 s per login; the flows under test do not depend on the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: None) -> World:
    from jiancai.registry.tests.factories import (
        CapacityFactory,
        PersonFactory,
        ProjectFactory,
        QualificationFactory,
        make_id_number,
    )

    city = RegulatorFactory.create(name="北京市住房和城乡建设委员会", uscc=make_uscc(1, prefix="11", region="110000"))
    chaoyang = RegulatorFactory.create(
        name="北京市朝阳区住房和城乡建设委员会",
        uscc=make_uscc(2, prefix="11", region="110105"),
        org_type=OrgType.DISTRICT_REGULATOR,
        district_name="朝阳区",
    )
    a = OrganizationFactory.create(
        name="北京朝建建材有限公司",
        uscc=make_uscc(101),
        district_name="朝阳区",
        kinds=["supplier", "producer", "builder"],
    )
    b = OrganizationFactory.create(
        name="北京海淀建工集团有限公司",
        uscc=make_uscc(202, region="110108"),
        district_name="海淀区",
        kinds=["contractor", "builder"],
        address="北京市海淀区中关村大街1号",
    )
    orgs = {"city": city, "chaoyang": chaoyang, "a": a, "b": b}
    users: dict[str, User] = {}
    for persona, (org_attr, role) in PERSONAS.items():
        org = orgs[org_attr]
        factory: type[UserFactory] = RegulatorUserFactory if org.is_regulator else UserFactory
        users[persona] = factory.create(
            username=persona, display_name=DISPLAY_NAMES[persona], organization=org, role=role
        )
    a_id, b_id = make_id_number(11), make_id_number(22, region="110108")
    return World(
        city=city,
        chaoyang=chaoyang,
        a=a,
        b=b,
        users=users,
        a_qual=QualificationFactory.create(
            organization=a, certificate_no="A-QUAL-0001", qualification_type="钢筋供应备案"
        ),
        b_qual=QualificationFactory.create(
            organization=b, certificate_no="B-QUAL-0001", qualification_type="建筑工程施工总承包"
        ),
        a_cap=CapacityFactory.create(organization=a, category="GJ", unit="t"),
        b_cap=CapacityFactory.create(organization=b, category="HNT", unit="m³", annual_capacity="50000.000"),
        a_person=PersonFactory.create(organization=a, name="李材料", id_number=a_id, role="材料员"),
        b_person=PersonFactory.create(organization=b, name="赵项目", id_number=b_id, role="项目经理"),
        a_project=ProjectFactory.create(
            builder=a, district_name="朝阳区", project_code="110105202600001", name="朝阳望京保障房项目"
        ),
        b_project=ProjectFactory.create(
            builder=b, contractor=b, district_name="海淀区", project_code="110108202600001", name="海淀学院路学校项目"
        ),
        id_numbers={"a": a_id, "b": b_id},
    )


def login_as(client: Client, user: User, password: str = PASSWORD) -> Any:
    """The real login flow: password on /login/, then for a regulator the TOTP code on /login/otp/."""
    response = client.post("/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, f"{user.username} could not log in: {response.status_code}"
    if user.requires_second_factor:
        assert response["Location"] == "/login/otp/", response["Location"]
        response = client.post("/login/otp/", {"token": totp_token(user)})
        assert response.status_code == 302, f"{user.username}: TOTP refused ({response.status_code})"
    return response


@pytest.fixture
def logged_in(client: Client) -> Any:
    """logged_in(user) -> the test client with `user` logged in through the real flow."""

    def log_in(user: User) -> Client:
        login_as(client, user)
        return client

    return log_in


def api_client_for(user: User | None, scopes: list[str] | None = None) -> tuple[APIClient, ApiToken | None]:
    client = APIClient()
    if user is None:
        return client, None
    token, secret = issue_token(user, scopes)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client, token
