"""The filings REST API: single and batch filing through file_records, idempotency, versions and optimistic
concurrency, draft → submit, withdrawal, scopes, the funnel, the one error shape and its audit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from django.conf import settings
from rest_framework.test import APIClient

from jiancai.accounts.models import User
from jiancai.accounts.tests.personas import World, api_client_for
from jiancai.audit.models import AuditEvent
from jiancai.filings.models import ProjectEvent, Purchase, Supply, Tender, TestReport, Ticket
from jiancai.filings.schemas import SCHEMAS

from .records import (
    TOMORROW,
    UNKNOWN_USCC,
    Filers,
    event_row,
    file_as,
    purchase_row,
    report_row,
    supply_row,
    tender_row,
    ticket_row,
)

SUPPLIES = "/api/v1/supplies/"
NUMBERS = {"quantity", "unit_price", "quantity_represented", "volume", "awarded_price", "guide_price"}
FILINGS_SCOPES = ["filings:read", "filings:write"]


def api_for(user: User, scopes: list[str] | None = None) -> APIClient:
    client, _ = api_client_for(user, scopes or FILINGS_SCOPES)
    return client


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content.decode())
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    err: dict[str, Any] = body["error"]
    return err


def supply_url(world: World, no: str = "GY-0001") -> str:
    return f"{SUPPLIES}{world.a.uscc}/{no}/"


# ---------------------------------------------------------------- single records, versions, idempotency


def test_post_creates_then_is_idempotent_then_versions(world: World) -> None:
    api = api_for(world["a_staff"])
    created = api.post(SUPPLIES, supply_row(world, quantity=60), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["outcome"] == "created"
    record = body["record"]
    assert record["supplier_uscc"] == world.a.uscc and record["supply_no"] == "GY-0001"
    assert record["quantity"] == "60.000" and record["category"] == "GJ" and record["delivery_date"] == "2025-06-01"
    assert (record["version"], record["status"], record["channel"], record["is_current"]) == (
        1,
        "submitted",
        "api",
        True,
    )
    assert record["filer_name"] == "北京朝建建材有限公司" and record["filed_by_name"] == "王材料"

    again = api.post(SUPPLIES, supply_row(world, quantity="60.000"), format="json")
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    assert Supply.objects.count() == 1

    changed = api.post(SUPPLIES, {**supply_row(world, quantity="75"), "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["outcome"] == "updated"
    assert changed.json()["record"]["version"] == 2

    current = api.get(supply_url(world)).json()
    assert current["version"] == 2 and current["quantity"] == "75.000"
    versions = api.get(f"{supply_url(world)}versions/").json()
    assert [(v["version"], v["quantity"], v["is_current"]) for v in versions["results"]] == [
        (2, "75.000", True),
        (1, "60.000", False),
    ]
    # The list shows current versions only, unless asked for the history.
    assert api.get(SUPPLIES).json()["count"] == 1
    assert api.get(f"{SUPPLIES}?versions=all").json()["count"] == 2
    assert AuditEvent.objects.filter(target_type="filings.supply", action__in=["create", "update"]).count() == 2


def test_stale_version_is_refused_with_409(world: World) -> None:
    api = api_for(world["a_staff"])
    api.post(SUPPLIES, supply_row(world), format="json")
    api.post(SUPPLIES, {**supply_row(world, quantity="70"), "version": 1}, format="json")
    err = error(api.post(SUPPLIES, {**supply_row(world, quantity="90"), "version": 1}, format="json"), 409)
    assert err["code"] == "stale_version"
    assert err["message"] == "该记录已被修改（当前版本 2，提交的是版本 1），请刷新后重新编辑"
    assert Supply.objects.count() == 2 and Supply.objects.get(is_current=True).quantity == 70
    # A retry of the correction that did succeed is answered "unchanged", not "stale".
    retry = api.post(SUPPLIES, {**supply_row(world, quantity="70"), "version": 1}, format="json")
    assert retry.status_code == 200 and retry.json()["outcome"] == "unchanged"


def test_draft_then_submit(world: World) -> None:
    api = api_for(world["a_staff"])
    draft = api.post(SUPPLIES, {**supply_row(world), "status": "draft"}, format="json")
    assert draft.status_code == 201 and draft.json()["record"]["status"] == "draft"
    submitted = api.post(f"{supply_url(world)}submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert submitted.json()["version"] == 1
    # Filing the same content as submitted now changes nothing; a second submit is refused.
    assert api.post(SUPPLIES, supply_row(world), format="json").json()["outcome"] == "unchanged"
    err = error(api.post(f"{supply_url(world)}submit/"), 400)
    assert err["fields"] == [{"field": "non_field", "code": "not_draft", "message": "只有当前版本的草稿可以提交"}]
    # A submitted record cannot go back to draft.
    err = error(api.post(SUPPLIES, {**supply_row(world, quantity="1"), "status": "draft"}, format="json"), 400)
    assert err["fields"][0]["code"] == "already_submitted"


def test_withdraw_with_reason(world: World) -> None:
    api = api_for(world["a_staff"])
    api.post(SUPPLIES, supply_row(world), format="json")
    err = error(api.post(f"{supply_url(world)}withdraw/", {}, format="json"), 400)
    assert err["fields"] == [{"field": "reason", "code": "required", "message": "请填写撤回原因"}]
    response = api.post(f"{supply_url(world)}withdraw/", {"reason": "合同取消"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["withdrawn_reason"]) == ("withdrawn", "合同取消")
    assert api.get(supply_url(world)).json()["status"] == "withdrawn"
    err = error(api.post(f"{supply_url(world)}withdraw/", {"reason": "再撤一次"}, format="json"), 400)
    assert err["fields"][0]["code"] == "already_withdrawn"
    assert AuditEvent.objects.get(action="update", reason="合同取消").changes["status"] == ["已提交", "已撤回"]
    # Filing it again re-files it as the next version; the withdrawn one stays in the history.
    refiled = api.post(SUPPLIES, supply_row(world), format="json").json()
    assert (refiled["outcome"], refiled["record"]["version"], refiled["record"]["status"]) == (
        "updated",
        2,
        "submitted",
    )


# ---------------------------------------------------------------- bad input, each class


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"supply_no": None}, "supply_no", "required"),
        ({"contract_no": ""}, "contract_no", "required"),
        ({"quantity": "abc"}, "quantity", "invalid_number"),
        ({"quantity": [60]}, "quantity", "invalid_type"),
        ({"quantity": True}, "quantity", "invalid_type"),
        ({"delivery_date": 20250601}, "delivery_date", "invalid_type"),
        ({"delivery_date": "2025-02-30"}, "delivery_date", "invalid_date"),
        ({"quantity": -1}, "quantity", "not_positive"),
        ({"quantity": 0}, "quantity", "not_positive"),
        ({"unit_price": "-0.01"}, "unit_price", "too_small"),
        ({"project_code": "110105209999999"}, "project_code", "unknown_project"),
        ({"supplier_uscc": UNKNOWN_USCC}, "supplier_uscc", "unknown_enterprise"),
        ({"supplier_uscc": "91110105MA01234567"}, "supplier_uscc", "uscc_check_char"),
        ({"supplier_uscc": "123"}, "supplier_uscc", "uscc_length"),
        ({"unit": "m³"}, "unit", "unit_mismatch"),
        ({"delivery_date": TOMORROW}, "delivery_date", "future_date"),
        ({"spec": "=1+2"}, "spec", "formula"),
        ({"type_report_agency": "+cmd"}, "type_report_agency", "formula"),
        ({"colour": "red"}, "colour", "unknown_field"),
        ({"version": 0}, "version", "invalid_version"),
        ({"status": "withdrawn"}, "status", "invalid_choice"),
    ],
)
def test_each_class_of_bad_input_is_refused_and_nothing_stored(
    world: World, overrides: dict[str, Any], field: str, code: str
) -> None:
    response = api_for(world["a_staff"]).post(SUPPLIES, supply_row(world, **overrides), format="json")
    err = error(response, 400)
    assert err["code"] == "validation_error"
    assert {"field": field, "code": code} in [{"field": f["field"], "code": f["code"]} for f in err["fields"]]
    assert all(f["message"] for f in err["fields"])
    assert not Supply.objects.exists()


def test_dates_out_of_order(world: World, filers: Filers) -> None:
    err = error(
        api_for(filers.plant_staff).post(
            "/api/v1/tickets/", ticket_row(world, filers, discharged_at="2025-06-01 08:10"), format="json"
        ),
        400,
    )
    assert err["fields"] == [
        {"field": "discharged_at", "code": "date_order", "message": "卸料完成时间：卸料完成时间不能早于到场时间"}
    ]
    err = error(
        api_for(filers.lab_staff).post(
            "/api/v1/test-reports/", report_row(world, filers, sample_date="2025-06-09"), format="json"
        ),
        400,
    )
    assert err["fields"][0]["code"] == "date_order"
    assert not Ticket.objects.exists() and not TestReport.objects.exists()


def test_non_object_bodies_are_refused(world: World) -> None:
    api = api_for(world["a_staff"])
    err = error(api.post(SUPPLIES, [supply_row(world)], format="json"), 400)
    assert err["fields"][0]["code"] == "invalid_record"
    response = api.post(SUPPLIES, "supply_no=1", content_type="application/x-www-form-urlencoded")
    assert error(response, 415)["code"] == "unsupported_media_type"


# ---------------------------------------------------------------- batch


def test_batch_is_processed_per_record_and_idempotent(world: World) -> None:
    api = api_for(world["a_staff"])
    batch = {
        "records": [
            supply_row(world, 1),
            supply_row(world, 2, quantity="-3"),
            supply_row(world, 3),
            "not a record",
            {**supply_row(world, 4), "version": "x"},
        ]
    }
    first = api.post(f"{SUPPLIES}batch/", batch, format="json")
    assert first.status_code == 200
    body = first.json()
    assert body["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 3}
    assert [(r["index"], r["outcome"], r["version"]) for r in body["results"]] == [
        (0, "created", 1),
        (1, "refused", None),
        (2, "created", 1),
        (3, "refused", None),
        (4, "refused", None),
    ]
    assert body["results"][1]["errors"] == [{"field": "quantity", "code": "not_positive", "message": "数量：必须大于0"}]
    assert body["results"][0]["key"] == {"supplier_uscc": world.a.uscc, "supply_no": "GY-0001"}
    assert body["results"][0]["errors"] == []

    second = api.post(f"{SUPPLIES}batch/", batch, format="json").json()
    assert second["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "refused": 3}
    assert Supply.objects.count() == 2

    changed = {"records": [supply_row(world, 1, quantity="61"), supply_row(world, 3)]}
    third = api.post(f"{SUPPLIES}batch/", changed, format="json").json()
    assert [r["outcome"] for r in third["results"]] == ["updated", "unchanged"]
    assert Supply.objects.count() == 3 and Supply.objects.filter(is_current=True).count() == 2
    summary = AuditEvent.objects.filter(target_type="filings.supply", target_repr="供应记录批量填报（开放接口）")
    assert summary.count() == 2  # the two batches that stored something


def test_batch_duplicates_within_one_batch_are_refused(world: World) -> None:
    body = (
        api_for(world["a_staff"])
        .post(f"{SUPPLIES}batch/", {"records": [supply_row(world, 1), supply_row(world, 1)]}, format="json")
        .json()
    )
    assert [r["outcome"] for r in body["results"]] == ["created", "refused"]
    assert body["results"][1]["errors"][0]["code"] == "duplicate_in_batch"


def test_batch_over_1000_records_is_refused(world: World) -> None:
    records = [supply_row(world, n) for n in range(1001)]
    err = error(api_for(world["a_staff"]).post(f"{SUPPLIES}batch/", {"records": records}, format="json"), 400)
    assert err["fields"] == [
        {"field": "records", "code": "too_many_records", "message": "一次最多提交1000条记录，本次1001条，请分批提交"}
    ]
    assert not Supply.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "records", "required"),
        ({"records": {}}, "records", "required"),
        ({"records": []}, "records", "empty"),
        ({"records": [{}], "status": "done"}, "status", "invalid_choice"),
        ({"records": [{}], "extra": 1}, "extra", "unknown_field"),
    ],
)
def test_batch_envelope_errors(world: World, body: dict[str, Any], field: str, code: str) -> None:
    err = error(api_for(world["a_staff"]).post(f"{SUPPLIES}batch/", body, format="json"), 400)
    assert err["fields"][0]["field"] == field and err["fields"][0]["code"] == code


def test_batch_of_drafts(world: World) -> None:
    api = api_for(world["a_staff"])
    body = api.post(f"{SUPPLIES}batch/", {"records": [supply_row(world, 1)], "status": "draft"}, format="json").json()
    assert body["summary"]["created"] == 1 and Supply.objects.get().status == "draft"


# ---------------------------------------------------------------- who may file and see what


def test_wrong_filer_kind_and_another_filer_are_refused(world: World) -> None:
    # B is a contractor: it cannot file a supply, not even its own.
    err = error(
        api_for(world["b_staff"]).post(
            SUPPLIES,
            supply_row(world, supplier_uscc=world.b.uscc, project_code=world.b_project.project_code),
            format="json",
        ),
        400,
    )
    assert (
        err["fields"]
        == [
            {
                "field": "supplier_uscc",
                "code": "wrong_filer_kind",
                "message": "该类记录只能由供应企业、生产企业、预拌混凝土企业、预拌砂浆企业填报",
            }
        ]
        or err["fields"][0]["code"] == "wrong_filer_kind"
    )
    # A files only for itself.
    err = error(
        api_for(world["a_staff"]).post(SUPPLIES, supply_row(world, supplier_uscc=world.b.uscc), format="json"), 400
    )
    assert err["fields"][0] == {"field": "supplier_uscc", "code": "not_own", "message": "只能填报本单位的记录"}
    # A tender is filed by the project's builder only.
    err = error(
        api_for(world["a_staff"]).post(
            "/api/v1/tenders/", tender_row(world, project_code=world.b_project.project_code), format="json"
        ),
        400,
    )
    assert err["fields"][0]["code"] == "not_own"
    assert not Supply.objects.exists() and not Tender.objects.exists()


def test_regulators_cannot_file(world: World) -> None:
    err = error(api_for(world["city_biz"]).post(SUPPLIES, supply_row(world), format="json"), 403)
    assert err["code"] == "permission_denied"
    assert AuditEvent.objects.filter(action="permission.denied", target_type="api").exists()


def test_another_organizations_record_is_403_and_audited(world: World) -> None:
    file_as(world["a_staff"], "supply", supply_row(world))
    api = api_for(world["b_staff"])
    for response in (
        api.get(supply_url(world)),
        api.post(f"{supply_url(world)}withdraw/", {"reason": "x"}, format="json"),
    ):
        assert error(response, 403)["code"] == "permission_denied"
    denied = AuditEvent.objects.filter(action="permission.denied", actor_id=world["b_staff"].pk).order_by("seq")
    assert [e.target_repr for e in denied] == [
        f"GET {supply_url(world)}",
        f"POST {supply_url(world)}withdraw/",
    ]
    assert Supply.objects.get().status == "submitted"
    assert error(api.get(supply_url(world, "GY-9999")), 404)["code"] == "not_found"


def test_a_supplier_sees_but_cannot_change_the_purchase_naming_it(world: World) -> None:
    file_as(world["b_staff"], "purchase", purchase_row(world))
    url = f"/api/v1/purchases/{world.b.uscc}/CG-0001/"
    api = api_for(world["a_staff"])
    assert api.get(url).json()["supplier_uscc"] == world.a.uscc
    assert [p["purchase_no"] for p in api.get("/api/v1/purchases/").json()["results"]] == ["CG-0001"]
    assert error(api.post(f"{url}withdraw/", {"reason": "x"}, format="json"), 403)["code"] == "permission_denied"
    assert Purchase.objects.get().status == "submitted"


def test_lists_follow_the_funnel(world: World, filers: Filers) -> None:
    file_as(
        world["a_staff"],
        "supply",
        supply_row(world, 1),
        supply_row(world, 2, project_code=world.b_project.project_code),
    )
    file_as(filers.plant_staff, "ticket", ticket_row(world, filers))

    def listed(persona_or_user: str | User, path: str = SUPPLIES) -> list[str]:
        user = world[persona_or_user] if isinstance(persona_or_user, str) else persona_or_user
        results = api_for(user).get(path).json()["results"]
        return sorted(r.get("supply_no") or r.get("ticket_no") for r in results)

    assert listed("city_biz") == ["GY-0001", "GY-0002"]
    assert listed("cy_biz") == ["GY-0001"]  # 朝阳区 only
    assert listed("a_staff") == ["GY-0001", "GY-0002"]
    assert listed("b_staff") == []
    assert listed(filers.plant_staff) == []
    assert listed(filers.plant_staff, "/api/v1/tickets/") == ["FH-0001"]
    assert listed("a_staff", "/api/v1/tickets/") == []  # A is the builder, but a ticket is the plant's
    assert listed("cy_biz", "/api/v1/tickets/") == ["FH-0001"]


def test_filters_are_the_web_lists_filters(world: World) -> None:
    file_as(
        world["a_staff"],
        "supply",
        supply_row(world, 1),
        supply_row(world, 2, category="HNT", unit="m³", delivery_date="2025-07-01"),
        supply_row(world, 3, project_code=world.b_project.project_code),
    )
    api = api_for(world["a_staff"])

    def listed(query: str) -> list[str]:
        response = api.get(f"{SUPPLIES}?{query}")
        assert response.status_code == 200, response.content
        return sorted(r["supply_no"] for r in response.json()["results"])

    assert listed("category=HNT") == ["GY-0002"]
    assert listed(f"project={world.b_project.project_code}") == ["GY-0003"]
    assert listed("date_from=2025-06-15") == ["GY-0002"]
    assert listed(f"district={quote('海淀区')}") == ["GY-0003"]
    assert listed(f"filer={world.a.uscc.lower()}") == ["GY-0001", "GY-0002", "GY-0003"]
    assert listed("status=draft") == []
    assert error(api.get(f"{SUPPLIES}?date_from=yesterday"), 400)["fields"][0]["field"] == "date_from"


def test_list_query_count_does_not_grow_with_rows(world: World, django_assert_max_num_queries: Any) -> None:
    file_as(world["a_staff"], "supply", *(supply_row(world, n) for n in range(1, 31)))
    api = api_for(world["a_staff"])
    # Token lookup and its audit row (9 statements with savepoints), the count and the page.
    with django_assert_max_num_queries(11):
        assert len(api.get(SUPPLIES).json()["results"]) == 30


# ---------------------------------------------------------------- scopes and the other kinds


def test_token_scopes(world: World) -> None:
    registry_only = api_for(world["a_staff"], ["registry:read", "registry:write"])
    assert error(registry_only.get(SUPPLIES), 403)["code"] == "permission_denied"
    read_only = api_for(world["a_staff"], ["filings:read"])
    assert read_only.get(SUPPLIES).status_code == 200
    assert error(read_only.post(SUPPLIES, supply_row(world), format="json"), 403)["code"] == "permission_denied"
    assert not Supply.objects.exists()


def test_every_kind_round_trips(world: World, filers: Filers) -> None:
    cases = [
        (world["b_staff"], "/api/v1/purchases/", purchase_row(world), f"{world.b.uscc}/CG-0001"),
        (filers.lab_staff, "/api/v1/test-reports/", report_row(world, filers), f"{filers.lab.uscc}/JC-0001"),
        (world["a_staff"], "/api/v1/tenders/", tender_row(world), "ZB-0001"),
        (filers.plant_staff, "/api/v1/tickets/", ticket_row(world, filers), f"{filers.plant.uscc}/FH-0001"),
        (
            world["a_staff"],
            "/api/v1/project-events/",
            event_row(world),
            f"{world.a_project.project_code}/{quote('开工')}",
        ),
    ]
    for user, collection, row, key in cases:
        api = api_for(user)
        created = api.post(collection, row, format="json")
        assert created.status_code == 201, (collection, created.content)
        record = api.get(f"{collection}{key}/").json()
        for field, value in row.items():
            if field in NUMBERS and value:
                assert Decimal(record[field]) == Decimal(value), field
            elif field in ("departed_at", "arrived_at", "discharged_at"):
                assert record[field].startswith(value.replace(" ", "T")), (field, record[field])
            else:
                assert record[field] == value, (collection, field, record[field], value)
        assert api.post(collection, row, format="json").json()["outcome"] == "unchanged"
    event = ProjectEvent.objects.get()
    assert event.filer == world.a and event.event == "开工"  # filed by the project's builder


def test_a_tender_number_of_another_builder_is_not_taken_over(world: World) -> None:
    assert api_for(world["a_staff"]).post("/api/v1/tenders/", tender_row(world), format="json").status_code == 201
    # B files the same tender number for its own project: refused, A's record stays current and A's.
    hijack = tender_row(world, project_code=world.b_project.project_code, winner_uscc=world.b.uscc)
    err = error(api_for(world["b_staff"]).post("/api/v1/tenders/", hijack, format="json"), 400)
    assert err["fields"] == [{"field": "tender_no", "code": "key_taken", "message": "该编号已被其他单位填报"}]
    assert Tender.objects.get().filer == world.a


def test_committed_schema_documents_the_filing_collections() -> None:
    schema = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    paths = schema["paths"]
    for collection, key in [
        ("supplies", "{supplier_uscc}/{supply_no}"),
        ("purchases", "{purchaser_uscc}/{purchase_no}"),
        ("test-reports", "{lab_uscc}/{report_no}"),
        ("tenders", "{tender_no}"),
        ("tickets", "{plant_uscc}/{ticket_no}"),
        ("project-events", "{project_code}/{event}"),
    ]:
        base = f"/api/v1/{collection}/"
        assert set(paths[base]) == {"get", "post"} and set(paths[f"{base}batch/"]) == {"post"}
        assert set(paths[f"{base}{key}/"]) == {"get"}
        for action, method in (("versions", "get"), ("withdraw", "post"), ("submit", "post")):
            assert set(paths[f"{base}{key}/{action}/"]) == {method}
    components = schema["components"]["schemas"]
    record = components["SupplyRecordRequest"]
    assert set(record["required"]) == {f.key for f in SCHEMAS["supply"].fields if f.required}
    assert record["properties"]["quantity"]["oneOf"] == [{"type": "number"}, {"type": "string"}]
    assert components["FilingStatus"]["enum"] == ["draft", "submitted", "withdrawn"]
