"""Product supply filings (owned by the producer) and the promoted / restricted / prohibited catalog (the city
regulator's), through their pages: visibility, inline errors, versions, filters and audited exports."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.materials import actions
from jiancai.materials.models import CatalogEntry, MaterialCategory, ProductFiling


def errors(response) -> list[str]:
    return re.findall(r'role="alert">\s*(?:<p>)?(.*?)<', response.content.decode())


def client_for(world: World, persona: str) -> Client:
    client = Client()
    login_as(client, world[persona])
    return client


def sheet(response) -> list[list[Any]]:
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    return [[c.value for c in row] for row in workbook.active.iter_rows()]


def category_pk(code: str) -> int:
    return MaterialCategory.objects.get(code=code).pk


def filing_form(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "filing_no": "BA-GJ-0100",
        "producer": world.a.pk,
        "category": category_pk("GJ"),
        "product_name": "热轧带肋钢筋",
        "spec": "HRB400E Φ16",
        "type_report_no": "TR-2026-016",
        "type_report_agency": "北京市建设工程质量第一检测所",
        "type_report_valid_until": "2028-01-31",
        "valid_until": "2028-12-31",
        **overrides,
    }


def entry_form(**overrides: Any) -> dict[str, Any]:
    return {
        "entry_no": "XZ-2026-001",
        "listing": "限制",
        "category": category_pk("SN"),
        "product_name": "袋装水泥",
        "spec_keyword": "",
        "scope": "城六区",
        "effective_from": "2026-01-01",
        "effective_until": "2030-12-31",
        "document_no": "京建发〔2026〕3号",
        **overrides,
    }


# ---------------------------------------------------------------- product supply filings


def test_producer_files_a_product_and_its_district_regulator_sees_it(world: World) -> None:
    staff = client_for(world, "a_staff")
    response = staff.post("/materials/filings/new/", filing_form(world))
    filing = ProductFiling.objects.get(filing_no="BA-GJ-0100")
    assert response["Location"] == f"/materials/filings/{filing.pk}/"
    assert (filing.producer, filing.version) == (world.a, 1)
    event = AuditEvent.objects.get(action="create", target_type="materials.productfiling", target_id=str(filing.pk))
    assert event.changes["product_name"] == [None, "热轧带肋钢筋"] and "version" not in event.changes

    for persona in ("cy_biz", "city_biz", "city_sys", "a_admin"):
        client = client_for(world, persona)
        assert client.get(f"/materials/filings/{filing.pk}/").status_code == 200, persona
        assert "BA-GJ-0100" in client.get("/materials/filings/").content.decode(), persona
    other = client_for(world, "b_admin")
    assert other.get(f"/materials/filings/{filing.pk}/").status_code == 403
    assert "BA-GJ-0100" not in other.get("/materials/filings/").content.decode()
    assert AuditEvent.objects.filter(action="permission.denied", actor_id=world["b_admin"].pk).exists()


def test_district_regulator_sees_only_its_districts_filings(world: World, a_filing, hd_filing) -> None:
    page = client_for(world, "cy_biz").get("/materials/filings/").content.decode()
    assert a_filing.filing_no in page and hd_filing.filing_no not in page
    assert client_for(world, "cy_biz").get(f"/materials/filings/{hd_filing.pk}/").status_code == 403
    city = client_for(world, "city_biz").get("/materials/filings/").content.decode()
    assert a_filing.filing_no in city and hd_filing.filing_no in city


def test_regulators_read_but_do_not_file(world: World, a_filing) -> None:
    client = client_for(world, "city_biz")
    assert client.get("/materials/filings/new/").status_code == 403
    assert client.post("/materials/filings/new/", filing_form(world)).status_code == 403
    assert client.get(f"/materials/filings/{a_filing.pk}/edit/").status_code == 403
    page = client.get(f"/materials/filings/{a_filing.pk}/").content.decode()
    assert f"/materials/filings/{a_filing.pk}/edit/" not in page
    assert not ProductFiling.objects.filter(filing_no="BA-GJ-0100").exists()


def test_an_enterprise_cannot_file_for_another_or_when_it_does_not_produce(world: World) -> None:
    staff = client_for(world, "a_staff")
    response = staff.post("/materials/filings/new/", filing_form(world, producer=world.b.pk))
    assert response.status_code == 400
    assert any(e.startswith("生产企业：") for e in errors(response))
    # B is a contractor, neither producer nor supplier: no product to file, and the action says why.
    b = client_for(world, "b_admin")
    assert "新增" not in b.get("/materials/filings/").content.decode()
    response = b.post("/materials/filings/new/", filing_form(world, producer=world.b.pk))
    assert response.status_code == 400
    with pytest.raises(Exception, match="不是生产或供应企业"):
        actions.save_product_filing(
            instance=ProductFiling(),
            data={**filing_form(world), "producer": world.b, "category": MaterialCategory.objects.get(code="GJ")},
            actor=world["b_admin"],
            context=context_for(world["b_admin"]),
        )
    assert not ProductFiling.objects.exists()


def test_filing_edit_bumps_the_version_and_refuses_stale_edits(world: World, a_filing) -> None:
    staff = client_for(world, "a_staff")
    url = f"/materials/filings/{a_filing.pk}/edit/"
    current = filing_form(
        world,
        filing_no=a_filing.filing_no,
        spec=a_filing.spec,
        type_report_no=a_filing.type_report_no,
        type_report_agency=a_filing.type_report_agency,
        type_report_valid_until="2027-06-30",
        valid_until="2027-12-31",
        expected_version=1,
    )
    assert staff.post(url, current)["Location"] == f"/materials/filings/{a_filing.pk}/"
    a_filing.refresh_from_db()
    assert a_filing.version == 1 and not AuditEvent.objects.filter(action="update").exists()  # nothing changed

    response = staff.post(url, {**current, "valid_until": "2028-12-31", "filing_no": "HACKED"})
    assert response.status_code == 302
    a_filing.refresh_from_db()
    assert (a_filing.version, a_filing.valid_until, a_filing.filing_no) == (2, dt.date(2028, 12, 31), "BA-GJ-0001")
    event = AuditEvent.objects.get(action="update", target_type="materials.productfiling")
    assert event.changes == {"valid_until": ["2027-12-31", "2028-12-31"], "version": [1, 2]}

    stale = staff.post(url, {**current, "spec": "HRB500E Φ12"})  # still claims version 1
    assert stale.status_code == 400
    assert "该记录已被他人修改（当前版本 2，您编辑的是版本 1），请刷新后重新编辑" in errors(stale)
    a_filing.refresh_from_db()
    assert a_filing.spec == "HRB400E Φ12" and a_filing.version == 2


def test_filing_filters(world: World, a_filing, hd_filing) -> None:
    client = client_for(world, "city_biz")

    def numbers(**params: str) -> set[str]:
        rows = sheet(client.get("/materials/filings/", {**params, "export": "xlsx"}))
        return {r[0] for r in rows[1:]}

    assert numbers() == {"BA-GJ-0001", "BA-GJ-0002"}
    assert numbers(validity="expired") == {"BA-GJ-0002"}
    assert numbers(validity="valid") == {"BA-GJ-0001"}
    assert numbers(producer=world.a.uscc.lower()) == {"BA-GJ-0001"}
    assert numbers(producer="海淀钢材") == {"BA-GJ-0002"}
    assert numbers(category="GJ", q="光圆") == {"BA-GJ-0002"}
    assert numbers(category="HNT") == set()
    assert numbers(district="朝阳区") == {"BA-GJ-0001"}


def test_filing_export_is_audited_and_scoped(world: World, a_filing, hd_filing) -> None:
    rows = sheet(client_for(world, "cy_biz").get("/materials/filings/", {"validity": "valid", "export": "xlsx"}))
    assert rows[0][:3] == ["备案编号", "生产企业", "材料品类"]
    assert [r[0] for r in rows[1:]] == ["BA-GJ-0001"]
    event = AuditEvent.objects.get(action="export")
    assert event.target_type == "materials.productfiling" and event.actor_id == world["cy_biz"].pk
    assert event.changes == {"filters": {"validity": "valid"}, "rows": 1}


# ---------------------------------------------------------------- the promoted / restricted / prohibited catalog


def test_city_regulator_creates_a_catalog_entry(world: World) -> None:
    client = client_for(world, "city_biz")
    response = client.post("/materials/catalog/new/", entry_form())
    entry = CatalogEntry.objects.get(entry_no="XZ-2026-001")
    assert response["Location"] == f"/materials/catalog/{entry.pk}/"
    event = AuditEvent.objects.get(action="create", target_type="materials.catalogentry")
    assert event.changes["document_no"] == [None, "京建发〔2026〕3号"] and event.changes["listing"] == [None, "限制"]
    page = client.get(response["Location"]).content.decode()
    assert "城六区" in page and "修改" in page
    reader = client_for(world, "a_staff").get(response["Location"]).content.decode()
    assert "城六区" in reader and f"/materials/catalog/{entry.pk}/edit/" not in reader


def test_catalog_entry_dates_out_of_order_are_refused_inline(world: World) -> None:
    client = client_for(world, "city_biz")
    response = client.post("/materials/catalog/new/", entry_form(effective_until="2025-12-31"))
    assert response.status_code == 400
    assert "失效日期：失效日期不能早于生效日期" in errors(response)
    assert not CatalogEntry.objects.exists()
    assert not AuditEvent.objects.filter(action="create").exists()


def test_catalog_entry_edit_is_audited_and_its_number_fixed(world: World, catalog_entry) -> None:
    client = client_for(world, "city_biz")
    form = entry_form(
        entry_no="OTHER",
        listing="禁止",
        category=category_pk("QT"),
        product_name="黏土实心砖",
        scope="全市",
        effective_from="2019-07-01",
        effective_until="",
        document_no="京建发〔2019〕149号",
    )
    response = client.post(f"/materials/catalog/{catalog_entry.pk}/edit/", form)
    assert response.status_code == 302
    catalog_entry.refresh_from_db()
    assert (catalog_entry.entry_no, catalog_entry.scope) == ("JZ-2019-001", "全市")
    event = AuditEvent.objects.get(action="update", target_type="materials.catalogentry")
    assert event.changes == {"scope": ["", "全市"]}


def test_catalog_filters_and_audited_export(world: World, catalog_entry) -> None:
    city = world["city_biz"]
    actions.save_catalog_entry(
        instance=CatalogEntry(),
        data={
            "entry_no": "TG-2026-001",
            "listing": "推广",
            "category": MaterialCategory.objects.get(code="QT"),
            "product_name": "蒸压加气混凝土砌块",
            "effective_from": dt.date(2026, 7, 1),
            "effective_until": dt.date(2028, 6, 30),
            "document_no": "京建发〔2026〕5号",
        },
        actor=city,
        context=context_for(city),
    )
    client = client_for(world, "a_staff")

    def numbers(**params: str) -> list[str]:
        rows = sheet(client.get("/materials/catalog/", {**params, "export": "xlsx"}))
        return sorted(r[0] for r in rows[1:])

    assert numbers() == ["JZ-2019-001", "TG-2026-001"]
    assert numbers(listing="禁止") == ["JZ-2019-001"]
    assert numbers(category="QT", q="砌块") == ["TG-2026-001"]
    assert numbers(on="2026-06-30") == ["JZ-2019-001"]
    assert numbers(on="2028-06-30") == ["JZ-2019-001", "TG-2026-001"]
    assert numbers(on="2028-07-01") == ["JZ-2019-001"]
    assert numbers(on="2019-06-30") == []
    exports = AuditEvent.objects.filter(action="export", target_type="materials.catalogentry").order_by("seq")
    assert exports.count() == 7
    last = exports.last()
    assert last is not None and last.changes == {"filters": {"on": "2019-06-30"}, "rows": 0}
    page = client.get("/materials/catalog/", {"on": "2028-06-30"}).content.decode()
    assert "共 2 条" in page and "新增" not in page


def test_category_export_is_audited(world: World) -> None:
    rows = sheet(client_for(world, "b_staff").get("/materials/categories/", {"export": "xlsx"}))
    assert rows[0] == [
        "品类代码",
        "品类名称",
        "计量单位",
        "需见证复试",
        "检验批量",
        "取样规则说明",
        "现行单位面积用量参考值",
    ]
    gj = next(r for r in rows if r[0] == "GJ")
    assert gj[2:5] == ["t", "是", "60 t"] and "框架 40–60 kg/㎡" in gj[6]
    assert len(rows) == 15
    event = AuditEvent.objects.get(action="export")
    assert event.target_type == "materials.materialcategory" and event.changes == {"filters": {}, "rows": 14}


def test_navigation_shows_the_catalog_group(world: World) -> None:
    page = client_for(world, "a_staff").get("/").content.decode()
    assert "材料目录" in page and "/materials/categories/" in page and "/materials/catalog/" in page
    audit_page = client_for(world, "city_audit").get("/").content.decode()
    assert "/materials/categories/" not in audit_page
