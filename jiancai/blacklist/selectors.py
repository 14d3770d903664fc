"""Reads other apps use (the public portal, the API, e-commerce checks): what is published and what is in force."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from jiancai.accounts.models import Organization

from .models import RESTRICTED_FILINGS, BlacklistEntry, Restriction


def published_entries(on: dt.date | None = None) -> QuerySet[BlacklistEntry]:
    """Entries the public sees on `on` (today): those listed now, and exited ones still within their publication
    period (the bad record stays published for three years after exit)."""
    return (
        BlacklistEntry.objects.published(on or timezone.localdate())
        .select_related("enterprise", "enterprise__district")
        .order_by("-published_on", "-id")
    )


def active_restrictions(org: Organization, on: dt.date | None = None) -> QuerySet[Restriction]:
    """The enterprise's restrictions in force on `on` (today), by date: one past its end is never in force, whether
    or not the lifting job has run."""
    return (
        Restriction.objects.filter(enterprise=org)
        .in_force(on or timezone.localdate())
        .select_related("district", "entry")
        .order_by("starts_on", "id")
    )


def is_listed(org: Organization, on: dt.date | None = None) -> bool:
    return BlacklistEntry.objects.filter(enterprise=org).listed(on or timezone.localdate()).exists()


def is_restricted(org: Organization, kind: str, on: dt.date | None = None) -> bool:
    """Is the enterprise barred from `kind` on `on`? `kind` is a restriction kind (`tender_ban`, `trade`,
    `supply_ban`) or a filing kind (`tender`, `supply`, `purchase`, `ticket`: any restriction that forbids it)."""
    kinds = [kind] if kind in RESTRICTED_FILINGS else [k for k, v in RESTRICTED_FILINGS.items() if kind in v]
    return active_restrictions(org, on).filter(kind__in=kinds).exists()
