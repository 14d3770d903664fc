"""Shared set-up of the blacklist tests: a second city regulator (the approver) and a published entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jiancai.accounts.context import context_for
from jiancai.accounts.models import User
from jiancai.accounts.roles import Role
from jiancai.accounts.tests.factories import RegulatorUserFactory
from jiancai.accounts.tests.personas import World
from jiancai.blacklist import actions
from jiancai.blacklist.models import BlacklistEntry, Restriction


def approver(world: World) -> User:
    """孙监管 (city_biz) proposes in most tests; 周审批 decides."""
    user: User = RegulatorUserFactory.create(
        username="city_biz2", display_name="周审批", organization=world.city, role=Role.BUSINESS
    )
    return user


def propose(world: World, proposer: User | None = None, **overrides: Any) -> BlacklistEntry:
    actor = proposer or world["city_biz"]
    fields: dict[str, Any] = {
        "enterprise": world.a,
        "grounds": "政府抽检钢筋屈服强度不合格，且拒不整改",
        "legal_basis": "《建设工程质量管理条例》第二十九条",
        "evidence": "抽检报告 CJ-2025-001；整改通知书",
        "period_months": 12,
        **overrides,
    }
    return actions.propose_entry(**fields, actor=actor, context=context_for(actor))


def publish(world: World, published_on: dt.date, checker: User | None = None, **overrides: Any) -> BlacklistEntry:
    entry = propose(world, **overrides)
    checker = checker or approver(world)
    return actions.approve_entry(
        entry=entry, note="情况属实，同意列入", actor=checker, context=context_for(checker), published_on=published_on
    )


def restrict_a(
    world: World, starts_on: dt.date, ends_on: dt.date, kind: str = "supply_ban", **overrides: Any
) -> Restriction:
    actor = world["city_biz"]
    return actions.impose_restriction(
        enterprise=world.a,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        basis="《北京市建设工程材料管理办法》",
        actor=actor,
        context=context_for(actor),
        **overrides,
    )
