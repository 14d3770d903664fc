"""/api/v1/platform/changes/: the credit change feed by opaque cursor (none lost or repeated, also under concurrent
writers), and the per-token rate limit (429 + Retry-After)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from jiancai.accounts.models import Organization, User
from jiancai.accounts.tests.personas import World, api_client_for
from jiancai.blacklist.tests.helpers import publish, restrict_a
from jiancai.credit.actions import note_credit_change
from jiancai.credit.models import ChangeKind, CreditChange
from jiancai.openapi.api import decode_cursor, encode_cursor


def _note(org: Organization, n: int) -> None:
    note_credit_change(organization=org, kind=ChangeKind.SCORE, summary={"n": n})


def _read_all(client: Any, cursor: str = "", limit: int = 2) -> tuple[list[dict[str, Any]], str]:
    seen: list[dict[str, Any]] = []
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/platform/changes/", params).json()
        seen += body["results"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor


def test_feed_pages_by_cursor(world: World, platform_admin: User) -> None:
    today = timezone.localdate()
    publish(world, published_on=today)
    restrict_a(world, today, today + dt.timedelta(days=30), kind="trade")
    client, _ = api_client_for(platform_admin, ["credit:query"])
    first, cursor = _read_all(client)
    kinds = {c["kind"] for c in first}
    assert {"blacklist", "restriction"} <= kinds
    assert len(first) == CreditChange.objects.count()
    assert [c["cursor"] for c in first] == [encode_cursor(c.pk) for c in CreditChange.objects.order_by("pk")]
    restriction = next(c for c in first if c["kind"] == "restriction")
    assert restriction["kind_label"] == "限制措施" and restriction["uscc"] == world.a.uscc
    assert restriction["summary"]["kind"] == "trade"
    # nothing new: the same cursor comes back, with no results
    again = client.get("/api/v1/platform/changes/", {"cursor": cursor}).json()
    assert again == {"results": [], "next_cursor": cursor, "has_more": False}
    # exactly the changes after the cursor, once
    for n in range(5):
        _note(world.b, n)
    later, cursor2 = _read_all(client, cursor)
    assert [c["summary"]["n"] for c in later] == [0, 1, 2, 3, 4]
    assert _read_all(client, cursor2)[0] == []
    # a cursor from the middle
    middle = later[1]["cursor"]
    assert [c["summary"]["n"] for c in _read_all(client, middle, limit=100)[0]] == [2, 3, 4]


def test_bad_cursor_and_limit(world: World, platform_admin: User) -> None:
    client, _ = api_client_for(platform_admin, ["credit:query"])
    for params in ({"cursor": "garbage!"}, {"cursor": "MTIz"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "x"}):
        response = client.get("/api/v1/platform/changes/", params)
        assert response.status_code == 400, params
        field = next(iter(params))
        assert response.json()["error"]["fields"][0]["field"] == field
    assert decode_cursor(encode_cursor(123456789)) == 123456789


def test_rate_limit_per_token(world: World, platform_admin: User, settings: Any) -> None:
    settings.OPENAPI_RATE = "3/min"
    client, _ = api_client_for(platform_admin, ["credit:query"])
    other, _ = api_client_for(platform_admin, ["credit:query"])
    for _ in range(3):
        assert client.get(f"/api/v1/platform/credit/{world.a.uscc}/").status_code == 200
    refused = client.get("/api/v1/platform/changes/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "throttled"
    assert "请求过于频繁" in refused.json()["error"]["message"] and "秒后重试" in refused.json()["error"]["message"]
    # another token of the same platform has its own allowance
    assert other.get("/api/v1/platform/changes/").status_code == 200


def test_batch_rate_limit(world: World, platform_admin: User, settings: Any) -> None:
    settings.OPENAPI_BATCH_RATE = "2/hour"
    client, _ = api_client_for(platform_admin, ["credit:query"])
    body = {"usccs": [world.a.uscc]}
    for _ in range(2):
        assert client.post("/api/v1/platform/credit/batch/", body, format="json").status_code == 200
    refused = client.post("/api/v1/platform/credit/batch/", body, format="json")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 3600
    assert client.get(f"/api/v1/platform/credit/{world.a.uscc}/").status_code == 200


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite lets one writer at a time in; the race needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # restores the reference data after the flush
def test_no_change_lost_under_concurrent_writers(world: World, platform_admin: User) -> None:
    """A writer holding a smaller id that commits after a larger one was read must not be skipped by the reader.

    Writer 1 inserts a change and keeps its transaction open; writer 2 starts meanwhile and commits. A reader that
    paged past writer 2's change before writer 1 committed would lose writer 1's. The feed lock makes writer 2 wait,
    so the reader sees either nothing new or both, in order."""
    client, _ = api_client_for(platform_admin, ["credit:query"])
    _, cursor = _read_all(client, limit=1000)
    inserted = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int, hold: bool) -> None:
        try:
            with transaction.atomic():
                _note(world.b, n)
                if hold:
                    inserted.set()
                    release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=writer, args=(1, True))
    first.start()
    assert inserted.wait(10)
    second = threading.Thread(target=writer, args=(2, False))
    second.start()
    second.join(0.5)  # blocked by the feed lock while writer 1 is open
    seen_meanwhile, cursor_meanwhile = _read_all(client, cursor, limit=1000)
    release.set()
    first.join(10)
    second.join(10)
    assert not errors
    after, _ = _read_all(client, cursor_meanwhile, limit=1000)
    delivered = [c["summary"]["n"] for c in seen_meanwhile + after]
    assert sorted(delivered) == [1, 2], delivered
    assert len(set(c["cursor"] for c in seen_meanwhile + after)) == 2
