"""The public pages are served from the cache and cost a fixed number of queries, whatever the data size."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.filings.tests.records import Filers, file_as, purchase_row
from jiancai.portal import actions
from jiancai.portal.models import Notice
from jiancai.portal.tests.data import days_ago, make_portal_data

# Queries per page, rendered from scratch (the cache generation lookup is in the cache, not the database).
BUDGET = {
    "/portal/": 1,
    "/portal/notices/": 2,
    "/portal/enterprises/?q=北京": 3,
    "/portal/enterprises/{uscc}/": 6,
    "/portal/quality-materials/": 4,
    "/portal/top-products/": 2,
    "/portal/prices/": 2,
    "/portal/product-filings/?q=BA": 3,
    "/portal/catalog/": 2,
    "/portal/projects/": 2,
    "/portal/projects/{project}/": 2,
}


def _url(template: str, world: World) -> str:
    return template.format(uscc=world.a.uscc, project=world.b_project.project_code)


def _publish(world: World, title: str) -> Notice:
    user = world["city_biz"]
    notice = actions.save_notice(
        instance=Notice(),
        data={"title": title, "body": "正文", "category": "质量通报"},
        actor=user,
        context=context_for(user),
    )
    return actions.publish_notice(notice=notice, actor=user, context=context_for(user))


def _queries(client: Client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_each_page_within_its_budget_and_independent_of_the_data_size(
    client: Client, world: World, filers: Filers
) -> None:
    make_portal_data(world, filers)
    _publish(world, "第一份通报")
    small = {t: _queries(client, _url(t, world)) for t in BUDGET}
    assert small == BUDGET
    make_portal_data(world, filers, extra_suppliers=12, start=100)
    for n in range(5):
        _publish(world, f"更多通报{n}")
    large = {t: _queries(client, _url(t, world)) for t in BUDGET}
    assert large == BUDGET


@pytest.mark.django_db
def test_second_request_is_served_from_the_cache_without_queries(
    client: Client, world: World, filers: Filers, django_assert_num_queries: Any
) -> None:
    make_portal_data(world, filers)
    first = client.get("/portal/quality-materials/")
    assert first["X-Portal-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/portal/quality-materials/")
    assert second["X-Portal-Cache"] == "hit"
    assert second.content == first.content
    # another query string is another page
    assert client.get("/portal/quality-materials/?category=GJ")["X-Portal-Cache"] == "miss"


@pytest.mark.django_db
def test_cached_figures_stay_until_the_cache_expires(client: Client, world: World, filers: Filers) -> None:
    make_portal_data(world, filers)
    before = client.get("/portal/top-products/").content.decode()
    assert "HRB400E Φ25" not in before
    file_as(world["b_staff"], "purchase", purchase_row(world, 50, spec="HRB400E Φ25", arrival_date=days_ago(1)))
    assert "HRB400E Φ25" not in client.get("/portal/top-products/").content.decode()  # still the cached page
    cache.clear()  # what the expiry (PORTAL_CACHE_SECONDS) does
    assert "HRB400E Φ25" in client.get("/portal/top-products/").content.decode()


@pytest.mark.django_db
def test_publishing_and_withdrawing_a_notice_show_at_once_despite_the_cache(client: Client, world: World) -> None:
    user = world["city_biz"]
    ctx = context_for(user)
    assert "暂无通报" in client.get("/portal/").content.decode()
    assert client.get("/portal/")["X-Portal-Cache"] == "hit"
    notice = actions.save_notice(
        instance=Notice(),
        data={"title": "钢筋质量通报", "body": "正文", "category": "质量通报"},
        actor=user,
        context=ctx,
    )
    assert "钢筋质量通报" not in client.get("/portal/").content.decode()  # a draft is not public
    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.publish_notice(notice=notice, actor=user, context=ctx)
    assert "钢筋质量通报" in client.get("/portal/").content.decode()
    assert client.get(notice.get_public_url()).status_code == 200
    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.withdraw_notice(notice=notice, reason="撤回", actor=user, context=ctx)
    assert "钢筋质量通报" not in client.get("/portal/").content.decode()
    assert client.get(notice.get_public_url()).status_code == 404


@pytest.mark.django_db
def test_errors_and_checks_are_not_cached(client: Client, world: World, filers: Filers) -> None:
    make_portal_data(world, filers)
    assert client.get("/portal/projects/NO-SUCH/").status_code == 404
    assert "X-Portal-Cache" not in client.get("/portal/projects/NO-SUCH/")
    assert "X-Portal-Cache" not in client.get("/portal/verify/")
