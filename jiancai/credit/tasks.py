"""Celery tasks of the credit app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="credit.recompute_credit")
def recompute_credit_task() -> int:
    """Nightly: every enterprise's score again, as records leave their publication periods by date."""
    from .actions import recompute_scores

    return recompute_scores()
