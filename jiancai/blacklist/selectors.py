"""Reads other apps use (the public portal, the API, e-commerce checks): what is published and what is in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from jiancai.accounts.models import Organization
from jiancai.accounts.roles import OrgType

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


def credit_standing(usccs: Iterable[str], on: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """What an e-commerce platform checks before letting an enterprise trade (the open API's credit query), for many
    enterprises at once, by USCC: score and rating, the blacklist entry that lists it on `on` (today), and its
    published restrictions in force. Two set-based queries whatever the number of USCCs; unknown USCCs and
    organizations that are not enterprises are absent from the answer.

    Each value: {"name", "score" (Decimal | None), "rating", "computed_on", "entry_no", "listed_on", "listed_until",
    "restrictions": [{"restriction_no", "kind", "district", "starts_on", "ends_on"}]}.
    """
    day = on or timezone.localdate()
    codes = list(dict.fromkeys(usccs))
    if not codes:
        return {}
    listing = BlacklistEntry.objects.filter(enterprise=OuterRef("pk")).listed(day).order_by("-published_on", "-id")
    rows = (
        Organization.objects.filter(uscc__in=codes, org_type=OrgType.ENTERPRISE)
        .order_by()
        .annotate(
            entry_no=Subquery(listing.values("entry_no")[:1]),
            listed_on=Subquery(listing.values("published_on")[:1]),
            listed_until=Subquery(listing.values("ends_on")[:1]),
        )
        .values_list(
            "pk",
            "uscc",
            "name",
            "credit_score__score",
            "credit_score__rating",
            "credit_score__computed_on",
            "entry_no",
            "listed_on",
            "listed_until",
        )
    )
    by_pk: dict[int, dict[str, Any]] = {}
    result: dict[str, dict[str, Any]] = {}
    for pk, uscc, name, score, rating, computed_on, entry_no, listed_on_, listed_until in rows:
        item = {
            "name": name,
            "score": score,
            "rating": rating,
            "computed_on": computed_on,
            "entry_no": entry_no,
            "listed_on": listed_on_,
            "listed_until": listed_until,
            "restrictions": [],
        }
        by_pk[pk] = result[uscc] = item
    if by_pk:
        restrictions = (
            Restriction.objects.filter(enterprise_id__in=list(by_pk))
            .in_force(day)
            .published()
            .order_by("starts_on", "id")
            .values_list("enterprise_id", "restriction_no", "kind", "district__name", "starts_on", "ends_on")
        )
        for enterprise_id, no, kind, district, starts_on, ends_on in restrictions:
            by_pk[enterprise_id]["restrictions"].append(
                {"restriction_no": no, "kind": kind, "district": district, "starts_on": starts_on, "ends_on": ends_on}
            )
    return result
