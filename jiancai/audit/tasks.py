from __future__ import annotations

from celery import shared_task

from .actions import SYSTEM, run_chain_verification


@shared_task(name="audit.verify_chain")
def verify_chain_task() -> bool:
    """Scheduled verification (Celery beat); its result shows on the audit administrator's page."""
    return run_chain_verification(context=SYSTEM).ok
