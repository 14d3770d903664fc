"""Getting the rollups refreshed soon after the changes that cause them, merging bursts.

A refresh recomputes the groups a batch touches, so its cost follows those groups, not the batch. A bulk import
announces its rows in chunks of 5,000 after one commit (the staged import: all of them at once); refreshing per
announcement would recompute the same groups once per chunk. So:

* `ANALYTICS_REFRESH_INLINE = True` (tests): the refresh runs before `request_*` returns (a failure is logged
  there too: a rollup must never fail the filing or the rule evaluation that triggered it).
* otherwise: one daemon thread of the process refreshes, merging everything requested while it waited
  (`MERGE_SECONDS`) or was busy: a burst of announcements costs one or a few refreshes. This holds with Celery
  too: the process that filed (web, worker, `import_records`) refreshes in its own thread. A process that exits
  normally first lets the thread finish (atexit); a killed one loses at most the pending refresh, which the
  nightly `analytics.rebuild_rollups` task (or `manage.py rebuild_rollups`) puts right.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

MERGE_SECONDS = 0.3
DRAIN_TIMEOUT_SECONDS = 30 * 60

_lock = threading.Lock()
_filings: dict[Any, set[int]] = defaultdict(set)  # model -> ids
_rules: set[int] = set()
_wakeup = threading.Event()
_idle = threading.Event()
_idle.set()
_worker: threading.Thread | None = None


def request_filings(model: Any, ids: list[int]) -> None:
    if not ids:
        return
    if getattr(settings, "ANALYTICS_REFRESH_INLINE", False):
        from . import rollups

        _logged(rollups.refresh_filings, model, ids)
        return
    with _lock:
        _filings[model].update(ids)
    _start()


def request_alerts(rule_ids: set[int]) -> None:
    if not rule_ids:
        return
    if getattr(settings, "ANALYTICS_REFRESH_INLINE", False):
        from . import rollups

        _logged(rollups.refresh_alerts, rule_ids)
        return
    with _lock:
        _rules.update(rule_ids)
    _start()


def _logged(refresh: Any, *args: Any) -> None:
    """Run a refresh; a failure is logged, never raised into the filing or evaluation that asked for it."""
    try:
        refresh(*args)
    except Exception:
        logger.exception("rollup refresh failed; run manage.py rebuild_rollups")


def _start() -> None:
    global _worker
    with _lock:
        _idle.clear()
        if _worker is None or not _worker.is_alive():
            if _worker is None:
                atexit.register(drain)
            _worker = threading.Thread(target=_work, name="analytics-rollups", daemon=True)
            _worker.start()
    _wakeup.set()


def drain(timeout: float = DRAIN_TIMEOUT_SECONDS) -> bool:
    """Wait until the thread has refreshed everything pending (at exit; tests of the thread)."""
    _wakeup.set()
    if not _idle.wait(timeout=timeout):
        logger.warning("analytics: pending rollup refresh abandoned; run manage.py rebuild_rollups")
        return False
    return True


def _work() -> None:
    from . import rollups

    while True:
        _wakeup.wait(timeout=60)
        _wakeup.clear()
        time.sleep(MERGE_SECONDS)  # let the rest of a burst arrive
        with _lock:
            filings = {model: sorted(ids) for model, ids in _filings.items()}
            rules = set(_rules)
            _filings.clear()
            _rules.clear()
            if not filings and not rules:
                _idle.set()
                continue
        close_old_connections()
        try:
            for model, ids in filings.items():
                rollups.refresh_filings(model, ids)
            rollups.refresh_alerts(rules)
        except Exception:  # the thread must survive one bad refresh; the nightly rebuild catches up
            logger.exception("rollup refresh failed; run manage.py rebuild_rollups")
        finally:
            connections.close_all()
        with _lock:
            if not _filings and not _rules:
                _idle.set()
            else:
                _wakeup.set()
