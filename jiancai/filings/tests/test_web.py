"""The filing pages through HTTP: the generated form with inline Chinese errors, draft → submit, withdrawal,
corrections as new versions with their history, related records, the funnel, and the exports."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from jiancai.accounts.models import User
from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.filings.models import ProjectEvent, Purchase, Supply, Tender, TestReport, Ticket

from .records import (
    TOMORROW,
    UNKNOWN_USCC,
    Filers,
    event_row,
    file_as,
    purchase_row,
    report_row,
    stored_pk,
    supply_row,
    tender_row,
    ticket_row,
)

SUPPLY_NEW = "/filings/supplies/new/"


def client_for(user: User) -> Client:
    client = Client()
    login_as(client, user)
    return client


def errors(response: Any) -> list[str]:
    return re.findall(r'role="alert">\s*(?:<p>)?(.*?)<', response.content.decode())


def form_data(row: dict[str, Any], action: str = "submit", **extra: Any) -> dict[str, Any]:
    """What the browser posts: every field as text (the filer's USCC is a disabled field, so it is not sent)."""
    return {**{k: v for k, v in row.items() if v is not None}, "action": action, **extra}


# ---------------------------------------------------------------- the form


def test_create_form_is_generated_from_the_schema(world: World) -> None:
    html = client_for(world["a_staff"]).get(SUPPLY_NEW).content.decode()
    # Chinese labels with required marks, the filer fixed to the user's organization, pickers and date inputs.
    assert '供应单号<span class="req">*</span>' in html and "规格型号<span" not in html
    assert re.search(rf'name="supplier_uscc"[^>]*value="{world.a.uscc}"[^>]*disabled', html) or re.search(
        rf'name="supplier_uscc"[^>]*disabled[^>]*value="{world.a.uscc}"', html
    )
    assert '<option value="GJ">钢筋（t）</option>' in html
    assert f'<option value="{world.a_project.project_code}">' in html  # the projects A sees, as suggestions
    assert world.b_project.project_code not in html
    assert re.search(r'type="date" name="delivery_date"|name="delivery_date" type="date"', html)
    assert 'value="draft">保存草稿</button>' in html and 'value="submit">提交</button>' in html


def test_supplier_files_a_supply(world: World) -> None:
    client = client_for(world["a_staff"])
    response = client.post(SUPPLY_NEW, form_data(supply_row(world, supplier_uscc="ignored")))
    record = Supply.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/filings/supplies/{record.pk}/"
    assert (record.filer, record.version, record.status, record.channel) == (world.a, 1, "submitted", "form")
    assert record.filed_by == world["a_staff"] and record.quantity == 60
    event = AuditEvent.objects.get(action="create", target_type="filings.supply")
    assert event.actor_id == world["a_staff"].pk and event.reason == "版本 1"
    page = client.get(response["Location"]).content.decode()
    assert "GY-0001" in page and "北京朝建建材有限公司" in page and "首次填报" in page


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"supply_no": "", "quantity": ""}, "供应单号：为必填项"),
        ({"quantity": "六十"}, "数量：“六十”不是有效的数字"),
        ({"quantity": "-5"}, "数量：必须大于0"),
        ({"quantity": "0"}, "数量：必须大于0"),
        ({"project_code": "110105209999999"}, "项目编号：未找到项目编号为 110105209999999 的项目"),
        ({"unit": "kg"}, "计量单位：“kg”与品类的计量单位 t 不符"),
        ({"delivery_date": TOMORROW}, "供货日期：不能晚于今天"),
        ({"delivery_date": "2025-13-01"}, "供货日期：“2025-13-01”不是有效日期，格式应为 YYYY-MM-DD"),
        ({"spec": "=SUM(A1:A9)"}, "规格型号：“=SUM(A1:A9)”以公式字符开头，为防止公式注入不予接收"),
        ({"contract_no": "@cmd"}, "合同编号：“@cmd”以公式字符开头，为防止公式注入不予接收"),
        ({"category": "XX"}, "材料品类：“XX”不是材料目录中的品类（代码或名称）"),
    ],
)
def test_bad_input_is_shown_on_the_field_and_nothing_is_stored(
    world: World, overrides: dict[str, Any], field_error: str
) -> None:
    response = client_for(world["a_staff"]).post(SUPPLY_NEW, form_data(supply_row(world, **overrides)))
    assert response.status_code == 400
    assert field_error in errors(response)
    assert not Supply.objects.exists()


