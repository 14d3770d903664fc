"""/api/v1/platform/credit/: one enterprise and batches, scopes, the batch limit, the one-query selector, and
the views' dispatch."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jiancai.accounts.models import Organization, User
from jiancai.accounts.tests.factories import issue_token, make_uscc
from jiancai.accounts.tests.personas import World, api_client_for
from jiancai.blacklist.selectors import credit_standing
from jiancai.blacklist.tests.helpers import publish, restrict_a
from jiancai.credit.actions import refresh_score


def _sanctioned(world: World) -> dict[str, Any]:
    """A listed on the blacklist with a city-wide trade restriction in force, an ended one, and a future one."""
    today = timezone.localdate()
    entry = publish(world, published_on=today - dt.timedelta(days=10))
    current = restrict_a(world, today - dt.timedelta(days=10), today + dt.timedelta(days=100), kind="trade")
    restrict_a(world, today - dt.timedelta(days=60), today - dt.timedelta(days=30), kind="tender_ban")
    restrict_a(world, today + dt.timedelta(days=5), today + dt.timedelta(days=50), kind="supply_ban")
    refresh_score(world.a, reason="测试")
    return {"entry": entry, "restriction": current}


def test_one_enterprise(world: World, platform_admin: User) -> None:
    s = _sanctioned(world)
    client, _ = api_client_for(platform_admin, ["credit:query"])
    response = client.get(f"/api/v1/platform/credit/{world.a.uscc.lower()}/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["uscc"] == world.a.uscc and body["found"] is True and body["error"] is None
    assert body["name"] == world.a.name
    assert body["credit"]["rating"] in "ABCD" and body["credit"]["score"].count(".") == 1
    assert body["restricted"] is True
    assert [r["restriction_no"] for r in body["restrictions"]] == [s["restriction"].restriction_no]
    assert body["restrictions"][0]["kind"] == "trade" and body["restrictions"][0]["area"] == "全市"
    assert body["blacklist"] == {
        "listed": True,
        "entry_no": s["entry"].entry_no,
        "listed_on": s["entry"].published_on.isoformat(),
        "listed_until": s["entry"].ends_on.isoformat(),
    }
    clean = client.get(f"/api/v1/platform/credit/{world.b.uscc}/").json()
    assert clean["restricted"] is False and clean["restrictions"] == [] and clean["blacklist"]["listed"] is False


def test_unknown_and_malformed_uscc(world: World, platform_admin: User) -> None:
    client, _ = api_client_for(platform_admin, ["credit:query"])
    unknown = client.get(f"/api/v1/platform/credit/{make_uscc(9999)}/")
    assert unknown.status_code == 404 and "未找到" in unknown.json()["error"]["message"]
    malformed = client.get("/api/v1/platform/credit/12345/")
    assert malformed.status_code == 400
    assert malformed.json()["error"]["fields"][0]["field"] == "uscc"
    assert "18位" in malformed.json()["error"]["message"]
    # a regulator is not an enterprise to check
    assert client.get(f"/api/v1/platform/credit/{world.city.uscc}/").status_code == 404


def test_batch(world: World, platform_admin: User) -> None:
    _sanctioned(world)
    client, _ = api_client_for(platform_admin, ["credit:query"])
    unknown = make_uscc(9999)
    usccs = [world.a.uscc, unknown, "not-a-code", world.b.uscc, world.a.uscc.lower()]
    response = client.post("/api/v1/platform/credit/batch/", {"usccs": usccs}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 4 and body["found"] == 2
    results = body["results"]
    assert [r["uscc"] for r in results] == [world.a.uscc, unknown, "NOT-A-CODE", world.b.uscc]
    assert results[0]["restricted"] is True and results[0]["blacklist"]["listed"] is True
    assert results[1]["found"] is False and results[1]["error"]["code"] == "not_found"
    assert results[2]["found"] is False and results[2]["error"]["code"] == "uscc_length"
    assert results[3]["found"] is True and results[3]["restricted"] is False


def test_batch_limit_and_bad_bodies(world: World, platform_admin: User) -> None:
    client, _ = api_client_for(platform_admin, ["credit:query"])
    too_many = [make_uscc(n) for n in range(1001)]
    response = client.post("/api/v1/platform/credit/batch/", {"usccs": too_many}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"][0]["field"] == "usccs"
    assert "一次最多查询 1000 个统一社会信用代码，本次提交了 1001 个" in error["message"]
    exactly = client.post("/api/v1/platform/credit/batch/", {"usccs": too_many[:1000]}, format="json")
    assert exactly.status_code == 200 and exactly.json()["count"] == 1000
    bodies: list[Any] = [{}, {"usccs": []}, {"usccs": "x"}, {"usccs": [1]}, ["x"]]
    for body in bodies:
        bad = client.post("/api/v1/platform/credit/batch/", body, format="json")
        assert bad.status_code == 400, body
        assert bad.json()["error"]["fields"][0]["field"] == "usccs", body


def test_set_based_standing_query(world: World, django_assert_num_queries: Any) -> None:
    """One query for a batch of 1,000, however many are restricted or listed."""
    _sanctioned(world)
    codes = [world.a.uscc, world.b.uscc] + [make_uscc(n) for n in range(998)]
    with django_assert_num_queries(1):
        standing = credit_standing(codes)
    assert set(standing) == {world.a.uscc, world.b.uscc}
    assert len(standing[world.a.uscc]["restrictions"]) == 1


def test_a_proposed_entry_is_not_a_listing(world: World, platform_admin: User) -> None:
    """Only published entries are answered; an entry still awaiting the second regulator's approval is not public."""
    from jiancai.blacklist.tests.helpers import propose

    propose(world)
    client, _ = api_client_for(platform_admin, ["credit:query"])
    body = client.get(f"/api/v1/platform/credit/{world.a.uscc}/").json()
    assert body["found"] is True and body["blacklist"]["listed"] is False and body["restrictions"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/platform/credit/{uscc}/"),
        ("post", "/api/v1/platform/credit/batch/"),
        ("get", "/api/v1/platform/changes/"),
    ],
)
def test_a_token_without_the_scope_is_refused(world: World, platform_admin: User, method: str, path: str) -> None:
    client, _ = api_client_for(platform_admin, ["registry:read", "credit:read"])
    response = getattr(client, method)(path.format(uscc=world.a.uscc), {"usccs": [world.a.uscc]}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "接口令牌的权限范围不足"
    anonymous, _ = api_client_for(None)
    assert getattr(anonymous, method)(path.format(uscc=world.a.uscc)).status_code in (401, 403)


def test_only_platforms_and_regulators_get_the_query_scope(world: World, platform: Organization) -> None:
    with pytest.raises(ValidationError, match="电商平台"):
        issue_token(world["a_admin"], ["credit:query"])
    token, _ = issue_token(world["city_biz"], ["credit:query"])
    assert token.scopes == ["credit:query"]


def test_standing_sql_agrees_with_the_querysets(world: World) -> None:
    """The hand-written SQL of `credit_standing` answers what `listed(on)` and `in_force(on).published()` select, on
    several days around the listing and restriction periods."""
    from jiancai.blacklist.models import BlacklistEntry, Restriction

    today = timezone.localdate()
    s = _sanctioned(world)
    district = world.a.district
    restrict_a(world, today - dt.timedelta(days=2), today + dt.timedelta(days=2), kind="tender_ban", district=district)
    for day in (today - dt.timedelta(days=40), today - dt.timedelta(days=10), today, today + dt.timedelta(days=7)):
        got = credit_standing([world.a.uscc, world.b.uscc], on=day)
        for org in (world.a, world.b):
            entry = BlacklistEntry.objects.filter(enterprise=org).listed(day).order_by("-published_on", "-id").first()
            restrictions = Restriction.objects.filter(enterprise=org).in_force(day).published()
            item = got[org.uscc]
            assert item["entry_no"] == (entry.entry_no if entry else None)
            assert item["listed_until"] == (entry.ends_on if entry else None)
            assert [r["restriction_no"] for r in item["restrictions"]] == [
                r.restriction_no for r in restrictions.order_by("starts_on", "id")
            ]
            assert all(isinstance(r["starts_on"], dt.date) for r in item["restrictions"])
    a = credit_standing([world.a.uscc])[world.a.uscc]
    assert a["score"] is not None and a["computed_on"] == world.a.credit_score.computed_on
    assert {r["district"] for r in a["restrictions"]} == {None, district.name if district else None}
    assert s["entry"].entry_no == a["entry_no"]


def test_the_token_page_gives_the_query_scope_to_platforms_only(world: World, platform_admin: User) -> None:
    from django.test import Client

    from jiancai.accounts.models import ApiToken
    from jiancai.accounts.tests.personas import login_as

    web = Client()
    login_as(web, world["a_admin"])
    refused = web.post("/accounts/tokens/", {"name": "商城", "scopes": ["credit:query"], "valid_days": 30})
    assert refused.status_code == 400
    assert "仅限企业类型为电商平台的机构" in refused.content.decode()
    assert not ApiToken.objects.exists()
    platform_web = Client()
    login_as(platform_web, platform_admin)
    issued = platform_web.post("/accounts/tokens/", {"name": "商城对接", "scopes": ["credit:query"], "valid_days": 30})
    assert issued.status_code == 200 and 'id="token-secret"' in issued.content.decode()
    assert ApiToken.objects.get().scopes == ["credit:query"]


def test_the_platform_dispatch_answers_every_kind_of_request(world: World, platform_admin: User) -> None:
    """`PlatformView.dispatch` is shorter than DRF's: HEAD, OPTIONS, a wrong method, no or a bad token and a bad
    USCC are still answered as DRF answers them, in the API's error shape."""
    _sanctioned(world)
    client, _ = api_client_for(platform_admin, ["credit:query"])
    path = f"/api/v1/platform/credit/{world.a.uscc}/"
    got = client.get(path)
    assert got.status_code == 200 and got["Content-Type"] == "application/json"
    assert got.content.decode() == json.dumps(got.json(), ensure_ascii=False, separators=(",", ":"))
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    options = client.options(path)
    assert options.status_code == 200 and options.json()["name"] and "GET" in options["Allow"]
    wrong = client.delete(path)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    bad = client.get("/api/v1/platform/credit/91110000000000000A/")
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["field"] == "uscc"
    anonymous, _ = api_client_for(None)
    refused = anonymous.get(path)
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Bearer"
    assert refused.json()["error"]["code"] == "not_authenticated"
    forged = anonymous.get(path, HTTP_AUTHORIZATION="Bearer jc_nothere_secret")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "token_invalid"
