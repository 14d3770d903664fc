"""Getting incremental evaluations run soon after the filings that cause them, without slowing the filer down.

* `MONITORING_AUTO = False`: nothing runs on its own (benchmarks of other parts; `run_checks` still works).
* `MONITORING_RUN_INLINE = True` (tests): the evaluation runs before `request_evaluation` returns.
* `REDIS_URL` set: the scope goes to the Celery task `monitoring.evaluate_scope`, run by a worker.
* inside `collected()` (command-line tools: `import_records`, `seed_demo`): scopes are merged and evaluated once,
  inline, when the block ends, so nothing is left to a thread the exiting process would kill.
* otherwise (the local demo, single-server installs): one daemon thread of the process evaluates, merging the
  scopes that arrived while it was busy, so a burst of filings (a bulk import's chunks) costs a few runs, not one
  per chunk. A process that exits normally (e.g. `manage.py import_records`) first lets the thread finish what
  is pending (atexit); a killed one loses at most the pending scope, which the nightly full run catches up.

`request_full_evaluation(codes)` (a parameter changed, a rule enabled) asks for the full run of those rules the
same way: inline, as the Celery task `monitoring.run_rules`, or by the same daemon thread.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections

from .rules.base import Scope

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_pending: Scope | None = None
_pending_codes: set[str] = set()  # rules waiting for a full run
_wakeup = threading.Event()
_worker: threading.Thread | None = None
_local = threading.local()
_idle = threading.Event()
_idle.set()
DRAIN_TIMEOUT_SECONDS = 30 * 60


def scope_to_json(scope: Scope) -> dict[str, Any]:
    return {
        "records": {k: sorted(v) for k, v in scope.records.items()},
        "projects": sorted(scope.projects),
        "contract_nos": sorted(scope.contract_nos),
        "organizations": sorted(scope.organizations),
        "categories": sorted(scope.categories),
        "due_dates": sorted(d.isoformat() for d in scope.due_dates),
        "project_data": sorted(scope.project_data),
    }


def scope_from_json(data: dict[str, Any]) -> Scope:
    import datetime as dt

    return Scope(
        records={k: set(v) for k, v in data.get("records", {}).items()},
        projects=set(data.get("projects", [])),
        contract_nos=set(data.get("contract_nos", [])),
        organizations=set(data.get("organizations", [])),
        categories=set(data.get("categories", [])),
        due_dates={dt.date.fromisoformat(d) for d in data.get("due_dates", [])},
        project_data=set(data.get("project_data", [])),
    )


@contextmanager
def collected(*, evaluate_at_end: bool = True) -> Iterator[Scope]:
    """Collect the scopes requested in this thread inside the block; evaluate them once at its end (inline)."""
    outer = getattr(_local, "collector", None)
    scope = Scope()
    _local.collector = scope
    try:
        yield scope
    finally:
        _local.collector = outer
    if outer is not None:
        outer.merge(scope)
    elif evaluate_at_end and not scope.is_empty() and getattr(settings, "MONITORING_AUTO", True):
        from .engine import evaluate

        evaluate(scope)


def request_evaluation(scope: Scope) -> None:
    if scope.is_empty() or not getattr(settings, "MONITORING_AUTO", True):
        return
    collector = getattr(_local, "collector", None)
    if collector is not None:
        collector.merge(scope)
        return
    if getattr(settings, "MONITORING_RUN_INLINE", False):
        from .engine import evaluate

        evaluate(scope)
        return
    if settings.REDIS_URL:
        from .tasks import evaluate_scope_task

        evaluate_scope_task.delay(scope_to_json(scope))
        return
    _enqueue(scope)


def request_full_evaluation(codes: list[str]) -> None:
    """A full run of the rules `codes` (after a parameter change), dispatched like `request_evaluation`."""
    if not codes or not getattr(settings, "MONITORING_AUTO", True):
        return
    if getattr(settings, "MONITORING_RUN_INLINE", False):
        from .engine import evaluate

        evaluate(codes=list(codes))
        return
    if settings.REDIS_URL:
        from .tasks import run_rules_task

        run_rules_task.delay(sorted(codes))
        return
    _enqueue(None, codes)


def _enqueue(scope: Scope | None, codes: list[str] | None = None) -> None:
    global _pending, _worker
    with _lock:
        if scope is None:
            pass
        elif _pending is None:
            _pending = scope
        else:
            _pending.merge(scope)
        _pending_codes.update(codes or ())
        _idle.clear()
        if _worker is None or not _worker.is_alive():
            if _worker is None:
                atexit.register(_drain)
            _worker = threading.Thread(target=_work, name="monitoring-evaluator", daemon=True)
            _worker.start()
    _wakeup.set()


def _drain() -> None:
    """At exit: wait until the thread has evaluated everything pending."""
    _wakeup.set()
    if not _idle.wait(timeout=DRAIN_TIMEOUT_SECONDS):
        logger.warning("monitoring: pending incremental evaluation abandoned at exit; run_checks will catch up")


LOCKED_RETRY_SECONDS = (0.2, 1.0, 3.0)


def _retrying_when_locked(run: Callable[[], object]) -> None:
    """Run an evaluation, again after a pause when SQLite refused a write because another connection held the
    database or table (e.g. the rollup refresh of the same filing). Safe to repeat: each rule's reconciliation is
    its own transaction and raises an alert once per rule and subject, so rules done before the refusal change
    nothing the second time."""
    for pause in (*LOCKED_RETRY_SECONDS, None):
        try:
            run()
            return
        except OperationalError as error:
            if pause is None or "locked" not in str(error):
                raise
            logger.warning("evaluation postponed %.1f s: %s", pause, error)
            connections.close_all()
            time.sleep(pause)


def _work() -> None:
    global _pending
    from .engine import evaluate

    while True:
        _wakeup.wait(timeout=60)
        _wakeup.clear()
        with _lock:
            scope, _pending = _pending, None
            codes = sorted(_pending_codes)
            _pending_codes.clear()
            if scope is None and not codes:
                _idle.set()
                continue
        close_old_connections()
        try:
            if codes:
                _retrying_when_locked(functools.partial(evaluate, codes=codes))
            if scope is not None:
                _retrying_when_locked(functools.partial(evaluate, scope))
        except Exception:  # the thread must survive one bad run; the nightly full run catches up
            logger.exception("evaluation failed")
        finally:
            connections.close_all()
        with _lock:
            if _pending is None and not _pending_codes:
                _idle.set()
            else:
                _wakeup.set()
