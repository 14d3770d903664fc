"""The permission matrix: every persona × every page and API endpoint × A's / B's / shared / missing objects.

The expected statuses below are written out by hand from the rules in jiancai/accounts/access.py, not computed
from them, so that a change of the rules (or of a view that bypasses them) makes a cell fail:

* REGISTRY view: org_admin, staff, business, system_admin; change: org_admin, staff; verify: business.
  Enterprises (Organization) change: org_admin, system_admin; only a regulator registers a new one.
* Users view: org_admin, system_admin, security_admin; change: org_admin, system_admin; unlock: org_admin,
  security_admin. Tokens view: org_admin, security_admin; create: org_admin; revoke: org_admin, security_admin.
  Audit: audit_admin, security_admin; the chain page only audit_admin.
* The city regulator sees every row, the 朝阳 district regulator the rows placed in 朝阳区, an enterprise its own
  rows (a project: builder, contractor and supervisor see it, only the builder edits it).
* A row that exists but is not the user's → 403 (and an audit row "permission.denied"); a row that does not
  exist → 404. Anonymous web requests are sent to /login/, anonymous API requests get 401.

World: enterprise A (朝阳区) and B (海淀区) each own a qualification, capacity, person and project;
project S is in 朝阳区 with A as builder and B as contractor; project H is A's project located in 海淀区.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from jiancai.accounts.models import User
from jiancai.accounts.tests.factories import issue_token, make_uscc
from jiancai.accounts.tests.personas import World, api_client_for, login_as
from jiancai.audit.models import AuditEvent
from jiancai.registry.models import Project, Qualification, Verification
from jiancai.registry.tests.factories import ProjectFactory, make_id_number

COLUMNS = [
    "anon",
    "city_sys",
    "city_sec",
    "city_audit",
    "city_biz",
    "cy_biz",
    "cy_sys",
    "a_admin",
    "a_staff",
    "b_admin",
    "b_staff",
]

MATRIX = """
# cell                       anon city_sys city_sec city_audit city_biz cy_biz cy_sys a_admin a_staff b_admin b_staff
home                          302  200      200      200        200      200    200    200     200     200     200

# ---- registry list pages and their XLSX export
enterprise_list               302  200      403      403        200      200    200    200     200     200     200
qualification_list            302  200      403      403        200      200    200    200     200     200     200
capacity_list                 302  200      403      403        200      200    200    200     200     200     200
person_list                   302  200      403      403        200      200    200    200     200     200     200
project_list                  302  200      403      403        200      200    200    200     200     200     200
enterprise_export             302  200      403      403        200      200    200    200     200     200     200
qualification_export          302  200      403      403        200      200    200    200     200     200     200
capacity_export               302  200      403      403        200      200    200    200     200     200     200
person_export                 302  200      403      403        200      200    200    200     200     200     200
project_export                302  200      403      403        200      200    200    200     200     200     200

# ---- detail pages
enterprise_A                  302  200      403      403        200      200    200    200     200     403     403
enterprise_B                  302  200      403      403        200      403    403    403     403     200     200
enterprise_regulator          302  404      404      404        404      404    404    404     404     404     404
qualification_A               302  200      403      403        200      200    200    200     200     403     403
qualification_B               302  200      403      403        200      403    403    403     403     200     200
qualification_missing         302  404      404      404        404      404    404    404     404     404     404
capacity_A                    302  200      403      403        200      200    200    200     200     403     403
capacity_B                    302  200      403      403        200      403    403    403     403     200     200
person_A                      302  200      403      403        200      200    200    200     200     403     403
person_B                      302  200      403      403        200      403    403    403     403     200     200
project_A                     302  200      403      403        200      200    200    200     200     403     403
project_B                     302  200      403      403        200      403    403    403     403     200     200
project_S                     302  200      403      403        200      200    200    200     200     200     200
project_H                     302  200      403      403        200      403    403    200     200     403     403

