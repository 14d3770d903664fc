"""The REST API: tokens, the JSON error shape, scopes, audit of every use, validation codes, pagination,
filters, optimistic concurrency and ownership."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from jiancai.accounts.models import ApiToken, Organization
from jiancai.accounts.tests.factories import expire_token, issue_token, make_uscc
from jiancai.accounts.tests.personas import World, api_client_for, login_as
from jiancai.audit.models import AuditEvent
from jiancai.registry.models import Person, Qualification
from jiancai.registry.tests.factories import QualificationFactory, make_id_number


def error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    err: dict[str, Any] = body["error"]
    return err


def qualification_input(uscc: str, **overrides: Any) -> dict[str, Any]:
    return {
        "uscc": uscc,
        "certificate_no": "API-Q-0001",
        "qualification_type": "钢筋供应备案",
        "grade": "",
        "issued_on": "2025-01-01",
        "valid_until": "2028-01-01",
        **overrides,
    }


# ---------------------------------------------------------------- tokens


def test_token_issued_on_the_web_is_shown_once_and_only_its_digest_is_stored(world: World) -> None:
    web = Client()
    login_as(web, world["a_admin"])
    response = web.post("/accounts/tokens/", {"name": "ERP系统对接", "scopes": ["registry:read"], "valid_days": 90})
    assert response.status_code == 200
    match = re.search(r'id="token-secret">([^<]+)<', response.content.decode())
    assert match is not None
    secret = match.group(1)
    token = ApiToken.objects.get(name="ERP系统对接")
    assert secret.startswith(f"jc_{token.prefix}_")
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(secret in str(v) or secret.split("_", 2)[2] in str(v) for v in row.values())
    assert token.scopes == ["registry:read"] and token.organization_id == world.a.pk
    assert dt.timedelta(days=89) < token.expires_at - timezone.now() <= dt.timedelta(days=90)
    assert secret not in web.get("/accounts/tokens/").content.decode()  # never shown again
    created = AuditEvent.objects.get(action="token.create")
    assert secret not in str(created.changes) and created.changes["prefix"] == token.prefix

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/enterprises/").status_code == 200


def test_token_form_errors(world: World) -> None:
    web = Client()
    login_as(web, world["a_admin"])
    response = web.post("/accounts/tokens/", {"name": "x", "valid_days": 400})
    assert response.status_code == 400
    html = response.content.decode()
    assert "权限范围：请至少选择一项权限范围" in html and "有效天数：" in html
    assert not ApiToken.objects.exists()


def test_bearer_token_authenticates_and_every_use_is_audited(world: World) -> None:
    api, token = api_client_for(world["a_staff"])
    assert token is not None and token.last_used_at is None
    for path in ("/api/v1/qualifications/", f"/api/v1/qualifications/{world.a_qual.certificate_no}/"):
        assert api.get(path).status_code == 200
    uses = list(AuditEvent.objects.filter(action="token.use").order_by("seq"))
    assert [u.changes["request"] for u in uses] == [
        "GET /api/v1/qualifications/",
        f"GET /api/v1/qualifications/{world.a_qual.certificate_no}/",
    ]
    assert all(u.actor_id == world["a_staff"].pk and u.target_id == str(token.pk) for u in uses)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_session_login_does_not_open_the_api(world: World, client: Client) -> None:
    login_as(client, world["a_staff"])
    err = error(client.get("/api/v1/qualifications/"), 401)
    assert err["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer jc_0000000000_nothing", "token_invalid"),
        ("Bearer not-a-token", "token_invalid"),
        ("Bearer", "token_malformed"),
        ("Bearer a b", "token_malformed"),
    ],
)
def test_bad_tokens_get_401(world: World, header: str, code: str) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    err = error(api.get("/api/v1/enterprises/"), 401)
    assert err["code"] == code and err["fields"] == []


def test_revoked_token_gets_401(world: World) -> None:
    api, token = api_client_for(world["b_admin"])
    assert token is not None
    assert api.get("/api/v1/projects/").status_code == 200
    web = Client()
    login_as(web, world["b_admin"])
    assert web.post(f"/accounts/tokens/{token.pk}/revoke/", {"reason": "系统下线"}).status_code == 302
    response = api.get("/api/v1/projects/")
    err = error(response, 401)
    assert err == {"code": "token_revoked", "message": "接口令牌已吊销", "fields": []}
    assert response["WWW-Authenticate"] == "Bearer"
    revoke = AuditEvent.objects.get(action="token.revoke")
    assert revoke.reason == "系统下线" and revoke.target_id == str(token.pk)


def test_expired_token_gets_401(world: World) -> None:
    api, token = api_client_for(world["b_admin"])
    assert token is not None
    expire_token(token)
    assert error(api.get("/api/v1/projects/"), 401)["code"] == "token_expired"
    assert not AuditEvent.objects.filter(action="token.use").exists()


def test_token_of_a_deactivated_user_gets_401(world: World) -> None:
    api, _ = api_client_for(world["b_staff"])
    type(world["b_staff"]).objects.filter(pk=world["b_staff"].pk).update(is_active=False)
    assert error(api.get("/api/v1/projects/"), 401)["code"] == "token_user_inactive"


def test_read_only_token_cannot_write(world: World) -> None:
    api, _ = api_client_for(world["a_staff"], scopes=["registry:read"])
    assert api.get("/api/v1/qualifications/").status_code == 200
    err = error(api.post("/api/v1/qualifications/", qualification_input(world.a.uscc), format="json"), 403)
    assert err["code"] == "permission_denied" and err["message"] == "接口令牌的权限范围不足"
    assert error(
        api.patch(f"/api/v1/qualifications/{world.a_qual.certificate_no}/", {"grade": "一级"}, format="json"), 403
    )
    assert not Qualification.objects.filter(certificate_no="API-Q-0001").exists()
    denied = AuditEvent.objects.filter(action="permission.denied", target_type="api").order_by("seq")
    assert [d.target_repr for d in denied] == [
        "POST /api/v1/qualifications/",
        f"PATCH /api/v1/qualifications/{world.a_qual.certificate_no}/",
    ]


def test_write_only_token_cannot_read(world: World) -> None:
    api, _ = api_client_for(world["a_staff"], scopes=["registry:write"])
    assert error(api.get("/api/v1/qualifications/"), 403)["code"] == "permission_denied"
    assert api.post("/api/v1/qualifications/", qualification_input(world.a.uscc), format="json").status_code == 201


def test_delete_and_put_are_not_offered(world: World) -> None:
    api, _ = api_client_for(world["a_admin"])
    url = f"/api/v1/qualifications/{world.a_qual.certificate_no}/"
    assert error(api.delete(url), 405)["code"] == "method_not_allowed"
    assert error(api.put(url, qualification_input(world.a.uscc), format="json"), 405)
    assert Qualification.objects.filter(pk=world.a_qual.pk).exists()


# ---------------------------------------------------------------- validation: the field and a stable code


def test_invalid_uscc_names_the_field_with_a_stable_code(world: World) -> None:
    api, _ = api_client_for(world["city_sys"])
    bad = make_uscc(8080)[:17] + ("1" if make_uscc(8080)[17] != "1" else "2")
    err = error(
        api.post(
            "/api/v1/enterprises/",
            {"uscc": bad, "name": "校验位错误企业", "kinds": ["生产企业"], "district": "朝阳区"},
            format="json",
        ),
        400,
    )
    assert err["code"] == "validation_error"
    assert err["fields"][0] == {"field": "uscc", "code": "uscc_check_char", "message": "统一社会信用代码校验位错误"}
    assert not Organization.objects.filter(name="校验位错误企业").exists()

    staff, _ = api_client_for(world["a_staff"])
    err = error(staff.post("/api/v1/qualifications/", qualification_input(world.a.uscc[:10]), format="json"), 400)
    assert err["fields"][0]["field"] == "uscc" and err["fields"][0]["code"] == "uscc_length"


def test_unknown_enterprise_reference(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    err = error(api.post("/api/v1/qualifications/", qualification_input(make_uscc(4444)), format="json"), 400)
    assert err["fields"][0]["field"] == "uscc" and err["fields"][0]["code"] == "does_not_exist"


@pytest.mark.parametrize(
    ("id_number", "code"),
    [("110105199001011234", "id_check_char"), ("110105199002301234", "id_birth_date"), ("11010519900101", "id_length")],
)
def test_invalid_id_number_names_the_field_with_a_stable_code(world: World, id_number: str, code: str) -> None:
    api, _ = api_client_for(world["a_staff"])
    body = {"uscc": world.a.uscc, "name": "钱取样", "role": "取样员", "id_number": id_number}
    err = error(api.post("/api/v1/persons/", body, format="json"), 400)
    assert err["fields"][0]["field"] == "id_number" and err["fields"][0]["code"] == code
    assert not Person.objects.filter(name="钱取样").exists()


def test_duplicate_and_missing_id_number_codes(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    body = {"uscc": world.a.uscc, "name": "钱取样", "role": "取样员"}
    duplicate = error(api.post("/api/v1/persons/", {**body, "id_number": world.id_numbers["b"]}, format="json"), 400)
    assert duplicate["fields"][0] == {
        "field": "id_number",
        "code": "duplicate",
        "message": "该身份证号已登记在人员库中",
    }
    missing = error(api.post("/api/v1/persons/", body, format="json"), 400)
    assert missing["fields"][0]["field"] == "id_number" and missing["fields"][0]["code"] == "required"


def test_person_api_never_returns_the_id_number(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    number = make_id_number(4321)
    response = api.post(
        "/api/v1/persons/",
        {"uscc": world.a.uscc, "name": "钱取样", "role": "取样员", "id_number": number},
        format="json",
    )
    assert response.status_code == 201
    assert "id_number" not in response.json() and number not in response.content.decode()
    assert response.json()["id_number_masked"] == number[:6] + "********" + number[-4:]
    person = Person.objects.get(name="钱取样")
    assert person.reveal_id_number() == number


def test_several_field_errors_at_once(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    err = error(
        api.post("/api/v1/qualifications/", {"uscc": world.a.uscc, "issued_on": "2025-13-01"}, format="json"), 400
    )
    fields = {f["field"]: f["code"] for f in err["fields"]}
    assert fields == {
        "certificate_no": "required",
        "qualification_type": "required",
        "issued_on": "invalid",
        "valid_until": "required",
    }


def test_dates_out_of_order_are_refused(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    response = api.post(
        "/api/v1/qualifications/", qualification_input(world.a.uscc, valid_until="2024-12-31"), format="json"
    )
    assert error(response, 400)["code"] == "validation_error"
    assert not Qualification.objects.filter(certificate_no="API-Q-0001").exists()


def test_dates_out_of_order_name_the_field(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    response = api.post(
        "/api/v1/qualifications/", qualification_input(world.a.uscc, valid_until="2024-12-31"), format="json"
    )
    assert error(response, 400)["fields"][0]["field"] == "valid_until"


def test_capacity_unit_must_match_the_category(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    body = {"uscc": world.a.uscc, "category": "HNT", "annual_capacity": "10.000", "unit": "t"}
    assert error(api.post("/api/v1/capacities/", body, format="json"), 400)["fields"][0]["field"] == "unit"


# ---------------------------------------------------------------- ownership


def test_cannot_create_a_qualification_for_another_organization(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    before = AuditEvent.objects.filter(action="create").count()
    err = error(api.post("/api/v1/qualifications/", qualification_input(world.b.uscc), format="json"), 403)
    assert err["code"] == "permission_denied"
    assert not Qualification.objects.filter(certificate_no="API-Q-0001").exists()
    assert AuditEvent.objects.filter(action="create").count() == before
    denied = AuditEvent.objects.get(action="permission.denied")
    assert denied.actor_id == world["a_staff"].pk and denied.target_repr == "POST /api/v1/qualifications/"


def test_cannot_move_a_record_to_another_organization(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    response = api.patch(
        f"/api/v1/qualifications/{world.a_qual.certificate_no}/", {"uscc": world.b.uscc}, format="json"
    )
    assert error(response, 403)
    world.a_qual.refresh_from_db()
    assert world.a_qual.organization_id == world.a.pk and world.a_qual.version == 1


def test_create_for_own_organization_is_audited(world: World) -> None:
    api, _ = api_client_for(world["a_staff"])
    response = api.post("/api/v1/qualifications/", qualification_input(world.a.uscc), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["uscc"] == world.a.uscc and body["version"] == 1 and body["verification_status"] == "pending"
    qual = Qualification.objects.get(certificate_no="API-Q-0001")
    event = AuditEvent.objects.get(action="create", target_type="registry.qualification")
    assert event.target_id == str(qual.pk) and event.actor_id == world["a_staff"].pk


# ---------------------------------------------------------------- optimistic concurrency


def test_patch_with_a_stale_version_is_refused_and_nothing_is_lost(world: World) -> None:
    first, _ = api_client_for(world["a_admin"])
    second, _ = api_client_for(world["a_staff"])
    url = f"/api/v1/qualifications/{world.a_qual.certificate_no}/"
    version = first.get(url).json()["version"]
    ok = first.patch(url, {"grade": "一级", "version": version}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == version + 1 and ok.json()["grade"] == "一级"
    err = error(second.patch(url, {"grade": "二级", "version": version}, format="json"), 400)
    assert err["fields"][0]["field"] == "version" and err["fields"][0]["code"] == "stale_version"
    assert "当前版本 2" in err["fields"][0]["message"]
    world.a_qual.refresh_from_db()
    assert (world.a_qual.grade, world.a_qual.version) == ("一级", 2)
    again = second.patch(url, {"grade": "二级", "version": 2}, format="json")
    assert again.status_code == 200 and again.json()["version"] == 3


def test_patch_of_a_verified_item_resets_it_to_pending(world: World) -> None:
    from jiancai.audit.actions import SYSTEM
    from jiancai.registry.actions import verify_item

    verify_item(item=world.a_qual, verdict="confirmed", reason="属实", actor=world["city_biz"], context=SYSTEM)
    api, _ = api_client_for(world["a_staff"])
    body = api.patch(f"/api/v1/qualifications/{world.a_qual.certificate_no}/", {"grade": "一级"}, format="json").json()
    assert body["verification_status"] == "pending" and body["verification_reason"] == "内容已修改，待重新核实"


# ---------------------------------------------------------------- pagination and filters


def test_pagination(world: World) -> None:
    QualificationFactory.create_batch(64, organization=world.a)
    api, _ = api_client_for(world["a_staff"])
    first = api.get("/api/v1/qualifications/").json()
    assert first["count"] == 65 and len(first["results"]) == 50 and first["previous"] is None
    assert first["next"].endswith("/api/v1/qualifications/?page=2")
    second = api.get("/api/v1/qualifications/", {"page": 2}).json()
    assert len(second["results"]) == 15 and second["next"] is None
    small = api.get("/api/v1/qualifications/", {"page_size": 10, "page": 3}).json()
    assert len(small["results"]) == 10
    keys = {r["certificate_no"] for r in first["results"]} | {r["certificate_no"] for r in second["results"]}
    assert len(keys) == 65
    assert error(api.get("/api/v1/qualifications/", {"page": 99}), 404)["code"] == "not_found"


def test_filters_are_the_same_as_on_the_web(world: World) -> None:
    api, _ = api_client_for(world["city_biz"])
    assert [e["uscc"] for e in api.get("/api/v1/enterprises/", {"district": "朝阳区"}).json()["results"]] == [
        world.a.uscc
    ]
    assert [
        q["certificate_no"] for q in api.get("/api/v1/qualifications/", {"district": "海淀区"}).json()["results"]
    ] == [world.b_qual.certificate_no]
    assert [e["uscc"] for e in api.get("/api/v1/enterprises/", {"kind": "施工单位"}).json()["results"]] == [
        world.b.uscc
    ]
    assert [p["project_code"] for p in api.get("/api/v1/projects/", {"q": "望京"}).json()["results"]] == [
        world.a_project.project_code
    ]
    err = error(api.get("/api/v1/qualifications/", {"district": "火星区"}), 400)
    assert err["fields"][0]["field"] == "district"


def test_district_filter_cannot_widen_what_a_user_sees(world: World) -> None:
    api, _ = api_client_for(world["cy_biz"])
    assert api.get("/api/v1/enterprises/", {"district": "海淀区"}).json()["count"] == 0
    web = Client()
    login_as(web, world["cy_biz"])
    assert "共 0 条" in web.get("/registry/enterprises/", {"district": "海淀区"}).content.decode()


def test_not_found_uses_the_error_shape(world: World) -> None:
    api, _ = api_client_for(world["city_biz"])
    assert error(api.get("/api/v1/projects/NOPE/"), 404) == {"code": "not_found", "message": "记录不存在", "fields": []}


def test_issue_token_rejects_bad_input(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        issue_token(world["a_admin"], scopes=["registry:admin"])
    with pytest.raises(ValidationError):
        issue_token(world["a_admin"], valid_days=0)
    assert not ApiToken.objects.exists()
