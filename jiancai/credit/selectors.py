"""Read functions other apps use (portal, blacklist, open API, analytics, the filings supplier picker).

They are not funnel-filtered: a rating and a published record are public information (公示); a page showing
anything else must scope it itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from jiancai.accounts.models import Organization

from .models import BehaviourRecord, BehaviourRecordQuerySet, CreditScore


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
