"""Queued audit events (`queue_event`): every API request's token use, written without the chain head's lock and
appended to the chain soon after, in order, exactly once, with nothing lost."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jiancai.accounts.actions import find_token, record_token_use
from jiancai.accounts.models import ApiToken
from jiancai.accounts.tests.factories import issue_token
from jiancai.accounts.tests.personas import World, api_client_for
from jiancai.audit import chaining
from jiancai.audit.actions import (
    SYSTEM,
    AuditContext,
    chain_pending,
    queue_event,
    record_event,
    run_chain_verification,
    verify_chain,
)
from jiancai.audit.models import AuditChainHead, AuditEvent, PendingEvent


@pytest.fixture
def deferred(settings: Any) -> None:
    settings.AUDIT_CHAIN_INLINE = False


def context_of(world: World, name: str = "a_staff") -> AuditContext:
    user = world[name]
    return AuditContext(
        actor_id=user.pk,
        actor_name=user.display_name,
        organization_id=user.organization_id,
        organization_name=user.organization.name if user.organization else "",
        ip_address="10.1.2.3",
    )


def test_queued_events_join_the_chain_in_order_with_their_own_time(world: World, deferred: None) -> None:
    ctx = context_of(world)
    queue_event(context=ctx, action="token.use", target_type="accounts.apitoken", target_id="7", changes={"n": 1})
    record_event(context=SYSTEM, action="export", target_repr="直接入链")  # a normal event in between
    queue_event(context=ctx, action="token.use", target_type="accounts.apitoken", target_id="7", changes={"n": 2})
    queued = list(PendingEvent.objects.order_by("pk"))
    assert [p.changes for p in queued] == [{"n": 1}, {"n": 2}]
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["export"]

    assert chain_pending() == 2
    assert not PendingEvent.objects.exists()
    events = list(AuditEvent.objects.order_by("seq"))
    assert [(e.seq, e.action, e.changes) for e in events] == [
        (1, "export", {}),
        (2, "token.use", {"n": 1}),
        (3, "token.use", {"n": 2}),
    ]
    assert [e.occurred_at for e in events[1:]] == [p.occurred_at for p in queued]
    assert events[1].actor_id == world["a_staff"].pk and events[1].ip_address == "10.1.2.3"
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (3, events[-1].hash)
    assert verify_chain().ok
    assert chain_pending() == 0


def test_batches_keep_the_chain_unbroken(world: World, deferred: None) -> None:
    for i in range(5):
        queue_event(context=SYSTEM, action="token.use", target_repr=f"第{i}次")
    assert chain_pending(batch=2) == 5
    assert list(AuditEvent.objects.order_by("seq").values_list("target_repr", flat=True)) == [
        f"第{i}次" for i in range(5)
    ]
    report = verify_chain()
    assert report.ok and report.checked == 5


def test_chained_rows_keep_every_value(world: World, deferred: None) -> None:
    ctx = context_of(world)
    for i in range(5):
        queue_event(
            context=ctx, action="token.use", target_type="accounts.apitoken", target_id=str(i),
            changes={"请求": f"GET /api/v1/platform/credit/{i}/", "n": i, "嵌套": {"b": [1, "二"]}},
        )  # fmt: skip
    queued = {p.target_id: p for p in PendingEvent.objects.all()}
    assert chain_pending() == 5
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    for event in events:  # every column arrives as queued, read back through the ORM
        source = queued[event.target_id]
        assert (event.occurred_at, event.changes, event.ip_address) == (
            source.occurred_at, source.changes, "10.1.2.3"
        )  # fmt: skip
        assert (event.actor_id, event.organization_id) == (world["a_staff"].pk, world["a_staff"].organization_id)
        assert event.hash == event.compute_hash()
    assert verify_chain().ok


def test_chaining_stops_after_a_short_batch(world: World, deferred: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch that was not full means the queue was empty then; rows queued later are the next call's (under steady
    load, draining until a batch finds nothing never ended)."""
    from jiancai.audit import actions

    for i in range(3):
        queue_event(context=SYSTEM, action="token.use", target_repr=f"第{i}次")
    take = actions._chain_batch
    calls = []

    def take_then_queue_one(batch: int, *, unless_busy: bool) -> int | None:
        chained = take(batch, unless_busy=unless_busy)
        calls.append(chained)
        assert len(calls) < 10, "chain_pending keeps taking a row at a time"
        queue_event(context=SYSTEM, action="token.use", target_repr="之后")  # arrives while chaining
        return chained

    monkeypatch.setattr(actions, "_chain_batch", take_then_queue_one)
    assert chain_pending(batch=3) == 4
    assert calls == [3, 1]
    assert PendingEvent.objects.count() == 1
    monkeypatch.undo()
    assert chain_pending() == 1
    assert verify_chain().ok


def test_a_queued_event_rolls_back_with_its_transaction(world: World, deferred: None) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_event(context=SYSTEM, action="token.use", target_repr="回滚")
        raise RuntimeError
    assert not PendingEvent.objects.exists()