def test_purchase_form_checks_the_named_supplier(world: World) -> None:
    client = client_for(world["b_staff"])
    bad_check = world.a.uscc[:17] + ("1" if world.a.uscc[17] != "1" else "2")
    response = client.post("/filings/purchases/new/", form_data(purchase_row(world, supplier_uscc=bad_check)))
    assert "供应企业统一社会信用代码：统一社会信用代码校验位错误" in errors(response)
    response = client.post("/filings/purchases/new/", form_data(purchase_row(world, supplier_uscc=UNKNOWN_USCC)))
    assert f"供应企业统一社会信用代码：未找到统一社会信用代码为 {UNKNOWN_USCC} 的企业" in errors(response)
    assert not Purchase.objects.exists()


def test_dates_out_of_order_are_refused(world: World, filers: Filers) -> None:
    response = client_for(filers.plant_staff).post(
        "/filings/tickets/new/", form_data(ticket_row(world, filers, arrived_at="2025-06-01 07:00"))
    )
    assert "到场时间：到场时间不能早于出站时间" in errors(response)
    response = client_for(filers.lab_staff).post(
        "/filings/test-reports/new/", form_data(report_row(world, filers, test_date="2025-06-01"))
    )
    assert "检测日期：检测日期不能早于取样日期" in errors(response)
    assert not Ticket.objects.exists() and not TestReport.objects.exists()


def test_a_contractor_cannot_file_a_supply(world: World) -> None:
    client = client_for(world["b_staff"])
    assert client.get(SUPPLY_NEW).status_code == 403
    denied = AuditEvent.objects.get(action="permission.denied")
    assert denied.reason == "供应记录只能由供应企业、生产企业、预拌混凝土企业、预拌砂浆企业填报"
    assert "填报</a>" not in client.get("/filings/supplies/").content.decode()
    assert client.post(SUPPLY_NEW, form_data(supply_row(world, supplier_uscc=world.b.uscc))).status_code == 403
    assert not Supply.objects.exists()


def test_regulators_see_lists_but_file_nothing(world: World) -> None:
    client = client_for(world["city_biz"])
    assert client.get("/filings/supplies/").status_code == 200
    assert client.get(SUPPLY_NEW).status_code == 403


# ---------------------------------------------------------------- status flow


def test_draft_then_submit(world: World) -> None:
    client = client_for(world["a_staff"])
    response = client.post(SUPPLY_NEW, form_data(supply_row(world), action="draft"))
    record = Supply.objects.get()
    assert record.status == "draft"
    page = client.get(response["Location"]).content.decode()
    assert "草稿" in page and f'action="/filings/supplies/{record.pk}/submit/"' in page
    assert client.post(f"/filings/supplies/{record.pk}/submit/").status_code == 302
    record.refresh_from_db()
    assert record.status == "submitted" and record.version == 1
    assert AuditEvent.objects.filter(action="update", changes__status=["草稿", "已提交"]).count() == 1
    # Submitted: a correction is submitted again, never turned back into a draft.
    form = client.get(f"/filings/supplies/{record.pk}/correct/").content.decode()
    assert "保存草稿" not in form


def test_withdrawal_needs_a_reason_and_keeps_the_record(world: World) -> None:
    record = Supply.objects.get(pk=stored_pk(file_as(world["a_staff"], "supply", supply_row(world))))
    client = client_for(world["a_staff"])
    url = f"/filings/supplies/{record.pk}/withdraw/"
    page = client.post(url, {"reason": ""}, follow=True).content.decode()
    assert "撤回原因：该字段是必填项。" in page
    record.refresh_from_db()
    assert record.status == "submitted"
    page = client.post(url, {"reason": "合同取消，重复填报"}, follow=True).content.decode()
    record.refresh_from_db()
    assert record.status == "withdrawn" and record.withdrawn_reason == "合同取消，重复填报"
    assert "已撤回" in page and "合同取消，重复填报" in page
    event = AuditEvent.objects.get(action="update", target_id=str(record.pk))
    assert event.reason == "合同取消，重复填报" and event.changes["status"] == ["已提交", "已撤回"]
    assert "filings/supplies/" in page and Supply.objects.count() == 1
    # Withdrawn stays listed under its status.
    listing = client.get("/filings/supplies/?status=withdrawn").content.decode()
    assert "GY-0001" in listing