# ---- create and edit pages (GET), one edit POST
enterprise_new                302  200      403      403        403      403    200    403     403     403     403
qualification_new             302  403      403      403        403      403    403    200     200     200     200
capacity_new                  302  403      403      403        403      403    403    200     200     200     200
person_new                    302  403      403      403        403      403    403    200     200     200     200
project_new                   302  403      403      403        403      403    403    200     200     200     200
enterprise_edit_A             302  200      403      403        403      403    200    200     403     403     403
enterprise_edit_B             302  200      403      403        403      403    403    403     403     200     403
qualification_edit_A          302  403      403      403        403      403    403    200     200     403     403
qualification_edit_B          302  403      403      403        403      403    403    403     403     200     200
qualification_edit_missing    302  404      404      404        404      404    404    404     404     404     404
capacity_edit_A               302  403      403      403        403      403    403    200     200     403     403
capacity_edit_B               302  403      403      403        403      403    403    403     403     200     200
person_edit_A                 302  403      403      403        403      403    403    200     200     403     403
person_edit_B                 302  403      403      403        403      403    403    403     403     200     200
project_edit_A                302  403      403      403        403      403    403    200     200     403     403
project_edit_B                302  403      403      403        403      403    403    403     403     200     200
project_edit_S                302  403      403      403        403      403    403    200     200     403     403
project_edit_H                302  403      403      403        403      403    403    200     200     403     403
qualification_edit_post_A     302  403      403      403        403      403    403    302     302     403     403
qualification_edit_post_B     302  403      403      403        403      403    403    403     403     302     302

# ---- verification (POST)
verify_enterprise_A           302  403      403      403        302      302    403    403     403     403     403
verify_enterprise_B           302  403      403      403        302      403    403    403     403     403     403
verify_qualification_A        302  403      403      403        302      302    403    403     403     403     403
verify_qualification_B        302  403      403      403        302      403    403    403     403     403     403
verify_capacity_A             302  403      403      403        302      302    403    403     403     403     403
verify_capacity_B             302  403      403      403        302      403    403    403     403     403     403
verify_person_A               302  403      403      403        302      302    403    403     403     403     403
verify_person_B               302  403      403      403        302      403    403    403     403     403     403
verify_project_A              302  403      403      403        302      302    403    403     403     403     403
verify_project_B              302  403      403      403        302      403    403    403     403     403     403
verify_project_S              302  403      403      403        302      302    403    403     403     403     403
verify_regulator_org          302  404      404      404        404      404    404    404     404     404     404
verify_unknown_kind           302  403      403      403        403      403    403    403     403     403     403

# ---- users
user_list                     302  200      200      403        403      403    200    200     403     200     403
user_new                      302  200      403      403        403      403    200    200     403     200     403
user_a_staff                  302  200      200      403        403      403    200    200     403     403     403
user_b_staff                  302  200      200      403        403      403    403    403     403     200     403
user_city_biz                 302  200      200      403        403      403    403    403     403     403     403
user_missing                  302  404      404      404        404      404    404    404     404     404     404
user_edit_a_staff             302  200      403      403        403      403    200    200     403     403     403
user_edit_b_staff             302  200      403      403        403      403    403    403     403     200     403
user_reset_a_staff            302  302      403      403        403      403    302    302     403     403     403
user_reset_b_staff            302  302      403      403        403      403    403    403     403     302     403
user_unlock_a_staff           302  403      302      403        403      403    403    302     403     403     403
user_unlock_b_staff           302  403      302      403        403      403    403    403     403     302     403

# ---- API tokens
token_list                    302  403      200      403        403      403    403    200     403     200     403
token_create                  302  403      403      403        403      403    403    200     403     200     403
token_revoke_A                302  403      302      403        403      403    403    302     403     403     403
token_revoke_B                302  403      302      403        403      403    403    403     403     302     403

# ---- audit
audit_list                    302  403      200      200        403      403    403    403     403     403     403
audit_chain                   302  403      403      200        403      403    403    403     403     403     403
audit_chain_post              302  403      403      302        403      403    403    403     403     403     403

