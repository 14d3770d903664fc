"""What the materials app tells the rest of the platform: which enterprises' product filings and which categories
changed.

`catalog_changed` is sent once the transaction that wrote the change commits, with `organizations` (the producers
whose product supply filings were created or changed, before and after the change) and `categories` (material
categories whose rules changed: witness re-test, batch size, …). The monitoring app listens to re-check the
supplies and purchases they touch; the materials app never imports its listeners.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

catalog_changed = Signal()


def announce(sender: Any, *, organizations: Iterable[int | None] = (), categories: Iterable[int | None] = ()) -> None:
    """Send `catalog_changed` after the current transaction commits (at once outside one)."""
    orgs = sorted({pk for pk in organizations if pk is not None})
    cats = sorted({pk for pk in categories if pk is not None})
    if not orgs and not cats:
        return
    transaction.on_commit(lambda: catalog_changed.send(sender=sender, organizations=orgs, categories=cats))
