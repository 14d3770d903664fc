"""Celery tasks of the blacklist app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="blacklist.lift_restrictions")
def lift_restrictions_task() -> dict[str, int]:
    """Hourly: record restrictions past their end as lifted, exit entries past their period, notify projects."""
    from .actions import lift_due

    return lift_due()
