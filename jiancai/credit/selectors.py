"""Read functions other apps use (portal, blacklist, open API, analytics, the filings supplier picker).

They are not funnel-filtered: a rating and a published record are public information (公示); a page showing
anything else must scope it itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from jiancai.accounts.models import Organization

from .models import BehaviourRecord, BehaviourRecordQuerySet, CreditChange, CreditScore


def rating_for(org: Organization | int) -> str | None:
    """The enterprise's current rating (A/B/C/D), or None when it has not been scored yet."""
    pk = org if isinstance(org, int) else org.pk
    return CreditScore.objects.filter(organization_id=pk).values_list("rating", flat=True).first()


def scores_for(orgs: Iterable[Organization | int]) -> dict[int, CreditScore]:
    """The current scores of these enterprises by organization id (one query; unscored ones are absent)."""
    ids = [o if isinstance(o, int) else o.pk for o in orgs]
    return {s.organization_id: s for s in CreditScore.objects.filter(organization_id__in=ids)}


def published_records(org: Organization | int, *, on: dt.date | None = None) -> BehaviourRecordQuerySet:
    """The enterprise's records published and within their publication period on `on` (today)."""
    pk = org if isinstance(org, int) else org.pk
    return BehaviourRecord.objects.filter(organization_id=pk).in_publication(on or timezone.localdate())


def rating_notes(ids: list[int]) -> dict[int, str]:
    """The note next to a supplier's name where a contractor chooses one (the filings purchase form)."""
    rows = CreditScore.objects.filter(organization_id__in=ids).values_list("organization_id", "rating", "score")
    return {pk: f"【信用{rating}级 {score}分】" for pk, rating, score in rows}


def credit_changes(*, after: int = 0, limit: int = 500) -> list[CreditChange]:
    """The change feed from a cursor: entries with id > `after`, oldest first; the last id is the next cursor."""
    return list(CreditChange.objects.filter(pk__gt=after).order_by("pk")[: max(1, min(limit, 5000))])
