"""Celery tasks of the analytics app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analytics.rebuild_rollups")
def rebuild_rollups_task() -> dict[str, int]:
    """Nightly: recompute the rollups from the base tables (catches a refresh lost with a killed process)."""
    from .rollups import rebuild

    return rebuild()
