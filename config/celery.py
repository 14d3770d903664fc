"""Celery app. With REDIS_URL set, tasks go to Redis workers; without it they run in-process (eager)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
app = Celery("jiancai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "verify-audit-chain-nightly": {"task": "audit.verify_chain", "schedule": 24 * 60 * 60},
    "audit-chain-pending": {"task": "audit.chain_pending", "schedule": 60},
    "monitoring-grace-periods": {"task": "monitoring.evaluate_due", "schedule": 60},
    "monitoring-full-nightly": {"task": "monitoring.run_checks", "schedule": 24 * 60 * 60},
    "monitoring-warnings-nightly": {"task": "monitoring.compute_warnings", "schedule": 24 * 60 * 60},
    "credit-recompute-nightly": {"task": "credit.recompute_credit", "schedule": 24 * 60 * 60},
    "blacklist-lift-restrictions": {"task": "blacklist.lift_restrictions", "schedule": 60 * 60},
    "analytics-rebuild-nightly": {"task": "analytics.rebuild_rollups", "schedule": 24 * 60 * 60},
}
