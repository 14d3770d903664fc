"""registry.actions details that the HTTP tests do not reach directly."""

from __future__ import annotations

from jiancai.accounts.context import context_for
from jiancai.accounts.models import OrganizationKind, Verdict
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.registry.actions import save_enterprise, verify_item


def test_changing_only_the_enterprise_kinds_is_a_new_version_and_needs_verifying_again(world: World) -> None:
    org, admin, regulator = world.a, world["a_admin"], world["cy_biz"]
    verify_item(item=org, verdict=Verdict.CONFIRMED, reason="核对无误", actor=regulator, context=context_for(regulator))
    org.refresh_from_db()
    assert (org.version, org.verification_status) == (1, Verdict.CONFIRMED)
    kinds = list(org.kinds.all()) + [OrganizationKind.objects.get(code="laboratory")]
    save_enterprise(instance=org, data={}, kinds=kinds, actor=admin, context=context_for(admin), expected_version=1)
    org.refresh_from_db()
    assert (org.version, org.verification_status) == (2, Verdict.PENDING)
    event = AuditEvent.objects.filter(action="update", target_id=str(org.pk)).latest("seq")
    assert "检测机构" in event.changes["kinds"][1] and "检测机构" not in event.changes["kinds"][0]
