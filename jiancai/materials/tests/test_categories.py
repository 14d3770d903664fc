"""Material categories and their dated usage references: the seeded catalog, changes by the city regulator,
dated validity of old values, and refusals of everyone else."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.materials import actions
from jiancai.materials.models import MaterialCategory, UsageReference

FORMATS_CATEGORIES = [
    # code, name, unit, witness re-test
    ("GJ", "钢筋", "t", True),
    ("XG", "型钢及钢结构构件", "t", True),
    ("SN", "水泥", "t", True),
    ("HNT", "预拌混凝土", "m³", True),
    ("SJ", "预拌砂浆", "t", True),
    ("SS", "砂石", "t", True),
    ("QT", "墙体材料", "m³", True),
    ("FS", "防水材料", "m²", True),
    ("BW", "保温材料", "m³", True),
    ("MC", "门窗", "樘", True),
    ("GC", "管材管件", "m", False),
    ("TL", "建筑涂料", "t", False),
    ("YZ", "预制构件", "m³", True),
    ("DL", "电线电缆", "m", True),
]
FORMATS_USAGE: dict[tuple[str, str], dict[str, tuple[Any, Any]]] = {
    ("GJ", "kg/㎡"): {
        "砖混": (25, 35),
        "框架": (40, 60),
        "剪力墙": (45, 65),
        "框架-剪力墙": (50, 70),
        "框架-核心筒": (60, 80),
    },
    ("HNT", "m³/㎡"): {
        "砖混": ("0.20", "0.30"),
        "框架": ("0.30", "0.40"),
        "剪力墙": ("0.40", "0.55"),
        "框架-剪力墙": ("0.35", "0.50"),
        "框架-核心筒": ("0.40", "0.55"),
    },
}
GJ = "/materials/categories/GJ/"
USAGE_URL = "/materials/categories/GJ/usage/"


def errors(response) -> list[str]:
    return re.findall(r'role="alert">\s*(?:<p>)?(.*?)<', response.content.decode())


def client_for(world: World, persona: str) -> Client:
    client = Client()
    login_as(client, world[persona])
    return client


def usage_form(**overrides: str) -> dict[str, str]:
    return {
        "structure_type": "框架",
        "min_per_m2": "42",
        "max_per_m2": "62",
        "per_m2_unit": "kg/㎡",
        "effective_from": "2026-03-01",
        "reason": "京建发〔2026〕1号",
        **overrides,
    }


def gj_frame_rows() -> list[tuple[Decimal, Decimal, dt.date, dt.date | None]]:
    rows = UsageReference.objects.filter(category__code="GJ", structure_type="框架").order_by("effective_from")
    return [(r.min_per_m2, r.max_per_m2, r.effective_from, r.effective_until) for r in rows]


# ---------------------------------------------------------------- the seeded catalog


@pytest.mark.django_db
def test_seeded_catalog_matches_formats() -> None:
    rows = [(c.code, c.name, c.unit, c.witness_retest_required) for c in MaterialCategory.objects.all()]
    assert rows == FORMATS_CATEGORIES  # 14 categories, in the order of FORMATS.md
    batches = {c.code: c.batch_size for c in MaterialCategory.objects.all()}
    assert batches["GJ"] == Decimal(60) and batches["XG"] == Decimal(60)
    assert batches["SN"] == Decimal(500) and batches["HNT"] == Decimal(100) and batches["SS"] == Decimal(600)
    assert batches["GC"] is None and batches["TL"] is None
    assert "200 t" in MaterialCategory.objects.get(code="SN").batch_rule  # bagged cement


@pytest.mark.django_db
def test_seeded_usage_references_match_formats() -> None:
    seeded = {
        (r.category.code, r.per_m2_unit, r.structure_type): (r.min_per_m2, r.max_per_m2)
        for r in UsageReference.objects.select_related("category")
    }
    expected = {
        (code, unit, structure): (Decimal(str(low)), Decimal(str(high)))
        for (code, unit), ranges in FORMATS_USAGE.items()
        for structure, (low, high) in ranges.items()
    }
    assert seeded == expected
    assert not UsageReference.objects.filter(effective_until__isnull=False).exists()
    ref = actions.usage_reference_on("GJ", "框架", dt.date(2026, 1, 1))
    assert ref is not None and ref.range_text == "40–60 kg/㎡"


def test_category_list_shows_units_retest_batch_and_current_references(world: World) -> None:
    page = client_for(world, "a_staff").get("/materials/categories/").content.decode()
    assert "共 14 条" in page
    assert "60 t" in page and "框架 40–60 kg/㎡" in page and "砖混 0.2–0.3 m³/㎡" in page
    assert "新增" not in page  # only the city regulator's business staff adds categories


# ---------------------------------------------------------------- dated usage references


def test_city_regulator_changes_a_usage_reference_and_the_old_value_stays_valid(world: World) -> None:
    client = client_for(world, "city_biz")
    response = client.post(USAGE_URL, usage_form())
    assert response.status_code == 302 and response["Location"] == GJ
    assert gj_frame_rows() == [
        (Decimal(40), Decimal(60), dt.date(2000, 1, 1), dt.date(2026, 2, 28)),
        (Decimal(42), Decimal(62), dt.date(2026, 3, 1), None),
    ]
    old = actions.usage_reference_on("GJ", "框架", dt.date(2026, 2, 28))
    new = actions.usage_reference_on("GJ", "框架", dt.date(2026, 3, 1))
    assert old is not None and (old.min_per_m2, old.max_per_m2) == (Decimal(40), Decimal(60))
    assert new is not None and (new.min_per_m2, new.max_per_m2) == (Decimal(42), Decimal(62))
    assert UsageReference.objects.in_force(dt.date(2015, 6, 1)).get(category__code="GJ", structure_type="框架") == old
    # Other structure types are untouched.
    other = actions.usage_reference_on("GJ", "剪力墙", dt.date(2026, 3, 1))
    assert other is not None and other.effective_until is None and other.min_per_m2 == 45

    closed = AuditEvent.objects.get(action="update", target_type="materials.usagereference", target_id=str(old.pk))
    assert closed.changes == {"effective_until": [None, "2026-02-28"]}
    created = AuditEvent.objects.get(action="create", target_type="materials.usagereference", target_id=str(new.pk))
    assert created.changes["min_per_m2"] == [None, "42.0000"] and created.changes["effective_from"][1] == "2026-03-01"
    assert created.reason == "京建发〔2026〕1号" and created.actor_id == world["city_biz"].pk

    page = client.get(GJ).content.decode()
    assert "已失效" in page
    assert "2026-02-28" in page and "京建发〔2026〕1号" in page


@pytest.mark.parametrize("effective_from", ["2000-01-01", "1999-12-31"])
def test_change_not_after_the_current_start_is_refused_inline(world: World, effective_from: str) -> None:
    client = client_for(world, "city_biz")
    before = gj_frame_rows()
    response = client.post(USAGE_URL, usage_form(effective_from=effective_from))
    assert response.status_code == 400
    message = "生效日期：生效日期须晚于现行参考值的生效日期（2000-01-01），已生效的参考值不能被覆盖"
    assert message in errors(response)
    assert gj_frame_rows() == before
    assert not AuditEvent.objects.filter(target_type="materials.usagereference").exists()


def test_second_change_closes_the_first_and_same_day_is_refused(world: World) -> None:
    city = world["city_biz"]
    gj = MaterialCategory.objects.get(code="GJ")

    def change(low: int, high: int, effective_from: dt.date) -> UsageReference:
        return actions.change_usage_reference(
            category=gj,
            structure_type="框架",
            min_per_m2=Decimal(low),
            max_per_m2=Decimal(high),
            per_m2_unit="kg/㎡",
            effective_from=effective_from,
            actor=city,
            context=context_for(city),
        )

    change(42, 62, dt.date(2026, 3, 1))
    with pytest.raises(ValidationError) as refused:
        change(44, 64, dt.date(2026, 3, 1))
    assert refused.value.message_dict["effective_from"][0].startswith(
        "生效日期须晚于现行参考值的生效日期（2026-03-01）"
    )
    change(44, 64, dt.date(2027, 1, 1))
    assert [r[2:] for r in gj_frame_rows()] == [
        (dt.date(2000, 1, 1), dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 1), dt.date(2026, 12, 31)),
        (dt.date(2027, 1, 1), None),
    ]
    for day, low in [(dt.date(2026, 2, 28), 40), (dt.date(2026, 12, 31), 42), (dt.date(2027, 1, 1), 44)]:
        ref = actions.usage_reference_on(gj, "框架", day)
        assert ref is not None and ref.min_per_m2 == low


def test_range_out_of_order_and_unchanged_values_are_refused(world: World) -> None:
    client = client_for(world, "city_biz")
    response = client.post(USAGE_URL, usage_form(min_per_m2="70", max_per_m2="60"))
    assert response.status_code == 400 and "上限（每㎡）：上限不能小于下限" in errors(response)
    response = client.post(USAGE_URL, usage_form(min_per_m2="-1"))
    assert response.status_code == 400 and "下限（每㎡）：下限不能为负数" in errors(response)
    response = client.post(USAGE_URL, usage_form(min_per_m2="40", max_per_m2="60.00"))
    assert response.status_code == 400 and "新参考值与现行参考值相同，无需调整" in errors(response)
    assert len(gj_frame_rows()) == 1


def test_first_reference_of_a_category_without_any(world: World) -> None:
    client = client_for(world, "city_biz")
    response = client.post(
        "/materials/categories/XG/usage/",
        usage_form(structure_type="钢结构", min_per_m2="80", max_per_m2="120", effective_from="2026-01-01"),
    )
    assert response.status_code == 302
    ref = actions.usage_reference_on("XG", "钢结构", dt.date(2026, 1, 1))
    assert ref is not None and ref.effective_until is None and ref.range_text == "80–120 kg/㎡"
    assert actions.usage_reference_on("XG", "钢结构", dt.date(2025, 12, 31)) is None


def test_change_form_is_prefilled_from_the_current_values(world: World) -> None:
    page = client_for(world, "city_biz").get(USAGE_URL, {"structure_type": "剪力墙"}).content.decode()
    assert 'value="45.0000"' in page and 'value="65.0000"' in page and 'value="kg/㎡"' in page


# ---------------------------------------------------------------- categories


def test_city_regulator_edits_a_category_with_an_audited_diff(world: World) -> None:
    client = client_for(world, "city_biz")
    gj = MaterialCategory.objects.get(code="GJ")
    form = {
        "code": "GJ",
        "name": "钢筋",
        "unit": "t",
        "witness_retest_required": "on",
        "batch_size": "50",
        "batch_rule": "同一牌号、同一规格每50 t为一批",
        "sort": "0",
    }
    response = client.post("/materials/categories/GJ/edit/", {**form, "code": "XX"})
    assert response["Location"] == GJ
    gj.refresh_from_db()
    assert (gj.code, gj.batch_size) == ("GJ", Decimal(50))  # the code is fixed once created
    event = AuditEvent.objects.get(action="update", target_type="materials.materialcategory")
    assert event.changes == {
        "batch_size": ["60.000", "50.000"],
        "batch_rule": ["同一牌号、同一规格每60 t为一批", form["batch_rule"]],
    }
    page = client.get(GJ).content.decode()
    assert "检验批量：60.000 → 50.000" in page
    assert "修改品类" in page and "调整参考值" in page


def test_city_regulator_adds_a_category_with_inline_errors_first(world: World) -> None:
    client = client_for(world, "city_biz")
    form = {"code": "9x", "name": "钢筋", "unit": "", "batch_size": "0", "batch_rule": "", "sort": "20"}
    response = client.post("/materials/categories/new/", form)
    assert response.status_code == 400
    found = errors(response)
    assert "品类名称：具有 品类名称 的 材料品类 已存在。" in found
    assert any(e.startswith("计量单位：") for e in found)
    assert "检验批量：检验批量必须大于0" in found
    assert MaterialCategory.objects.count() == 14
    response = client.post("/materials/categories/new/", {**form, "name": "石材", "unit": "m²", "batch_size": ""})
    assert response.status_code == 400
    assert "品类代码：品类代码应为1–8位大写字母或数字，并以字母开头，如 GJ" in errors(response)
    response = client.post(
        "/materials/categories/new/", {**form, "code": "sc", "name": "石材", "unit": "m²", "batch_size": ""}
    )
    assert response["Location"] == "/materials/categories/SC/"
    assert MaterialCategory.objects.get(code="SC").witness_retest_required is False
    assert AuditEvent.objects.filter(action="create", target_type="materials.materialcategory").count() == 1


@pytest.mark.parametrize("persona", ["cy_biz", "a_admin", "a_staff", "city_sys"])
def test_others_cannot_change_the_catalog(world: World, persona: str) -> None:
    client = client_for(world, persona)
    before_rows = gj_frame_rows()
    denied_before = AuditEvent.objects.filter(action="permission.denied").count()
    attempts = [
        client.get(USAGE_URL),
        client.post(USAGE_URL, usage_form()),
        client.get("/materials/categories/GJ/edit/"),
        client.post("/materials/categories/GJ/edit/", {"code": "GJ", "name": "钢筋改", "unit": "kg", "sort": "0"}),
        client.post("/materials/categories/new/", {"code": "SC", "name": "石材", "unit": "m²", "sort": "20"}),
        client.post(
            "/materials/catalog/new/",
            {
                "entry_no": "TG-1",
                "listing": "推广",
                "category": MaterialCategory.objects.get(code="QT").pk,
                "product_name": "蒸压加气混凝土砌块",
                "effective_from": "2026-01-01",
                "document_no": "京建发〔2026〕2号",
            },
        ),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert gj_frame_rows() == before_rows
    gj = MaterialCategory.objects.get(code="GJ")
    assert (gj.name, gj.unit) == ("钢筋", "t") and MaterialCategory.objects.count() == 14
    assert not AuditEvent.objects.filter(action__in=["create", "update"]).exists()
    assert AuditEvent.objects.filter(action="permission.denied").count() == denied_before + len(attempts)
    page = client.get(GJ).content.decode()
    assert "调整参考值" not in page and "修改品类" not in page


@pytest.mark.parametrize("persona", ["cy_biz", "a_staff", "city_sys"])
def test_the_actions_refuse_others_too(world: World, persona: str) -> None:
    user = world[persona]
    gj = MaterialCategory.objects.get(code="GJ")
    with pytest.raises(PermissionDenied):
        actions.change_usage_reference(
            category=gj,
            structure_type="框架",
            min_per_m2=Decimal(1),
            max_per_m2=Decimal(2),
            per_m2_unit="kg/㎡",
            effective_from=dt.date(2026, 3, 1),
            actor=user,
            context=context_for(user),
        )
    with pytest.raises(PermissionDenied):
        actions.save_category(instance=gj, data={"unit": "kg"}, actor=user, context=context_for(user))
    assert len(gj_frame_rows()) == 1 and MaterialCategory.objects.get(code="GJ").unit == "t"
    assert not AuditEvent.objects.exists()