def test_another_organizations_record_is_403_and_audited(world: World) -> None:
    record = file_as(world["a_staff"], "supply", supply_row(world)).rows[0]
    client = client_for(world["b_staff"])
    for response in (
        client.get(f"/filings/supplies/{record.pk}/"),
        client.get(f"/filings/supplies/{record.pk}/correct/"),
        client.post(f"/filings/supplies/{record.pk}/withdraw/", {"reason": "x"}),
    ):
        assert response.status_code == 403
    assert AuditEvent.objects.filter(action="permission.denied", actor_id=world["b_staff"].pk).count() == 3
    assert Supply.objects.get().status == "submitted"
    assert client.get("/filings/supplies/999999/").status_code == 404


# ---------------------------------------------------------------- corrections and history


def test_correction_creates_version_2_and_version_1_stays_in_the_history(world: World) -> None:
    v1 = Supply.objects.get(pk=stored_pk(file_as(world["a_staff"], "supply", supply_row(world))))
    client = client_for(world["a_staff"])
    form = client.get(f"/filings/supplies/{v1.pk}/correct/").content.decode()
    # Prefilled with the current version; the key fixed.
    assert re.search(r'name="quantity" value="60"|value="60"[^>]*name="quantity"', form)
    assert re.search(r'name="supply_no"[^>]*disabled|disabled[^>]*name="supply_no"', form)
    assert 'name="expected_version" value="1"' in form
    response = client.post(
        f"/filings/supplies/{v1.pk}/correct/",
        form_data(supply_row(world, quantity="80", supply_no="GY-HACKED"), expected_version=1),
    )
    v2 = Supply.objects.get(is_current=True)
    assert response["Location"] == f"/filings/supplies/{v2.pk}/"
    assert (v2.version, v2.quantity, v2.supply_no) == (2, Decimal(80), "GY-0001")
    v1.refresh_from_db()
    assert not v1.is_current and v1.quantity == 60  # never overwritten
    page = client.get(response["Location"]).content.decode()
    assert "数量：60 → <mark>80</mark>" in page
    assert f'<a href="/filings/supplies/{v1.pk}/">版本 1</a>' in page
    assert '<mark title="与版本 1 不同">80.00</mark>' in page
    old = client.get(f"/filings/supplies/{v1.pk}/").content.decode()
    assert "历史版本" in old and "修改</a>" not in old
    # The list shows the current version; the history on request.
    assert client.get("/filings/supplies/").content.decode().count("GY-0001") == 1
    assert client.get("/filings/supplies/?versions=all").content.decode().count("GY-0001") == 2
    assert AuditEvent.objects.get(action="update", target_id=str(v2.pk)).reason == "版本 2"


def test_saving_an_unchanged_correction_creates_no_version(world: World) -> None:
    v1 = Supply.objects.get(pk=stored_pk(file_as(world["a_staff"], "supply", supply_row(world, quantity="60.500"))))
    client = client_for(world["a_staff"])
    form = client.get(f"/filings/supplies/{v1.pk}/correct/").content.decode()
    assert 'value="60.5"' in form
    response = client.post(
        f"/filings/supplies/{v1.pk}/correct/", form_data(supply_row(world, quantity="60.5"), expected_version=1)
    )
    assert response.status_code == 302 and Supply.objects.count() == 1
    assert "内容没有变化，未生成新版本" in client.get(response["Location"]).content.decode()


def test_a_stale_correction_is_refused(world: World) -> None:
    v1 = Supply.objects.get(pk=stored_pk(file_as(world["a_staff"], "supply", supply_row(world))))
    mine, theirs = client_for(world["a_staff"]), client_for(world["a_admin"])
    theirs.post(f"/filings/supplies/{v1.pk}/correct/", form_data(supply_row(world, quantity="70"), expected_version=1))
    assert Supply.objects.get(is_current=True).version == 2
    # a_staff still edits from version 1 (the page was opened before), posting to the old version's form:
    response = mine.post(
        f"/filings/supplies/{v1.pk}/correct/", form_data(supply_row(world, quantity="90"), expected_version=1)
    )
    assert response.status_code == 302  # version 1 is no longer current: sent back to it, nothing stored
    v2 = Supply.objects.get(is_current=True)
    response = mine.post(
        f"/filings/supplies/{v2.pk}/correct/", form_data(supply_row(world, quantity="90"), expected_version=1)
    )
    assert response.status_code == 400
    assert "该记录已被修改（当前版本 2，提交的是版本 1），请刷新后重新编辑" in errors(response)
    assert Supply.objects.count() == 2 and Supply.objects.get(is_current=True).quantity == 70


# ---------------------------------------------------------------- related records and the funnel


