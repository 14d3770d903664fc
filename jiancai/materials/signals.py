"""What the materials app tells the rest of the platform: which categories' catalog data changed.

`catalog_updated` is sent once the transaction commits, with `categories` (ids of the material categories whose
settings, usage references or catalog entries changed). The monitoring app listens; materials never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

catalog_updated = Signal()


def catalog_changed(categories: Iterable[int | None]) -> None:
    """Send `catalog_updated` for these categories after the current transaction commits (at once outside one)."""
    ids = sorted({pk for pk in categories if pk is not None})
    if ids:
        transaction.on_commit(lambda: catalog_updated.send(sender=None, categories=ids))
