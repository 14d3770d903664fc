from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections

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
def wsgi_in_test() -> Iterator[None]:
    """For tests that call the WSGI application itself: Django's handler closes the database connection at each
    request's start and end when it is not in autocommit, which the test's transaction never is (on PostgreSQL the
    next query then fails). Django's own test client disconnects these receivers too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


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
