from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from jiancai.accounts.tests.personas import *  # noqa: F403  (fixtures: world, logged_in, fast_password_hasher)
from jiancai.filings.tests.records import Filers, make_filers


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Every test starts with an empty cache (cached pages, rate-limit counters) and leaves none behind."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def filers(world: Any) -> Filers:
    return make_filers()
