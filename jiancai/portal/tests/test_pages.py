"""The public pages: each renders with data, without login; persons are masked; internal ids do not leak."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from jiancai.accounts.tests.personas import World
from jiancai.filings.tests.records import Filers
from jiancai.portal.tests.data import make_portal_data

PAGES = {
    "/portal/": ["企业信用查询", "最新通报"],
    "/portal/enterprises/?q=朝建": ["北京朝建建材有限公司", "p-rB"],
    "/portal/quality-materials/": ["热轧带肋钢筋", "BA-GJ-0001", "4100.00"],
    "/portal/quality-materials/?category=GJ": ["BA-GJ-0001"],
    "/portal/top-products/": ["钢筋", "北京朝建建材有限公司", "HRB400E Φ20", "90"],
    "/portal/prices/": ["price-chart", "钢筋（元/t）", "4000.00", "4300.00", "echarts-6.1.0.min.js"],
    "/portal/product-filings/?q=BA-GJ": ["BA-GJ-0001", "BA-GJ-0009", "已过期"],
    "/portal/catalog/": ["JZ-2019-001", "黏土实心砖", "禁止"],
    "/portal/catalog/?listing=推广": ["暂无"],
    "/portal/projects/": ["海淀学院路学校项目", "110108202600001"],
    "/portal/projects/110108202600001/": ["钢筋", "90 t", "北京朝建建材有限公司"],
    "/portal/notices/": ["暂无通报"],
    "/portal/verify/": ["报告编号", "防伪校验码"],
}


@pytest.fixture
def data(world: World, filers: Filers) -> Any:
    return make_portal_data(world, filers)


@pytest.mark.django_db
@pytest.mark.parametrize("url", list(PAGES))
def test_public_page_renders_with_data(client: Client, data: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, url
    text = response.content.decode()
    for expected in PAGES[url]:
        assert expected in text, f"{url}: {expected!r} missing"
    assert 'name="viewport"' in text and "css/portal.css" in text
    assert "cdn" not in text.lower()


@pytest.mark.django_db
def test_enterprise_page_masks_the_legal_representative(client: Client, world: World, data: Any) -> None:
    text = client.get(f"/portal/enterprises/{world.a.uscc}/").content.decode()
    assert "北京朝建建材有限公司" in text and world.a.uscc in text
    assert "张**" in text and "张三丰" not in text
    assert "BA-GJ-0001" in text and "BA-GJ-0009" not in text  # only filings in force


@pytest.mark.django_db
def test_enterprise_page_shows_rating_score_and_published_records(client: Client, world: World, data: Any) -> None:
    text = client.get(f"/portal/enterprises/{world.a.uscc}/").content.decode()
    assert "B级（基本守信）" in text and "88.5" in text
    assert "供应钢筋未备案" in text and "《建设工程质量管理条例》第二十九条" in text and "−11.5" in text
    by_uscc = client.get(f"/portal/enterprises/?q={world.a.uscc}").content.decode()
    assert f"/portal/enterprises/{world.a.uscc}/" in by_uscc
    unscored = client.get(f"/portal/enterprises/{world.b.uscc}/").content.decode()
    assert "暂无信用评分" in unscored and "暂无公示中的信用记录" in unscored


@pytest.mark.django_db
def test_revoked_credit_record_leaves_the_portal(client: Client, world: World, data: Any) -> None:
    from django.core.cache import cache

    from jiancai.accounts.context import context_for
    from jiancai.credit import actions as credit_actions
    from jiancai.credit.models import BehaviourRecord

    regulator = world["city_biz"]
    record = BehaviourRecord.objects.get(organization=world.a)
    credit_actions.revoke_record(record=record, reason="认定有误", actor=regulator, context=context_for(regulator))
    cache.clear()
    text = client.get(f"/portal/enterprises/{world.a.uscc}/").content.decode()
    assert "供应钢筋未备案" not in text


@pytest.mark.django_db
def test_quality_list_leaves_out_expired_filings(client: Client, data: Any) -> None:
    text = client.get("/portal/quality-materials/").content.decode()
    assert "BA-GJ-0001" in text and "BA-GJ-0009" not in text
    assert "90 t（2 笔）" in text


@pytest.mark.django_db
def test_no_person_or_phone_or_internal_id_on_any_page(client: Client, world: World, data: Any) -> None:
    pks = {str(data.filing.pk), str(data.report.pk), str(world.a.pk), str(world.b_project.pk)}
    for url in [*PAGES, f"/portal/enterprises/{world.a.uscc}/"]:
        text = client.get(url).content.decode()
        for secret in ("李四", "13812345678", "王五", "赵六", "钱七", "张三丰"):
            assert secret not in text, f"{url} shows {secret}"
        links = re.findall(r'href="(/portal/[^"]*)"', text)
        for link in links:
            for part in link.split("?")[0].strip("/").split("/")[1:]:
                assert part not in pks or len(part) > 6, f"{url} links an internal id: {link}"


@pytest.mark.django_db
def test_unknown_public_identifiers_are_404(client: Client, data: Any) -> None:
    assert client.get("/portal/enterprises/91110000000000000X/").status_code == 404
    assert client.get("/portal/projects/NO-SUCH/").status_code == 404
    assert client.get("/portal/notices/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.django_db
def test_project_without_completion_filing_is_not_listed(client: Client, world: World, data: Any) -> None:
    assert world.a_project.name not in client.get("/portal/projects/").content.decode()
    assert client.get(f"/portal/projects/{world.a_project.project_code}/").status_code == 404