def test_a_vanished_actor_or_organization_is_chained_by_name(world: World, deferred: None) -> None:
    ctx = AuditContext(
        actor_id=987654, actor_name="已删除的用户", organization_id=876543, organization_name="已注销机构"
    )
    queue_event(context=ctx, action="token.use", target_repr="令牌")
    assert chain_pending() == 1
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.actor_name) == (None, "已删除的用户")
    assert (event.organization_id, event.organization_name) == (None, "已注销机构")
    assert verify_chain().ok


def test_a_verification_chains_what_is_queued_first(world: World, deferred: None) -> None:
    queue_event(context=SYSTEM, action="token.use", target_repr="令牌")
    result = run_chain_verification(context=SYSTEM)
    assert result.ok and result.checked == 1  # the queued row, verified before the verification's own row
    assert not PendingEvent.objects.exists()
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == ["token.use", "audit.verify"]


def test_tampering_with_a_chained_token_use_is_detected(world: World, deferred: None) -> None:
    queue_event(context=SYSTEM, action="token.use", target_repr="令牌", changes={"request": "GET /api/v1/projects/"})
    chain_pending()
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET target_repr = %s", ["别人的令牌"])  # noqa: S608
    assert [p["kind"] for p in verify_chain().problems] == ["modified"]


def test_inline_setting_chains_at_once(world: World, settings: Any) -> None:
    settings.AUDIT_CHAIN_INLINE = True
    queue_event(context=SYSTEM, action="token.use", target_repr="令牌")
    assert not PendingEvent.objects.exists()
    assert AuditEvent.objects.get().action == "token.use"


def test_token_use_is_queued_and_last_used_is_kept_to_the_minute(world: World, deferred: None) -> None:
    api, token = api_client_for(world["a_staff"])
    assert token is not None
    assert api.get("/api/v1/projects/").status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    assert api.get("/api/v1/qualifications/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use  # within the minute: the row is not rewritten on every request
    assert [p.changes["request"] for p in PendingEvent.objects.order_by("pk")] == [
        "GET /api/v1/projects/",
        "GET /api/v1/qualifications/",
    ]
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    token.refresh_from_db()
    record_token_use(token=token, context=context_of(world), method="GET", path="/api/v1/persons/")
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < dt.timedelta(seconds=30)
    assert chain_pending() == 3
    uses = AuditEvent.objects.filter(action="token.use").order_by("seq")
    assert [u.target_id for u in uses] == [str(token.pk)] * 3


def test_find_token_loads_what_the_orm_would(world: World) -> None:
    token, secret = issue_token(world["a_staff"])
    with CaptureQueriesContext(connection) as queries:
        found = find_token(secret)
    assert len(queries.captured_queries) == 1  # token, user and organization (also the user's) in one statement
    assert found is not None
    expected = ApiToken.objects.select_related("user__organization", "organization").get(pk=token.pk)
    pairs: list[tuple[Any, Any]] = [
        (found, expected),
        (found.user, expected.user),
        (found.user.organization, expected.user.organization),
        (found.organization, expected.organization),
    ]
    for loaded, orm in pairs:
        assert orm is not None and type(loaded) is type(orm)
        assert {f.attname: getattr(loaded, f.attname) for f in orm._meta.concrete_fields} == {
            f.attname: getattr(orm, f.attname) for f in orm._meta.concrete_fields
        }
    assert found.has_scopes(expected.scopes)
    assert find_token(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None  # right prefix, wrong secret
    assert find_token("jc_nosuchprefix_x") is None
    assert find_token("not-a-token") is None


def test_find_token_of_a_user_moved_to_another_organization(world: World) -> None:
    """The user's organization is then not the token's: it is read when used (and the token does not authenticate)."""
    token, secret = issue_token(world["a_staff"])
    user = world["a_staff"]
    user.organization = world.b
    user.save(update_fields=["organization"])
    found = find_token(secret)
    assert found is not None and found.organization == world.a
    with CaptureQueriesContext(connection) as queries:
        assert found.user.organization == world.b
    assert len(queries.captured_queries) == 1
    client, _ = api_client_for(None)
    refused = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_user_inactive"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_chaining_thread_appends_what_requests_queued(world: World, deferred: None) -> None:
    api, token = api_client_for(world["a_staff"])
    assert token is not None
    for path in ("/api/v1/projects/", "/api/v1/qualifications/", "/api/v1/persons/"):
        assert api.get(path).status_code == 200
    assert chaining.drain(timeout=60)
    assert not PendingEvent.objects.exists()
    uses = AuditEvent.objects.filter(action="token.use").order_by("seq")
    assert [u.changes["request"] for u in uses] == [
        "GET /api/v1/projects/",
        "GET /api/v1/qualifications/",
        "GET /api/v1/persons/",
    ]
    assert verify_chain().ok
