"""/api/v1/credit-records/: scopes, the funnel, partner records by API (idempotent by origin region + number)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from jiancai.accounts.tests.personas import World, api_client_for
from jiancai.credit.models import BehaviourRecord, RecordChannel
from jiancai.credit.tests.test_actions import bad


def test_an_enterprise_token_reads_its_own_records_only(world: World) -> None:
    mine = bad(world, organization=world.b, title="B的记录")
    other = bad(world, title="A的记录")
    client, _ = api_client_for(world["b_admin"], ["credit:read"])
    response = client.get("/api/v1/credit-records/")
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [r["record_no"] for r in rows] == [mine.record_no]
    assert rows[0]["uscc"] == world.b.uscc and rows[0]["severity"] == "B" and rows[0]["points"] == "10.00"
    assert client.get(f"/api/v1/credit-records/{mine.record_no}/").status_code == 200
    assert client.get(f"/api/v1/credit-records/{other.record_no}/").status_code == 403
    # a token without the scope is refused
    no_scope, _ = api_client_for(world["b_admin"], ["registry:read"])
    assert no_scope.get("/api/v1/credit-records/").status_code == 403
    # an enterprise cannot post records even with the write scope
    writer, _ = api_client_for(world["b_admin"], ["credit:write"])
    payload = {
        "uscc": world.b.uscc,
        "origin_region": "天津市",
        "origin_authority": "天津市住建委",
        "origin_no": "JJ-1",
        "kind": "good",
        "title": "x",
        "legal_basis": "x",
        "facts": "x",
        "decided_on": "2026-01-05",
    }
    assert writer.post("/api/v1/credit-records/", payload, format="json").status_code == 403


def test_a_regulator_posts_partner_records_once(world: World) -> None:
    client, _ = api_client_for(world["city_biz"], ["credit:read", "credit:write"])
    decided = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    payload = {
        "uscc": world.a.uscc,
        "origin_region": "河北省",
        "origin_authority": "河北省住房和城乡建设厅",
        "origin_no": "HB-2026-0099",
        "kind": "bad",
        "severity": "A",
        "title": "供应假冒水泥",
        "legal_basis": "《产品质量法》第四十九条",
        "facts": "经查属实",
        "decided_on": decided,
    }
    response = client.post("/api/v1/credit-records/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["origin_region"] == "河北省" and body["points"] == "20.00" and body["source"] == "partner"
    record = BehaviourRecord.objects.get()
    assert record.channel == RecordChannel.API and record.created_by_name == "孙监管"
    again = client.post("/api/v1/credit-records/", payload, format="json")
    assert again.status_code == 200 and again.json()["record_no"] == body["record_no"]
    assert BehaviourRecord.objects.count() == 1
    bad_input = client.post("/api/v1/credit-records/", {**payload, "origin_no": "HB-2", "severity": ""}, format="json")
    assert bad_input.status_code == 400
    assert "不良行为须选择等级" in str(bad_input.json())
    unknown = client.post(
        "/api/v1/credit-records/", {**payload, "origin_no": "HB-3", "uscc": "91110000000000000X"}, format="json"
    )
    assert unknown.status_code == 400 and "未在本市企业库登记" in str(unknown.json())
