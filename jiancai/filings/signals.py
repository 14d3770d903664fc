"""What the filings app tells the rest of the platform: which filing rows changed.

`filings_changed` is sent once the transaction that wrote the rows commits, with `sender` the model,
`kind` (supply, purchase, …) and `ids` (the rows written: new versions, withdrawn or submitted ones). The
monitoring app listens to re-check what the rows touch; the filings app never imports its listeners.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

filings_changed = Signal()


def announce(model: Any, ids: Iterable[int | None]) -> None:
    """Send `filings_changed` for these rows after the current transaction commits (at once outside one)."""
    pks = [pk for pk in ids if pk is not None]
    if not pks:
        return
    transaction.on_commit(lambda: filings_changed.send(sender=model, kind=model.kind, ids=pks))