def test_related_records_go_through_the_funnel(world: World, filers: Filers) -> None:
    # A supplies B's project under B's contract; B records the purchase citing the lab's witness report.
    file_as(
        world["a_staff"], "supply", supply_row(world, project_code=world.b_project.project_code, contract_no="HT-B-001")
    )
    file_as(filers.lab_staff, "test_report", report_row(world, filers))
    purchase = file_as(world["b_staff"], "purchase", purchase_row(world, witness_report_no="JC-0001")).rows[0]
    report = TestReport.objects.get()

    city = client_for(world["city_biz"]).get(f"/filings/purchases/{purchase.pk}/").content.decode()
    assert "同项目同合同的供应记录" in city and "GY-0001" in city
    assert f'href="/filings/test-reports/{report.pk}/">JC-0001' in city
    # B (the purchaser) sees A's supply? No: a supply is A's own. Nor the laboratory's report.
    b_page = client_for(world["b_staff"]).get(f"/filings/purchases/{purchase.pk}/").content.decode()
    assert "GY-0001" not in b_page
    assert 'empty">暂无' in b_page.split("引用的见证检测报告")[1]
    # A (supplier and producer) sees the purchase naming it, the report on its batch, and its own supply.
    a_client = client_for(world["a_staff"])
    a_page = a_client.get(f"/filings/purchases/{purchase.pk}/").content.decode()
    assert "GY-0001" in a_page and "JC-0001" in a_page and "修改</a>" not in a_page
    report_page = a_client.get(f"/filings/test-reports/{report.pk}/").content.decode()
    assert "同一生产企业同批号的供应记录" in report_page and "GY-0001" in report_page
    supply = Supply.objects.get()
    supply_page = a_client.get(f"/filings/supplies/{supply.pk}/").content.decode()
    assert "CG-0001" in supply_page
    assert a_client.get(f"/filings/purchases/{purchase.pk}/correct/").status_code == 403


def test_tickets_of_the_same_pour_are_related(world: World, filers: Filers) -> None:
    result = file_as(
        filers.plant_staff,
        "ticket",
        ticket_row(world, filers, 1),
        ticket_row(world, filers, 2),
        ticket_row(world, filers, 3, pour_location="2#楼 基础"),
    )
    page = client_for(filers.plant_staff).get(f"/filings/tickets/{result.rows[0].pk}/").content.decode()
    section = page.split("同项目同浇筑部位的其他发货单")[1]
    assert "FH-0002" in section and "FH-0003" not in section


def test_lists_follow_the_funnel(world: World, filers: Filers) -> None:
    file_as(
        world["a_staff"],
        "supply",
        supply_row(world, 1),
        supply_row(world, 2, project_code=world.b_project.project_code),
    )
    file_as(world["b_staff"], "purchase", purchase_row(world, 1))
    seen = {
        persona: client_for(world[persona]).get("/filings/supplies/").content.decode()
        for persona in ("city_biz", "cy_biz", "a_staff", "b_staff")
    }
    assert "GY-0001" in seen["city_biz"] and "GY-0002" in seen["city_biz"]
    assert "GY-0001" in seen["cy_biz"] and "GY-0002" not in seen["cy_biz"]  # 朝阳区 only: GY-0002 is in 海淀区
    assert "GY-0001" in seen["a_staff"] and "GY-0002" in seen["a_staff"]
    assert "共 0 条" in seen["b_staff"]
    # A supplier sees the purchases naming it; the district regulator of the project sees them too.
    assert "CG-0001" in client_for(world["a_staff"]).get("/filings/purchases/").content.decode()
    assert "CG-0001" not in client_for(world["cy_biz"]).get("/filings/purchases/").content.decode()
    assert client_for(filers.lab_staff).get("/filings/purchases/").content.decode().count("CG-0001") == 0


def test_list_filters(world: World) -> None:
    file_as(
        world["a_staff"],
        "supply",
        supply_row(world, 1),
        supply_row(world, 2, category="HNT", unit="m³", delivery_date="2025-07-01"),
        supply_row(world, 3, project_code=world.b_project.project_code),
    )
    file_as(world["a_staff"], "supply", supply_row(world, 4), status="draft")
    client = client_for(world["a_staff"])

    def listed(query: str) -> set[str]:
        return set(re.findall(r">(GY-\d{4})<", client.get(f"/filings/supplies/?{query}").content.decode()))

    assert listed("") == {"GY-0001", "GY-0002", "GY-0003", "GY-0004"}
    assert listed("category=HNT") == {"GY-0002"}
    assert listed(f"project={world.b_project.project_code}") == {"GY-0003"}
    assert listed("date_from=2025-06-15&date_to=2025-07-31") == {"GY-0002"}
    assert listed("status=draft") == {"GY-0004"}
    assert listed("district=海淀区") == {"GY-0003"}
    assert listed("q=GY-0001") == {"GY-0001"}


