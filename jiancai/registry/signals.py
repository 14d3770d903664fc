"""What the registry tells the rest of the platform: which enterprises' and projects' registry data changed.

`registry_updated` is sent once the transaction that changed the rows commits, with `organizations` (ids of the
enterprises whose qualifications or enterprise data changed) and `projects` (ids of changed projects). The
monitoring app listens to re-check what depends on them (e.g. a plant's qualification, a project's floor area);
the registry never imports its listeners.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

registry_updated = Signal()


def registry_changed(*, organizations: Iterable[int | None] = (), projects: Iterable[int | None] = ()) -> None:
    """Send `registry_updated` after the current transaction commits (at once outside one)."""
    orgs = sorted({pk for pk in organizations if pk is not None})
    projs = sorted({pk for pk in projects if pk is not None})
    if not orgs and not projs:
        return
    transaction.on_commit(lambda: registry_updated.send(sender=None, organizations=orgs, projects=projs))


def announce_item(item: Any) -> None:
    """Announce a saved or verified registry row that cross-checks read: an enterprise, a qualification, a project."""
    from jiancai.accounts.models import Organization

    from .models import Project, Qualification

    if isinstance(item, Organization):
        registry_changed(organizations=[item.pk])
    elif isinstance(item, Qualification):
        registry_changed(organizations=[item.organization_id])
    elif isinstance(item, Project):
        registry_changed(projects=[item.pk])
