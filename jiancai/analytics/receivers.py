"""Listeners keeping the rollups current: filings as they arrive (`filings.signals.filings_changed`, sent after
commit by every write path: forms, API, bulk and staged imports) and alerts as the engine or a regulator changes
them (`post_save` of `monitoring.EvaluationRun` at the end of each evaluation, `post_save` of `Alert` from the
alert actions), each acted on after commit.

The refreshes are requested from `dispatch` (inline in tests, else a thread merging bursts); a failed refresh is
logged and never fails the filing that triggered it (it has committed already); `manage.py rebuild_rollups` and
the nightly task put the tables right.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from jiancai.filings.signals import filings_changed
from jiancai.monitoring.models import Alert, EvaluationRun, Rule

from . import dispatch


@receiver(filings_changed)
def on_filings_changed(sender: Any, kind: str, ids: list[int], **kwargs: Any) -> None:
    dispatch.request_filings(sender, ids)


def _refresh_alerts_later(rule_ids: set[int]) -> None:
    transaction.on_commit(lambda: dispatch.request_alerts(rule_ids))


@receiver(post_save, sender=EvaluationRun)
def on_evaluation_run(sender: Any, instance: EvaluationRun, created: bool, **kwargs: Any) -> None:
    if instance.finished_at is None:
        return
    codes = list(instance.detail or {})
    if codes:
        _refresh_alerts_later(set(Rule.objects.filter(code__in=codes).values_list("pk", flat=True)))


@receiver(post_save, sender=Alert)
def on_alert_saved(sender: Any, instance: Alert, **kwargs: Any) -> None:
    _refresh_alerts_later({instance.rule_id})