# ---- REST API (each persona with a read+write token of its own)
api_enterprise_list           401  200      200      200        200      200    200    200     200     200     200
api_qualification_list        401  200      200      200        200      200    200    200     200     200     200
api_capacity_list             401  200      200      200        200      200    200    200     200     200     200
api_person_list               401  200      200      200        200      200    200    200     200     200     200
api_project_list              401  200      200      200        200      200    200    200     200     200     200
api_enterprise_A              401  200      403      403        200      200    200    200     200     403     403
api_enterprise_B              401  200      403      403        200      403    403    403     403     200     200
api_enterprise_missing        401  404      404      404        404      404    404    404     404     404     404
api_qualification_A           401  200      403      403        200      200    200    200     200     403     403
api_qualification_B           401  200      403      403        200      403    403    403     403     200     200
api_capacity_A                401  200      403      403        200      200    200    200     200     403     403
api_capacity_B                401  200      403      403        200      403    403    403     403     200     200
api_person_A                  401  200      403      403        200      200    200    200     200     403     403
api_person_B                  401  200      403      403        200      403    403    403     403     200     200
api_project_A                 401  200      403      403        200      200    200    200     200     403     403
api_project_B                 401  200      403      403        200      403    403    403     403     200     200
api_project_S                 401  200      403      403        200      200    200    200     200     200     200
api_project_H                 401  200      403      403        200      403    403    200     200     403     403
api_enterprise_create_cy      401  201      403      403        403      403    201    403     403     403     403
api_enterprise_create_hd      401  201      403      403        403      403    403    403     403     403     403
api_qualification_create_A    401  403      403      403        403      403    403    201     201     403     403
api_qualification_create_B    401  403      403      403        403      403    403    403     403     201     201
api_person_create_A           401  403      403      403        403      403    403    201     201     403     403
api_enterprise_patch_A        401  200      403      403        403      403    200    200     403     403     403
api_enterprise_patch_B        401  200      403      403        403      403    403    403     403     200     403
api_qualification_patch_A     401  403      403      403        403      403    403    200     200     403     403
api_qualification_patch_B     401  403      403      403        403      403    403    403     403     200     200
api_capacity_patch_A          401  403      403      403        403      403    403    200     200     403     403
api_project_patch_S           401  403      403      403        403      403    403    200     200     403     403
"""


def parse_matrix(text: str) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, *codes = line.split()
        assert len(codes) == len(COLUMNS), f"row {name} has {len(codes)} cells, expected {len(COLUMNS)}"
        assert name not in table, f"row {name} appears twice"
        table[name] = dict(zip(COLUMNS, (int(c) for c in codes), strict=True))
    return table


EXPECTED = parse_matrix(MATRIX)


@dataclass
class MatrixWorld:
    w: World
    s_project: Project
    h_project: Project
    a_token_pk: int
    b_token_pk: int


@dataclass(frozen=True)
class Cell:
    method: str
    url: Callable[[MatrixWorld], str]
    data: Callable[[MatrixWorld], dict[str, Any]] | None = None
    api: bool = False


def _qual_form(q: Qualification) -> dict[str, Any]:
    return {
        "organization": q.organization_id,
        "certificate_no": q.certificate_no,
        "qualification_type": q.qualification_type,
        "grade": "一级",
        "issued_on": "2024-01-10",
        "valid_until": "2029-01-09",
        "status": "有效",
        "expected_version": q.version,
    }


VERIFY_DATA = {"verdict": "confirmed", "reason": "现场核查属实"}
RESET_DATA = {"new_password": "Temp#2026reset", "reason": "用户遗忘密码"}


def _fixed(url: str) -> Callable[[MatrixWorld], str]:
    return lambda m: url


def _verify(kind: str, key: Callable[[MatrixWorld], Any]) -> Cell:
    return Cell("POST", lambda m: f"/registry/verify/{kind}/{key(m)}/", lambda m: VERIFY_DATA)


def _api_qual(uscc: Callable[[MatrixWorld], str], cert: str) -> Callable[[MatrixWorld], dict[str, Any]]:
    return lambda m: {
        "uscc": uscc(m),
        "certificate_no": cert,
        "qualification_type": "钢筋供应备案",
        "issued_on": "2025-01-01",
        "valid_until": "2028-01-01",
    }


def _api_enterprise(n: int, district: str, region: str) -> Callable[[MatrixWorld], dict[str, Any]]:
    return lambda m: {
        "uscc": make_uscc(n, region=region),
        "name": f"新登记建材企业{n}",
        "kinds": ["生产企业"],
        "district": district,
    }


CELLS: dict[str, Cell] = {
    "home": Cell("GET", lambda m: "/"),
    **{
        f"{k}_list": Cell("GET", _fixed(f"/registry/{p}/"))
        for k, p in [
            ("enterprise", "enterprises"),
            ("qualification", "qualifications"),
            ("capacity", "capacities"),
            ("person", "persons"),
            ("project", "projects"),
        ]
    },
    **{
        f"{k}_export": Cell("GET", _fixed(f"/registry/{p}/?export=xlsx"))
        for k, p in [
            ("enterprise", "enterprises"),
            ("qualification", "qualifications"),
            ("capacity", "capacities"),
            ("person", "persons"),
            ("project", "projects"),
        ]
    },
    "enterprise_A": Cell("GET", lambda m: f"/registry/enterprises/{m.w.a.uscc}/"),
    "enterprise_B": Cell("GET", lambda m: f"/registry/enterprises/{m.w.b.uscc}/"),
    "enterprise_regulator": Cell("GET", lambda m: f"/registry/enterprises/{m.w.city.uscc}/"),
    "qualification_A": Cell("GET", lambda m: f"/registry/qualifications/{m.w.a_qual.pk}/"),
    "qualification_B": Cell("GET", lambda m: f"/registry/qualifications/{m.w.b_qual.pk}/"),
    "qualification_missing": Cell("GET", lambda m: "/registry/qualifications/987654/"),
    "capacity_A": Cell("GET", lambda m: f"/registry/capacities/{m.w.a_cap.pk}/"),
    "capacity_B": Cell("GET", lambda m: f"/registry/capacities/{m.w.b_cap.pk}/"),
    "person_A": Cell("GET", lambda m: f"/registry/persons/{m.w.a_person.pk}/"),
    "person_B": Cell("GET", lambda m: f"/registry/persons/{m.w.b_person.pk}/"),
    "project_A": Cell("GET", lambda m: f"/registry/projects/{m.w.a_project.project_code}/"),
    "project_B": Cell("GET", lambda m: f"/registry/projects/{m.w.b_project.project_code}/"),
    "project_S": Cell("GET", lambda m: f"/registry/projects/{m.s_project.project_code}/"),
    "project_H": Cell("GET", lambda m: f"/registry/projects/{m.h_project.project_code}/"),
    "enterprise_new": Cell("GET", lambda m: "/registry/enterprises/new/"),
    "qualification_new": Cell("GET", lambda m: "/registry/qualifications/new/"),
    "capacity_new": Cell("GET", lambda m: "/registry/capacities/new/"),
    "person_new": Cell("GET", lambda m: "/registry/persons/new/"),
    "project_new": Cell("GET", lambda m: "/registry/projects/new/"),
    "enterprise_edit_A": Cell("GET", lambda m: f"/registry/enterprises/{m.w.a.uscc}/edit/"),
    "enterprise_edit_B": Cell("GET", lambda m: f"/registry/enterprises/{m.w.b.uscc}/edit/"),
    "qualification_edit_A": Cell("GET", lambda m: f"/registry/qualifications/{m.w.a_qual.pk}/edit/"),
    "qualification_edit_B": Cell("GET", lambda m: f"/registry/qualifications/{m.w.b_qual.pk}/edit/"),
    "qualification_edit_missing": Cell("GET", lambda m: "/registry/qualifications/987654/edit/"),
    "capacity_edit_A": Cell("GET", lambda m: f"/registry/capacities/{m.w.a_cap.pk}/edit/"),
    "capacity_edit_B": Cell("GET", lambda m: f"/registry/capacities/{m.w.b_cap.pk}/edit/"),
    "person_edit_A": Cell("GET", lambda m: f"/registry/persons/{m.w.a_person.pk}/edit/"),
    "person_edit_B": Cell("GET", lambda m: f"/registry/persons/{m.w.b_person.pk}/edit/"),
    "project_edit_A": Cell("GET", lambda m: f"/registry/projects/{m.w.a_project.project_code}/edit/"),
    "project_edit_B": Cell("GET", lambda m: f"/registry/projects/{m.w.b_project.project_code}/edit/"),
    "project_edit_S": Cell("GET", lambda m: f"/registry/projects/{m.s_project.project_code}/edit/"),
    "project_edit_H": Cell("GET", lambda m: f"/registry/projects/{m.h_project.project_code}/edit/"),
    "qualification_edit_post_A": Cell(
        "POST", lambda m: f"/registry/qualifications/{m.w.a_qual.pk}/edit/", lambda m: _qual_form(m.w.a_qual)
    ),
    "qualification_edit_post_B": Cell(
        "POST", lambda m: f"/registry/qualifications/{m.w.b_qual.pk}/edit/", lambda m: _qual_form(m.w.b_qual)
    ),
    "verify_enterprise_A": _verify("enterprise", lambda m: m.w.a.uscc),
    "verify_enterprise_B": _verify("enterprise", lambda m: m.w.b.uscc),
    "verify_qualification_A": _verify("qualification", lambda m: m.w.a_qual.pk),
    "verify_qualification_B": _verify("qualification", lambda m: m.w.b_qual.pk),
    "verify_capacity_A": _verify("capacity", lambda m: m.w.a_cap.pk),
    "verify_capacity_B": _verify("capacity", lambda m: m.w.b_cap.pk),
    "verify_person_A": _verify("person", lambda m: m.w.a_person.pk),
    "verify_person_B": _verify("person", lambda m: m.w.b_person.pk),
    "verify_project_A": _verify("project", lambda m: m.w.a_project.project_code),
    "verify_project_B": _verify("project", lambda m: m.w.b_project.project_code),
    "verify_project_S": _verify("project", lambda m: m.s_project.project_code),
    "verify_regulator_org": _verify("enterprise", lambda m: m.w.city.uscc),
    "verify_unknown_kind": _verify("vehicle", lambda m: 1),
    "user_list": Cell("GET", lambda m: "/accounts/users/"),
    "user_new": Cell("GET", lambda m: "/accounts/users/new/"),
    "user_a_staff": Cell("GET", lambda m: f"/accounts/users/{m.w['a_staff'].pk}/"),
    "user_b_staff": Cell("GET", lambda m: f"/accounts/users/{m.w['b_staff'].pk}/"),
    "user_city_biz": Cell("GET", lambda m: f"/accounts/users/{m.w['city_biz'].pk}/"),
    "user_missing": Cell("GET", lambda m: "/accounts/users/987654/"),
    "user_edit_a_staff": Cell("GET", lambda m: f"/accounts/users/{m.w['a_staff'].pk}/edit/"),
    "user_edit_b_staff": Cell("GET", lambda m: f"/accounts/users/{m.w['b_staff'].pk}/edit/"),
    "user_reset_a_staff": Cell(
        "POST", lambda m: f"/accounts/users/{m.w['a_staff'].pk}/reset-password/", lambda m: RESET_DATA
    ),
    "user_reset_b_staff": Cell(
        "POST", lambda m: f"/accounts/users/{m.w['b_staff'].pk}/reset-password/", lambda m: RESET_DATA
    ),
    "user_unlock_a_staff": Cell(
        "POST", lambda m: f"/accounts/users/{m.w['a_staff'].pk}/unlock/", lambda m: {"reason": "本人申请"}
    ),
    "user_unlock_b_staff": Cell(
        "POST", lambda m: f"/accounts/users/{m.w['b_staff'].pk}/unlock/", lambda m: {"reason": "本人申请"}
    ),
    "token_list": Cell("GET", lambda m: "/accounts/tokens/"),
    "token_create": Cell(
        "POST",
        lambda m: "/accounts/tokens/",
        lambda m: {"name": "ERP对接", "scopes": ["registry:read"], "valid_days": 30},
    ),
    "token_revoke_A": Cell("POST", lambda m: f"/accounts/tokens/{m.a_token_pk}/revoke/", lambda m: {"reason": "停用"}),
    "token_revoke_B": Cell("POST", lambda m: f"/accounts/tokens/{m.b_token_pk}/revoke/", lambda m: {"reason": "停用"}),
    "audit_list": Cell("GET", lambda m: "/audit/"),
    "audit_chain": Cell("GET", lambda m: "/audit/chain/"),
    "audit_chain_post": Cell("POST", _fixed("/audit/chain/"), lambda m: {}),
    **{
        f"api_{k}_list": Cell("GET", _fixed(f"/api/v1/{p}/"), api=True)
        for k, p in [
            ("enterprise", "enterprises"),
            ("qualification", "qualifications"),
            ("capacity", "capacities"),
            ("person", "persons"),
            ("project", "projects"),
        ]
    },
    "api_enterprise_A": Cell("GET", lambda m: f"/api/v1/enterprises/{m.w.a.uscc}/", api=True),
    "api_enterprise_B": Cell("GET", lambda m: f"/api/v1/enterprises/{m.w.b.uscc}/", api=True),
    "api_enterprise_missing": Cell("GET", lambda m: f"/api/v1/enterprises/{make_uscc(999_999)}/", api=True),
    "api_qualification_A": Cell("GET", lambda m: f"/api/v1/qualifications/{m.w.a_qual.certificate_no}/", api=True),
    "api_qualification_B": Cell("GET", lambda m: f"/api/v1/qualifications/{m.w.b_qual.certificate_no}/", api=True),
    "api_capacity_A": Cell("GET", lambda m: f"/api/v1/capacities/{m.w.a_cap.public_id}/", api=True),
    "api_capacity_B": Cell("GET", lambda m: f"/api/v1/capacities/{m.w.b_cap.public_id}/", api=True),
    "api_person_A": Cell("GET", lambda m: f"/api/v1/persons/{m.w.a_person.public_id}/", api=True),
    "api_person_B": Cell("GET", lambda m: f"/api/v1/persons/{m.w.b_person.public_id}/", api=True),
    "api_project_A": Cell("GET", lambda m: f"/api/v1/projects/{m.w.a_project.project_code}/", api=True),
    "api_project_B": Cell("GET", lambda m: f"/api/v1/projects/{m.w.b_project.project_code}/", api=True),
    "api_project_S": Cell("GET", lambda m: f"/api/v1/projects/{m.s_project.project_code}/", api=True),
    "api_project_H": Cell("GET", lambda m: f"/api/v1/projects/{m.h_project.project_code}/", api=True),
    "api_enterprise_create_cy": Cell(
        "POST", lambda m: "/api/v1/enterprises/", _api_enterprise(7001, "朝阳区", "110105"), api=True
    ),
    "api_enterprise_create_hd": Cell(
        "POST", lambda m: "/api/v1/enterprises/", _api_enterprise(7002, "海淀区", "110108"), api=True
    ),
    "api_qualification_create_A": Cell(
        "POST", lambda m: "/api/v1/qualifications/", _api_qual(lambda m: m.w.a.uscc, "A-NEW-0001"), api=True
    ),
    "api_qualification_create_B": Cell(
        "POST", lambda m: "/api/v1/qualifications/", _api_qual(lambda m: m.w.b.uscc, "B-NEW-0001"), api=True
    ),
    "api_person_create_A": Cell(
        "POST",
        lambda m: "/api/v1/persons/",
        lambda m: {"uscc": m.w.a.uscc, "name": "钱取样", "id_number": make_id_number(777), "role": "取样员"},
        api=True,
    ),
    "api_enterprise_patch_A": Cell(
        "PATCH", lambda m: f"/api/v1/enterprises/{m.w.a.uscc}/", lambda m: {"phone": "010-1"}, api=True
    ),
    "api_enterprise_patch_B": Cell(
        "PATCH", lambda m: f"/api/v1/enterprises/{m.w.b.uscc}/", lambda m: {"phone": "010-2"}, api=True
    ),
    "api_qualification_patch_A": Cell(
        "PATCH", lambda m: f"/api/v1/qualifications/{m.w.a_qual.certificate_no}/", lambda m: {"grade": "一级"}, api=True
    ),
    "api_qualification_patch_B": Cell(
        "PATCH", lambda m: f"/api/v1/qualifications/{m.w.b_qual.certificate_no}/", lambda m: {"grade": "一级"}, api=True
    ),
    "api_capacity_patch_A": Cell(
        "PATCH",
        lambda m: f"/api/v1/capacities/{m.w.a_cap.public_id}/",
        lambda m: {"annual_capacity": "1.000"},
        api=True,
    ),
    "api_project_patch_S": Cell(
        "PATCH", lambda m: f"/api/v1/projects/{m.s_project.project_code}/", lambda m: {"name": "改名项目"}, api=True
    ),
}


def test_matrix_and_cells_cover_each_other() -> None:
    assert set(EXPECTED) == set(CELLS), (
        f"rows without a request: {sorted(set(EXPECTED) - set(CELLS))}; requests without a row: "
        f"{sorted(set(CELLS) - set(EXPECTED))}"
    )


def test_every_cell_is_a_distinct_request(mw: MatrixWorld) -> None:
    requests: dict[tuple[str, str, str], str] = {}
    for name, cell in CELLS.items():
        key = (cell.method, cell.url(mw), repr(cell.data(mw)) if cell.data else "")
        assert key not in requests, f"{name} repeats {requests[key]}"
        requests[key] = name


@pytest.fixture
def mw(world: World) -> MatrixWorld:
    s = ProjectFactory.create(
        builder=world.a,
        contractor=world.b,
        district_name="朝阳区",
        project_code="110105202600099",
        name="朝阳CBD联建项目",
    )
    h = ProjectFactory.create(
        builder=world.a, district_name="海淀区", project_code="110108202600099", name="海淀异地建设项目"
    )
    a_token, _ = issue_token(world["a_admin"])
    b_token, _ = issue_token(world["b_admin"])
    return MatrixWorld(w=world, s_project=s, h_project=h, a_token_pk=a_token.pk, b_token_pk=b_token.pk)


def _last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


def _run(cell: Cell, m: MatrixWorld, web: Client, api: Any) -> Any:
    url = cell.url(m)
    data = cell.data(m) if cell.data else None
    if cell.api:
        call = getattr(api, cell.method.lower())
        return call(url, data, format="json") if data is not None else call(url)
    if cell.method == "GET":
        return web.get(url)
    return web.post(url, data or {})


@pytest.mark.parametrize("persona", COLUMNS)
def test_permission_matrix(persona: str, mw: MatrixWorld) -> None:
    user: User | None = None if persona == "anon" else mw.w[persona]
    web = Client()
    if user is not None:
        login_as(web, user)
    api, _ = api_client_for(user)
    mismatches: list[str] = []
    for name, cell in CELLS.items():
        expected = EXPECTED[name][persona]
        before = _last_seq()
        response = _run(cell, mw, web, api)
        path = urlsplit(cell.url(mw)).path
        label = f"{name:<28} {cell.method} {cell.url(mw)}"
        if response.status_code != expected:
            mismatches.append(f"{label}: expected {expected}, got {response.status_code}")
            continue
        denials = list(AuditEvent.objects.filter(seq__gt=before, action="permission.denied"))
        if expected == 403:
            if len(denials) != 1:
                mismatches.append(f"{label}: 403 without exactly one permission.denied audit row ({len(denials)})")
            else:
                event = denials[0]
                if event.target_repr != f"{cell.method} {path}" or event.actor_id != user.pk:  # type: ignore[union-attr]
                    mismatches.append(f"{label}: denial audited as {event.target_repr!r} by {event.actor_id}")
                if event.target_type != ("api" if cell.api else "page") or not event.reason:
                    mismatches.append(
                        f"{label}: denial audit row lacks type/reason ({event.target_type!r}, {event.reason!r})"
                    )
        elif denials:
            mismatches.append(f"{label}: {expected} but a permission.denied row was written")
        if expected == 302:
            location = response["Location"]
            if (user is None) != location.startswith("/login/"):
                mismatches.append(f"{label}: redirected to {location}")
        if (
            expected == 200
            and name.endswith("_export")
            and not response["Content-Type"].startswith("application/vnd.openxmlformats")
        ):
            mismatches.append(f"{label}: export returned {response['Content-Type']}")
        if expected == 401 and response.json()["error"]["code"] != "not_authenticated":
            mismatches.append(f"{label}: 401 body {response.json()}")
        if cell.api and expected in (403, 404) and set(response.json()["error"]) != {"code", "message", "fields"}:
            mismatches.append(f"{label}: error body {response.json()}")
    assert not mismatches, f"{persona}: {len(mismatches)} cells differ from the matrix:\n" + "\n".join(mismatches)


# Which records each persona sees in the registry lists (web and API alike).
# A/B: the enterprise, qualification, capacity and person of A/B. Projects: A, B, S (朝阳, A builds, B contracts),
# H (A's project in 海淀区).
VISIBLE_RECORDS = {
    "city_sys": "A B",
    "city_sec": "",
    "city_audit": "",
    "city_biz": "A B",
    "cy_biz": "A",
    "cy_sys": "A",
    "a_admin": "A",
    "a_staff": "A",
    "b_admin": "B",
    "b_staff": "B",
}
VISIBLE_PROJECTS = {
    "city_sys": "A B S H",
    "city_sec": "",
    "city_audit": "",
    "city_biz": "A B S H",
    "cy_biz": "A S",
    "cy_sys": "A S",
    "a_admin": "A S H",
    "a_staff": "A S H",
    "b_admin": "B S",
    "b_staff": "B S",
}


def _records(m: MatrixWorld) -> dict[str, dict[str, Any]]:
    w = m.w
    return {
        "enterprises": {"A": w.a, "B": w.b},
        "qualifications": {"A": w.a_qual, "B": w.b_qual},
        "capacities": {"A": w.a_cap, "B": w.b_cap},
        "persons": {"A": w.a_person, "B": w.b_person},
        "projects": {"A": w.a_project, "B": w.b_project, "S": m.s_project, "H": m.h_project},
    }


API_KEY = {
    "enterprises": ("uscc", lambda o: o.uscc),
    "qualifications": ("certificate_no", lambda o: o.certificate_no),
    "capacities": ("id", lambda o: str(o.public_id)),
    "persons": ("id", lambda o: str(o.public_id)),
    "projects": ("project_code", lambda o: o.project_code),
}


@pytest.mark.parametrize("persona", list(VISIBLE_RECORDS))
def test_lists_show_exactly_the_visible_records(persona: str, mw: MatrixWorld) -> None:
    user = mw.w[persona]
    web = Client()
    login_as(web, user)
    api, _ = api_client_for(user)
    for registry, objects in _records(mw).items():
        expected = set((VISIBLE_PROJECTS if registry == "projects" else VISIBLE_RECORDS)[persona].split())
        # API
        body = api.get(f"/api/v1/{registry}/").json()
        field, key = API_KEY[registry]
        keys = {row[field] for row in body["results"]}
        assert keys == {key(objects[x]) for x in expected}, f"{persona} API {registry}"
        assert body["count"] == len(expected)
        # web
        response = web.get(f"/registry/{registry}/")
        if not expected and persona in ("city_sec", "city_audit"):
            assert response.status_code == 403
            continue
        html = response.content.decode()
        shown = {x for x, obj in objects.items() if f'href="{obj.get_absolute_url()}"' in html}
        assert shown == expected, f"{persona} web {registry}: shows {sorted(shown)}, expected {sorted(expected)}"
        assert f"共 {len(expected)} 条" in html


def test_denied_detail_is_audited_with_who_and_what(mw: MatrixWorld, client: Client) -> None:
    """Enterprise A's staff opening B's qualification: 403, and the audit trail says who tried what."""
    login_as(client, mw.w["a_staff"])
    url = f"/registry/qualifications/{mw.w.b_qual.pk}/"
    response = client.get(url)
    assert response.status_code == 403
    assert "B-QUAL-0001" not in response.content.decode()
    event = AuditEvent.objects.filter(action="permission.denied").order_by("-seq").first()
    assert event is not None
    assert event.actor_id == mw.w["a_staff"].pk
    assert event.organization_id == mw.w.a.pk
    assert event.target_repr == f"GET {url}"
    assert "资质证书" in event.reason
    assert event.ip_address == "127.0.0.1"


def test_denied_writes_change_nothing(mw: MatrixWorld) -> None:
    """B's staff cannot verify, edit or patch A's records: nothing changes, nothing is stored."""
    web = Client()
    login_as(web, mw.w["b_staff"])
    api, _ = api_client_for(mw.w["b_staff"])
    qual = mw.w.a_qual
    assert web.post(f"/registry/verify/qualification/{qual.pk}/", VERIFY_DATA).status_code == 403
    assert (
        web.post(f"/registry/qualifications/{qual.pk}/edit/", {**_qual_form(qual), "grade": "特级"}).status_code == 403
    )
    assert (
        api.patch(f"/api/v1/qualifications/{qual.certificate_no}/", {"grade": "特级"}, format="json").status_code == 403
    )
    assert api.patch(f"/api/v1/projects/{mw.s_project.project_code}/", {"name": "x"}, format="json").status_code == 403
    qual.refresh_from_db()
    mw.s_project.refresh_from_db()
    assert (qual.grade, qual.version, qual.verification_status) == ("不分等级", 1, "pending")
    assert mw.s_project.name == "朝阳CBD联建项目"
    assert not Verification.objects.exists()
