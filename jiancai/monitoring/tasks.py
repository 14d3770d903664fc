"""Celery tasks of the monitoring app."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .dispatch import scope_from_json


@shared_task(name="monitoring.evaluate_scope")
def evaluate_scope_task(scope: dict[str, Any]) -> int:
    """An incremental evaluation (queued by dispatch.request_evaluation when REDIS_URL is set)."""
    from .engine import evaluate

    return evaluate(scope_from_json(scope)).run.pk


@shared_task(name="monitoring.evaluate_due")
def evaluate_due_task() -> int | None:
    """Every minute: the subjects whose grace period ended since the last such run."""
    from .engine import evaluate_due

    run = evaluate_due()
    return run.run.pk if run else None


@shared_task(name="monitoring.run_checks")
def run_checks_task() -> int:
    """Nightly: the full re-evaluation of every rule."""
    from .engine import evaluate

    return evaluate().run.pk


@shared_task(name="monitoring.compute_warnings")
def compute_warnings_task() -> int:
    """Nightly: this month's aggregate warnings (and last month's during the first days, as late filings come in)."""

    from django.utils import timezone

    from .warnings import compute_warnings, previous_month

    today = timezone.localdate()
    count = len(compute_warnings(today))
    if today.day <= 10:
        count += len(compute_warnings(previous_month(today)))
    return count


@shared_task(name="monitoring.run_rules")
def run_rules_task(codes: list[str]) -> int:
    """The full re-evaluation of some rules (queued by dispatch.request_full_evaluation, e.g. a parameter change)."""
    from .engine import evaluate

    return evaluate(codes=codes).run.pk
