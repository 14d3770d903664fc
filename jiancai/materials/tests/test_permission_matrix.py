"""The material catalog's pages × every persona, written out by hand from the rules in accounts/access.py:

* Categories, usage references and catalog entries (CATALOG_ROLES, shared): org_admin, staff, business and
  system_admin read every row; only the city regulator's business staff changes them.
* Product filings (REGISTRY_ROLES, owner: producer, district: the producer's): org_admin, staff, business and
  system_admin read — the city sees all, 朝阳 its district's, an enterprise its own; the producer's org_admin
  and staff file and edit.
* A row that exists but is not the user's → 403 (audited); one that does not exist → 404; anonymous → /login/.
"""

from __future__ import annotations

import pytest
from django.test import Client

from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.materials.models import CatalogEntry, ProductFiling

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
]

MATRIX = """
# page                anon city_sys city_sec city_audit city_biz cy_biz cy_sys a_admin a_staff b_admin
category_list          302  200      403      403        200      200    200    200     200     200
category_export        302  200      403      403        200      200    200    200     200     200
category_detail        302  200      403      403        200      200    200    200     200     200
category_missing       302  404      404      404        404      404    404    404     404     404
category_new           302  403      403      403        200      403    403    403     403     403
category_edit          302  403      403      403        200      403    403    403     403     403
usage_change           302  403      403      403        200      403    403    403     403     403
filing_list            302  200      403      403        200      200    200    200     200     200
filing_export          302  200      403      403        200      200    200    200     200     200
filing_A               302  200      403      403        200      200    200    200     200     403
filing_H               302  200      403      403        200      403    403    403     403     403
filing_missing         302  404      404      404        404      404    404    404     404     404
filing_new             302  403      403      403        403      403    403    200     200     200
filing_edit_A          302  403      403      403        403      403    403    200     200     403
filing_edit_H          302  403      403      403        403      403    403    403     403     403
catalog_list           302  200      403      403        200      200    200    200     200     200
catalog_export         302  200      403      403        200      200    200    200     200     200
catalog_detail         302  200      403      403        200      200    200    200     200     200
catalog_new            302  403      403      403        200      403    403    403     403     403
catalog_edit           302  403      403      403        200      403    403    403     403     403
"""


def parse(text: str) -> dict[str, dict[str, int]]:
    table = {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        name, *codes = line.split()
        assert len(codes) == len(COLUMNS), name
        table[name] = dict(zip(COLUMNS, map(int, codes), strict=True))
    return table


EXPECTED = parse(MATRIX)


def urls(a: ProductFiling, h: ProductFiling, entry: CatalogEntry) -> dict[str, str]:
    return {
        "category_list": "/materials/categories/",
        "category_export": "/materials/categories/?export=xlsx",
        "category_detail": "/materials/categories/GJ/",
        "category_missing": "/materials/categories/NOPE/",
        "category_new": "/materials/categories/new/",
        "category_edit": "/materials/categories/GJ/edit/",
        "usage_change": "/materials/categories/GJ/usage/",
        "filing_list": "/materials/filings/",
        "filing_export": "/materials/filings/?export=xlsx",
        "filing_A": f"/materials/filings/{a.pk}/",
        "filing_H": f"/materials/filings/{h.pk}/",
        "filing_missing": "/materials/filings/999999/",
        "filing_new": "/materials/filings/new/",
        "filing_edit_A": f"/materials/filings/{a.pk}/edit/",
        "filing_edit_H": f"/materials/filings/{h.pk}/edit/",
        "catalog_list": "/materials/catalog/",
        "catalog_export": "/materials/catalog/?export=xlsx",
        "catalog_detail": f"/materials/catalog/{entry.pk}/",
        "catalog_new": "/materials/catalog/new/",
        "catalog_edit": f"/materials/catalog/{entry.pk}/edit/",
    }


@pytest.mark.parametrize("persona", COLUMNS)
def test_materials_permission_matrix(world: World, a_filing, hd_filing, catalog_entry, persona: str) -> None:
    client = Client()
    if persona != "anon":
        login_as(client, world[persona])
    actual, denials = {}, 0
    for name, url in urls(a_filing, hd_filing, catalog_entry).items():
        response = client.get(url)
        actual[name] = response.status_code
        if response.status_code == 302:
            assert response["Location"].startswith("/login/"), (name, response["Location"])
        denials += response.status_code == 403
    expected = {name: row[persona] for name, row in EXPECTED.items()}
    mismatches = {name: (expected[name], actual[name]) for name in expected if expected[name] != actual[name]}
    assert not mismatches, f"{persona}: (expected, actual) {mismatches}"
    assert AuditEvent.objects.filter(action="permission.denied").count() == denials
