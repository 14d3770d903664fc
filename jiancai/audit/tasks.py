from __future__ import annotations

from celery import shared_task

from .actions import SYSTEM, chain_pending, run_chain_verification


@shared_task(name="audit.verify_chain")
def verify_chain_task() -> bool:
    """Scheduled verification (Celery beat); its result shows on the audit administrator's page."""
    return run_chain_verification(context=SYSTEM).ok


@shared_task(name="audit.chain_pending")
def chain_pending_task() -> int:
    """Append queued audit events a process left behind (it died before its chaining thread ran); every minute."""
    return chain_pending() or 0
