"""Two requests filing the same key at once: the loser re-reads and versions on top, never a server error."""

from __future__ import annotations

from typing import Any

import pytest

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.filings import actions
from jiancai.filings.models import Supply
from jiancai.filings.tests.records import file_as, supply_row


def test_a_key_filed_concurrently_is_versioned_on_a_retry(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    user = world["a_staff"]
    file_as(user, "supply", supply_row(world, 1))
    real = actions._current_versions
    calls: list[int] = []

    def stale_read(*args: Any, **kwargs: Any) -> Any:
        # The first read misses the row another request has just written, as in a race.
        calls.append(1)
        return {} if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(actions, "_current_versions", stale_read)
    result = file_as(user, "supply", supply_row(world, 1, quantity="99"))
    assert [(r.outcome, r.version) for r in result.rows] == [("updated", 2)] and len(calls) == 2
    assert list(Supply.objects.order_by("version").values_list("version", "is_current")) == [(1, False), (2, True)]


def test_a_key_still_conflicting_after_the_retry_is_refused_not_a_server_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = world["a_staff"]
    file_as(user, "supply", supply_row(world, 1))
    monkeypatch.setattr(actions, "_current_versions", lambda *args, **kwargs: {})
    result = actions.file_records(
        kind="supply", rows=[supply_row(world, 1, quantity="99")], context=context_for(user), channel="api", actor=user
    )
    assert [(r.outcome, [e.code for e in r.errors]) for r in result.rows] == [("refused", ["conflict"])]
    assert Supply.objects.count() == 1
