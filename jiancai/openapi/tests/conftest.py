from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from jiancai.accounts.models import Organization, User
from jiancai.accounts.roles import Role
from jiancai.accounts.tests.factories import OrganizationFactory, UserFactory, make_uscc
from jiancai.accounts.tests.personas import *  # noqa: F403  (fixtures: world, logged_in, fast_password_hasher)
from jiancai.accounts.tests.personas import World


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def platform(world: World) -> Organization:
    """An e-commerce platform (电商平台) with its organization administrator `platform_admin`."""
    org: Organization = OrganizationFactory.create(
        name="京建材网络科技有限公司", uscc=make_uscc(303, region="110108"), district_name="海淀区", kinds=["ecommerce"]
    )
    return org


@pytest.fixture
def platform_admin(platform: Organization) -> User:
    user: User = UserFactory.create(
        username="platform_admin", display_name="钱平台", organization=platform, role=Role.ORG_ADMIN
    )
    return user