def test_list_page_query_count_does_not_grow_with_rows(world: World, django_assert_max_num_queries: Any) -> None:
    file_as(world["a_staff"], "supply", *(supply_row(world, n) for n in range(1, 21)))
    client = client_for(world["a_staff"])
    with django_assert_max_num_queries(12):
        assert client.get("/filings/supplies/").status_code == 200


# ---------------------------------------------------------------- exports


def test_exports_carry_no_live_formula(world: World) -> None:
    file_as(world["a_staff"], "supply", supply_row(world))
    # Text that reached the database some other way (here: an enterprise name) is still neutralised.
    type(world.a).objects.filter(pk=world.a.pk).update(name='=HYPERLINK("http://evil","点我")')
    client = client_for(world["a_staff"])

    xlsx = client.get("/filings/supplies/?export=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["B1"].value == "供应企业"
    assert sheet["B2"].value == '\'=HYPERLINK("http://evil","点我")' and sheet["B2"].data_type == "s"

    response = client.get("/filings/supplies/?export=csv&category=GJ")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["供应单号", "供应企业", "项目编号"]
    assert rows[1][:2] == ["GY-0001", '\'=HYPERLINK("http://evil","点我")']
    assert rows[1][7] == "60.000" and rows[1][9] == "2025-06-01"
    exports = AuditEvent.objects.filter(action="export", target_type="filings.supply").order_by("seq")
    assert [e.changes.get("format") for e in exports] == [None, "csv"]
    assert exports[1].changes["filters"] == {"category": "GJ"} and exports[1].changes["rows"] == 1


def test_navigation_lists_every_kind(world: World) -> None:
    page = client_for(world["a_staff"]).get("/").content.decode()
    assert "信息填报" in page
    for path in ("supplies", "purchases", "test-reports", "tenders", "tickets", "project-events"):
        assert f'href="/filings/{path}/"' in page
        assert client_for(world["a_staff"]).get(f"/filings/{path}/").status_code == 200


def test_every_kind_files_through_its_form_and_an_unedited_correction_changes_nothing(
    world: World, filers: Filers
) -> None:
    cases = [
        (world["a_staff"], "supplies", Supply, supply_row(world)),
        (world["b_staff"], "purchases", Purchase, purchase_row(world)),
        (filers.lab_staff, "test-reports", TestReport, report_row(world, filers)),
        (world["a_staff"], "tenders", Tender, tender_row(world)),
        (filers.plant_staff, "tickets", Ticket, ticket_row(world, filers, departed_at="2025-06-01T08:00")),
        (world["a_staff"], "project-events", ProjectEvent, event_row(world)),
    ]
    for user, path, model, row in cases:
        client = client_for(user)
        assert client.get(f"/filings/{path}/new/").status_code == 200
        response = client.post(f"/filings/{path}/new/", form_data(row))
        assert response.status_code == 302, (path, errors(response))
        record = model.objects.get()
        assert record.filer == user.organization and record.channel == "form"
        # The correction form shows the stored values so that posting them back is the same content.
        form = client.get(f"/filings/{path}/{record.pk}/correct/")
        fields = dict(re.findall(r'<input type="[a-z-]+" name="(\w+)" value="([^"]*)"', form.content.decode()))
        selects = re.findall(
            r'<select name="(\w+)"[^>]*>.*?<option value="([^"]*)" selected>', form.content.decode(), re.S
        )
        fields.update(selects)
        fields.update(re.findall(r'<textarea name="(\w+)"[^>]*>\s*([^<]*)</textarea>', form.content.decode()))
        again = client.post(f"/filings/{path}/{record.pk}/correct/", {**fields, "action": "submit"})
        assert again.status_code == 302, (path, errors(again))
        assert model.objects.count() == 1, path
    assert Tender.objects.get().filer == world.a and ProjectEvent.objects.get().filer == world.a  # the builder


def test_token_form_offers_the_filing_scopes(world: World) -> None:
    page = client_for(world["a_admin"]).get("/accounts/tokens/").content.decode()
    assert 'value="filings:read"' in page and 'value="filings:write"' in page
