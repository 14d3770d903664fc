from typing import Any

import pytest

from jiancai.accounts.tests.personas import *  # noqa: F403  (fixtures: world, logged_in, fast_password_hasher)
from jiancai.filings.tests.records import Filers, make_filers


@pytest.fixture
def filers(world: Any) -> Filers:
    """A laboratory and a ready-mix plant (朝阳区), each with a staff user."""
    return make_filers()
