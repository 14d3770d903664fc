"""The credit app's listeners: a case closed with a confirmed finding, a registry item verified false.

The lower apps do not know about credit: `close_case` saves the case with `closed_at` in `update_fields` and
`verify_item` creates a `Verification`; these receivers turn them into behaviour records once the transaction
that made them commits (so a rolled-back close creates nothing, and the record is the platform's own act).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from jiancai.monitoring.models import CaseOutcome, EnforcementCase
from jiancai.registry.models import Verification

from . import actions


@receiver(post_save, sender=EnforcementCase)
def on_case_saved(sender: Any, instance: EnforcementCase, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.closed_at is None or instance.outcome != CaseOutcome.CONFIRMED:
        return
    if update_fields is not None and "closed_at" not in update_fields:
        return
    pk = instance.pk
    transaction.on_commit(lambda: _from_case(pk))


def _from_case(pk: int) -> None:
    case = EnforcementCase.objects.select_related("respondent", "alert__rule").filter(pk=pk).first()
    if case is not None:
        actions.record_from_case(case)


@receiver(post_save, sender=Verification)
def on_verification_saved(sender: Any, instance: Verification, created: bool = False, **kwargs: Any) -> None:
    if not created or instance.verdict != "false":
        return
    pk = instance.pk
    transaction.on_commit(lambda: _from_verification(pk))


def _from_verification(pk: int) -> None:
    verification = Verification.objects.select_related("organization").filter(pk=pk).first()
    if verification is not None:
        actions.record_from_verification(verification)
