"""When queued audit events (`actions.queue_event`) are appended to the chain.

* `AUDIT_CHAIN_INLINE = True` (tests, and by default the SQLite demo, where a second writer would only wait for the
  first): nothing is queued, `queue_event` appends at once like `record_event`.
* otherwise: the transaction that queued a row wakes one daemon thread of its process after commit; the thread
  waits `MERGE_SECONDS` for the rest of a burst, then chains everything queued (`actions.chain_pending`), so a
  burst of API requests takes the chain head's lock once, not once per request. If another process's thread is
  chaining at that moment, this one tries again `MERGE_SECONDS` later. The queued rows are in the database, so a
  process that dies first loses nothing: the next chaining of any process, the Celery beat task
  `audit.chain_pending` (every minute) or a verification of the chain (`verify_audit`) appends them.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time

from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

MERGE_SECONDS = 1.0
SWITCH_INTERVAL_SECONDS = 0.001
DRAIN_TIMEOUT_SECONDS = 60

_lock = threading.Lock()
_wakeup = threading.Event()
_idle = threading.Event()
_idle.set()
_requested = False
_worker: threading.Thread | None = None


def request_chaining() -> None:
    """Ask this process's thread to chain what is queued (called after the queuing transaction commits)."""
    global _requested, _worker
    with _lock:
        _requested = True
        _idle.clear()
        if _worker is None or not _worker.is_alive():
            if _worker is None:
                atexit.register(drain)
            # While the thread hashes a batch (pure Python, milliseconds), a request thread of the process that needs
            # the GIL waits up to the switch interval for it: 1 ms instead of CPython's 5 ms keeps that wait out of
            # the requests' latency (the interval only matters while threads contend).
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))
            _worker = threading.Thread(target=_work, name="audit-chaining", daemon=True)
            _worker.start()
    _wakeup.set()


def drain(timeout: float = DRAIN_TIMEOUT_SECONDS) -> bool:
    """Wait until the thread has chained everything requested so far (at exit; tests)."""
    _wakeup.set()
    return _idle.wait(timeout=timeout)


def _work() -> None:
    global _requested
    from .actions import chain_pending

    while True:
        _wakeup.wait(timeout=60)
        _wakeup.clear()
        time.sleep(MERGE_SECONDS)  # let the rest of a burst commit
        with _lock:
            if not _requested:
                _idle.set()
                continue
            _requested = False
        close_old_connections()
        try:
            if chain_pending(unless_busy=True) is None:  # another process was chaining: look again shortly
                with _lock:
                    _requested = True
        except Exception:  # the thread must survive a failed batch: its rows stay queued for the next one
            logger.exception("audit: chaining queued events failed; they stay queued")
            connections.close_all()
        with _lock:
            if _requested:  # under steady load: go on, keeping the connection
                _wakeup.set()
                continue
        connections.close_all()  # idle: hand the connection back
        with _lock:
            if _requested:
                _wakeup.set()
            else:
                _idle.set()
