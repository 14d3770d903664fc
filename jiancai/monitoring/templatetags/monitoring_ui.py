"""Template tags of the monitoring app: the workbench card of alerts being worked (through the funnel)."""

from __future__ import annotations

from typing import Any

from django import template

from jiancai.accounts.access import Action, restrict, role_allows
from jiancai.monitoring.models import Alert, AlertStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def alert_summary(context: Any) -> dict[str, int] | None:
    """Counts of the alerts the user sees that are still being worked, or None for roles that see no alerts."""
    user = context["request"].user
    if not role_allows(user, Alert, Action.VIEW):
        return None
    visible = restrict(Alert.objects.active(), user, Action.VIEW)
    return {
        "active": visible.count(),
        "waiting": visible.filter(status=AlertStatus.EXPLANATION_REQUESTED).count(),
    }
