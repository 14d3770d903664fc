"""The audit trail: append-only, hash-chained; tampering outside the platform is detected and reported."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.actions import SYSTEM, AuditContext, record_event, verify_chain
from jiancai.audit.models import AuditChainHead, AuditEvent, ChainVerification
from jiancai.registry import actions as registry_actions


def make_events(world: World) -> list[AuditEvent]:
    """A few real events, through the actions that write them."""
    biz = world["city_biz"]
    ctx = AuditContext(
        actor_id=biz.pk,
        actor_name=biz.display_name,
        organization_id=world.city.pk,
        organization_name=world.city.name,
        ip_address="10.0.0.8",
    )
    registry_actions.verify_item(item=world.a_qual, verdict="confirmed", reason="核对原件", actor=biz, context=ctx)
    registry_actions.verify_item(item=world.b_qual, verdict="false", reason="查无此证", actor=biz, context=ctx)
    staff = world["a_staff"]
    staff_ctx = AuditContext(actor_id=staff.pk, actor_name=staff.display_name, organization_id=world.a.pk)
    registry_actions.save_record(instance=world.a_qual, data={"grade": "一级"}, actor=staff, context=staff_ctx)
    registry_actions.save_record(
        instance=world.a_cap, data={"annual_capacity": "99.000"}, actor=staff, context=staff_ctx
    )
    record_event(
        context=SYSTEM, action="export", target_type="registry.person", target_repr="人员库导出", changes={"rows": 2}
    )
    return list(AuditEvent.objects.order_by("seq"))


def raw(sql: str, params: list) -> int:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)
        return int(cursor.rowcount)


def test_events_form_an_unbroken_chain(world: World) -> None:
    events = make_events(world)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == "0" * 64
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    for event in events:
        assert event.hash == event.compute_hash()
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)
    report = verify_chain()
    assert report.ok and report.checked == len(events)

    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"审计链完好：{len(events)} 条" in out.getvalue()
    assert ChainVerification.objects.get().ok
    # the verification itself is audited (and chained)
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and last.action == "audit.verify"


def test_raw_sql_edit_and_delete_are_detected(world: World) -> None:
    events = make_events(world)
    edited, deleted = events[1], events[3]
    assert raw("UPDATE {table} SET reason = %s WHERE seq = %s", ["属实", edited.seq]) == 1
    assert raw("DELETE FROM {table} WHERE seq = %s", [deleted.seq]) == 1

    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_audit", stdout=out)
    assert "审计链校验失败：2 处问题" in str(info.value)
    output = out.getvalue()
    assert f"#{edited.seq} modified: 记录内容与哈希不符（已被修改）" in output
    assert f"#{deleted.seq} missing: 缺少序号 {deleted.seq}–{deleted.seq} 的记录（已被删除）" in output

    result = ChainVerification.objects.get()
    assert not result.ok and result.checked == len(events) - 1
    assert {(p["seq"], p["kind"]) for p in result.problems} == {(edited.seq, "modified"), (deleted.seq, "missing")}


def test_changing_a_hash_to_match_is_still_detected(world: World) -> None:
    """Recomputing the hash of an edited row without the key does not help; fixing the link breaks the next one."""
    events = make_events(world)
    target = events[2]
    raw("UPDATE {table} SET target_repr = %s, hash = %s WHERE seq = %s", ["伪造", "f" * 64, target.seq])
    problems = {(p["seq"], p["kind"]) for p in verify_chain().problems}
    assert (target.seq, "modified") in problems
    assert (target.seq + 1, "relinked") in problems


def test_deleting_the_newest_rows_is_detected(world: World) -> None:
    events = make_events(world)
    raw("DELETE FROM {table} WHERE seq >= %s", [events[-2].seq])
    report = verify_chain()
    assert not report.ok
    assert report.problems == [
        {
            "seq": events[-2].seq,
            "kind": "missing",
            "detail": f"链尾缺少序号 {events[-2].seq}–{events[-1].seq} 的记录（已被删除）",
        }
    ]


def test_audit_admin_sees_the_problems_on_the_chain_page(world: World, client: Client) -> None:
    events = make_events(world)
    raw("UPDATE {table} SET changes = %s WHERE seq = %s", ['{"rows": 0}', events[-1].seq])
    raw("DELETE FROM {table} WHERE seq = %s", [events[0].seq])
    login_as(client, world["city_audit"])
    page = client.get("/audit/chain/")
    assert page.status_code == 200 and "尚未校验" in page.content.decode()
    response = client.post("/audit/chain/")
    assert response["Location"] == "/audit/chain/"
    html = client.get("/audit/chain/").content.decode()
    assert "发现篡改" in html
    assert "审计链发现 2 处问题" in html  # the message after the POST
    assert "modified" in html and "记录内容与哈希不符（已被修改）" in html
    assert "missing" in html and "缺少序号 1–1 的记录（已被删除）" in html
    assert "赵审计" in html  # who ran it


def test_clean_chain_page(world: World, client: Client) -> None:
    make_events(world)
    login_as(client, world["city_audit"])
    client.post("/audit/chain/")
    html = client.get("/audit/chain/").content.decode()
    assert "完好" in html and "发现篡改" not in html


def test_the_application_cannot_edit_or_delete_audit_rows(world: World) -> None:
    events = make_events(world)
    event = AuditEvent.objects.get(seq=events[0].seq)
    event.reason = "改写"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(seq=event.seq).update(reason="改写")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(seq=event.seq).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert verify_chain().ok
    assert AuditEvent.objects.get(seq=event.seq).reason == events[0].reason


def test_audit_pages_offer_no_way_to_change_rows(world: World, client: Client) -> None:
    make_events(world)
    login_as(client, world["city_audit"])
    assert client.post("/audit/", {"seq": 1}).status_code == 405
    assert client.get("/audit/1/").status_code == 404
    assert verify_chain().ok


def test_audited_change_and_its_audit_row_roll_back_together(world: World) -> None:
    """A change refused half-way (A's staff filing a record for B) leaves neither the row nor an audit row."""
    from django.core.exceptions import PermissionDenied

    from jiancai.registry.models import Qualification

    staff = world["a_staff"]
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        registry_actions.save_record(
            instance=Qualification(),
            data={
                "organization": world.b,
                "certificate_no": "X-1",
                "qualification_type": "t",
                "issued_on": world.a_qual.issued_on,
                "valid_until": world.a_qual.valid_until,
            },
            actor=staff,
            context=AuditContext(actor_id=staff.pk, actor_name=staff.display_name),
        )
    assert not Qualification.objects.filter(certificate_no="X-1").exists()
    assert AuditEvent.objects.count() == before
    assert verify_chain().ok


def test_security_admin_sees_only_security_events(world: World) -> None:
    make_events(world)
    security, auditor = Client(), Client()
    login_as(security, world["city_sec"])
    login_as(auditor, world["city_audit"])
    sec_html = security.get("/audit/", {"action": "verify"}).content.decode()
    aud_html = auditor.get("/audit/", {"action": "verify"}).content.decode()
    assert "共 0 条" in sec_html
    assert "共 2 条" in aud_html and "查无此证" in aud_html
    logins = security.get("/audit/", {"action": "login.success"}).content.decode()
    assert "共 2 条" in logins  # both logins of this test


def test_audit_list_filters(world: World, client: Client) -> None:
    make_events(world)
    login_as(client, world["city_audit"])
    html = client.get("/audit/", {"actor_name": "王材料"}).content.decode()
    assert "共 2 条" in html  # the two edits of A's staff
    html = client.get("/audit/", {"ip_address": "10.0.0.8"}).content.decode()
    assert "共 2 条" in html  # the two verdicts
