"""Bulk import of the registry records (enterprise, qualification, capacity, project, product_filing,
catalog_entry): each filed only by the role that owns it, through the registry and materials actions."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from jiancai.accounts.context import context_for
from jiancai.accounts.models import Organization, Verdict
from jiancai.accounts.tests.factories import make_uscc
from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.actions import SYSTEM
from jiancai.audit.models import AuditEvent
from jiancai.filings import import_jobs
from jiancai.filings.imports import NO_ACTOR, ImportReport, run_import, template_csv, template_xlsx
from jiancai.filings.models import ImportJob
from jiancai.filings.registry_imports import REGISTRY_SCHEMAS
from jiancai.materials.models import CatalogEntry, ProductFiling
from jiancai.registry.actions import verify_item
from jiancai.registry.models import Capacity, Project, Qualification

from .import_helpers import csv_bytes, xlsx_bytes


def headers(kind: str) -> list[str]:
    return [f.header for f in REGISTRY_SCHEMAS[kind].fields]


def rows_csv(kind: str, rows: list[dict[str, Any]]) -> bytes:
    return csv_bytes(rows, headers=headers(kind))


def import_as(world: World, kind: str, rows: list[dict[str, Any]], persona: str) -> ImportReport:
    user = world[persona]
    return run_import(kind, rows_csv(kind, rows), context=context_for(user), actor=user)


def errors_by_row(report: ImportReport) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for e in report.errors:
        found.setdefault(e.row, []).append((e.column, e.reason))
    return found


def counts(report: ImportReport) -> tuple[int, int, int, int]:
    return (report.created, report.updated, report.unchanged, report.refused)


def confirm(item: Any, world: World) -> None:
    verify_item(item=item, verdict=Verdict.CONFIRMED, reason="现场核实属实", actor=world["city_biz"], context=SYSTEM)


# ------------------------------------------------------------------------------------------------- enterprise


def enterprise_row(n: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "统一社会信用代码": make_uscc(5000 + n),
        "企业名称": f"北京导入建材有限公司{n}",
        "企业类型": "生产企业、供应企业",
        "所在区": "朝阳区",
        "法定代表人": "张三",
        "注册地址": "北京市朝阳区建国路1号",
        "联系电话": "010-12345678",
    }
    row.update(overrides)
    return row


def test_enterprises_registered_by_the_system_admin_bad_rows_reported(world: World) -> None:
    bad_uscc = make_uscc(5003)[:-1] + ("0" if make_uscc(5003)[-1] != "0" else "1")
    rows = [
        enterprise_row(1),  # row 2
        enterprise_row(2, 所在区="火星区"),  # row 3
        enterprise_row(3, 统一社会信用代码=bad_uscc),  # row 4
        enterprise_row(4, 企业类型="生产企业;养殖场"),  # row 5
        enterprise_row(5, 企业名称=""),  # row 6
        enterprise_row(6, 企业类型="监理单位;检测机构"),  # row 7
    ]
    report = import_as(world, "enterprise", rows, "city_sys")
    assert counts(report) == (2, 0, 0, 4), report.errors
    errors = errors_by_row(report)
    assert errors[3] == [("所在区", "“火星区”不是本市的区")]
    assert errors[4][0][0] == "统一社会信用代码" and "校验" in errors[4][0][1]
    assert errors[5] == [
        ("企业类型", "“养殖场”不是可选值（" + "、".join(REGISTRY_SCHEMAS["enterprise"].fields[2].choices) + "）")
    ]
    assert errors[6] == [("企业名称", "为必填项")]
    org = Organization.objects.get(uscc=make_uscc(5001))
    assert org.name == "北京导入建材有限公司1" and org.district is not None and org.district.name == "朝阳区"
    assert sorted(org.kinds.values_list("code", flat=True)) == ["producer", "supplier"]
    assert sorted(Organization.objects.get(uscc=make_uscc(5006)).kinds.values_list("code", flat=True)) == [
        "laboratory",
        "supervisor",
    ]
    assert not Organization.objects.filter(uscc=make_uscc(5002)).exists()
    assert AuditEvent.objects.filter(action="create", target_id=str(org.pk)).count() == 1

    again = import_as(
        world, "enterprise", [enterprise_row(1), enterprise_row(6, 企业类型="监理单位;检测机构")], "city_sys"
    )
    assert counts(again) == (0, 0, 2, 0), again.errors

    confirm(org, world)
    changed = import_as(world, "enterprise", [enterprise_row(1, 联系电话="010-87654321")], "city_sys")
    assert counts(changed) == (0, 1, 0, 0), changed.errors
    org.refresh_from_db()
    assert (org.phone, org.version, org.verification_status) == ("010-87654321", 2, Verdict.PENDING)


def test_an_enterprise_admin_updates_its_own_enterprise_only(world: World) -> None:
    own = enterprise_row(
        1, 统一社会信用代码=world.a.uscc, 企业名称=world.a.name, 企业类型="供应企业、生产企业、建设单位"
    )
    own["注册地址"] = "北京市朝阳区新地址8号"
    other = enterprise_row(2, 统一社会信用代码=world.b.uscc, 企业名称="改名", 所在区="海淀区")
    new = enterprise_row(3)
    report = import_as(world, "enterprise", [own, other, new], "a_admin")
    assert counts(report) == (0, 1, 0, 2), report.errors
    errors = errors_by_row(report)
    assert errors[3][0][0] == "统一社会信用代码" and "无权" in errors[3][0][1]
    assert errors[4][0][0] == "统一社会信用代码" and "其他单位" in errors[4][0][1]
    world.a.refresh_from_db()
    world.b.refresh_from_db()
    assert world.a.address == "北京市朝阳区新地址8号" and world.a.version == 2
    assert world.b.name == "北京海淀建工集团有限公司"
    assert not Organization.objects.filter(uscc=make_uscc(5003)).exists()
    # Staff maintain registry records but not the enterprise itself.
    assert run_import("enterprise", rows_csv("enterprise", [own]), context=SYSTEM, actor=world["a_staff"]).file_error


# ---------------------------------------------------------------------------------------------- qualification


def qualification_row(world: World, n: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "统一社会信用代码": world.a.uscc,
        "证书编号": f"D2110{n:07d}",
        "资质类别": "建材备案证",
        "资质等级": "不分等级",
        "发证日期": "2024-01-10",
        "有效期至": "2029-01-09",
        "状态": "有效",
    }
    row.update(overrides)
    return row


def test_qualifications_import_with_bad_rows_reimport_and_change(world: World) -> None:
    rows = [
        qualification_row(world, 1),
        qualification_row(world, 2, 有效期至="2023-01-01"),  # row 3: before issued_on
        qualification_row(world, 3, 统一社会信用代码=world.b.uscc),  # row 4: another organization
        qualification_row(world, 4, 发证日期="2024-13-01"),  # row 5
        qualification_row(world, 5, 状态="过期"),  # row 6
        qualification_row(world, 6, 证书编号=world.b_qual.certificate_no, 统一社会信用代码=world.a.uscc),  # row 7
    ]
    report = import_as(world, "qualification", rows, "a_staff")
    assert counts(report) == (1, 0, 0, 5), report.errors
    errors = errors_by_row(report)
    assert errors[3] == [("有效期至", "有效期至不能早于发证日期")]
    assert errors[4][0][0] == "统一社会信用代码" and "其他单位" in errors[4][0][1]
    assert errors[5][0][0] == "发证日期" and "不是有效日期" in errors[5][0][1]
    assert errors[6][0][0] == "状态"
    assert errors[7][0][0] == "统一社会信用代码" and "无权" in errors[7][0][1]  # B's certificate stays B's
    assert set(Qualification.objects.values_list("certificate_no", flat=True)) == {
        "A-QUAL-0001",
        "B-QUAL-0001",
        "D21100000001",
    }

    assert counts(import_as(world, "qualification", [qualification_row(world, 1)], "a_staff")) == (0, 0, 1, 0)
    qual = Qualification.objects.get(certificate_no="D21100000001")
    confirm(qual, world)
    changed = import_as(world, "qualification", [qualification_row(world, 1, 资质等级="一级")], "a_staff")
    assert counts(changed) == (0, 1, 0, 0), changed.errors
    qual.refresh_from_db()
    assert (qual.grade, qual.version, qual.verification_status) == ("一级", 2, Verdict.PENDING)
    assert AuditEvent.objects.filter(action="update", target_id=str(qual.pk)).count() == 1


def test_a_status_left_empty_keeps_the_default(world: World) -> None:
    report = import_as(world, "qualification", [qualification_row(world, 7, 状态="")], "a_admin")
    assert report.ok, report.errors
    assert Qualification.objects.get(certificate_no="D21100000007").status == "有效"


# --------------------------------------------------------------------------------------------------- capacity


def capacity_row(world: World, **overrides: Any) -> dict[str, Any]:
    row = {"统一社会信用代码": world.a.uscc, "材料品类": "水泥", "年产能": "200,000", "计量单位": "t"}
    row.update(overrides)
    return row


def test_capacities_import_by_category_with_bad_rows(world: World) -> None:
    rows = [
        capacity_row(world),  # row 2: new (SN)
        capacity_row(world, 材料品类="GJ", 年产能="120000"),  # row 3: A's steel capacity as stored
        capacity_row(world, 材料品类="预拌混凝土", 计量单位="t"),  # row 4: unit does not fit
        capacity_row(world, 材料品类="石墨烯"),  # row 5: unknown category
        capacity_row(world, 统一社会信用代码=world.b.uscc, 材料品类="HNT", 计量单位="m³"),  # row 6: B's
        capacity_row(world, 统一社会信用代码=world.b.uscc, 材料品类="砂石", 计量单位="t"),  # row 7: new for B
        capacity_row(world, 材料品类="砂石", 年产能="-1"),  # row 8
    ]
    report = import_as(world, "capacity", rows, "a_staff")
    assert counts(report) == (1, 0, 1, 5), report.errors
    errors = errors_by_row(report)
    assert errors[4] == [("计量单位", "该材料品类的计量单位应为 m³")]
    assert errors[5] == [("材料品类", "“石墨烯”不是材料目录中的品类（代码或名称）")]
    assert errors[6][0][0] == "统一社会信用代码" and "无权" in errors[6][0][1]
    assert errors[7][0][0] == "统一社会信用代码" and "其他单位" in errors[7][0][1]
    assert errors[8] == [("年产能", "年产能不能为负数")]
    assert Capacity.objects.get(organization=world.a, category="SN").annual_capacity == Decimal(200000)
    assert not Capacity.objects.filter(organization=world.b, category="SS").exists()

    confirm(world.a_cap, world)
    changed = import_as(world, "capacity", [capacity_row(world, 材料品类="钢筋", 年产能="150000")], "a_staff")
    assert counts(changed) == (0, 1, 0, 0), changed.errors
    world.a_cap.refresh_from_db()
    assert (world.a_cap.annual_capacity, world.a_cap.version, world.a_cap.verification_status) == (
        Decimal(150000),
        2,
        Verdict.PENDING,
    )


def test_the_same_capacity_twice_in_a_file_is_refused(world: World) -> None:
    report = import_as(world, "capacity", [capacity_row(world), capacity_row(world, 年产能="1")], "a_staff")
    assert counts(report) == (1, 0, 0, 1)
    assert errors_by_row(report)[3][0][0] == "材料品类"


# ---------------------------------------------------------------------------------------------------- project


def project_row(world: World, n: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "项目编号": f"1101052027{n:05d}",
        "项目名称": f"朝阳导入住宅项目{n}",
        "所在区": "朝阳区",
        "建设单位": world.a.uscc,
        "施工单位": world.b.uscc,
        "监理单位": "",
        "建筑面积(㎡)": "23,800.5",
        "结构型式": "剪力墙",
        "工程类别": "住宅",
        "投资额(万元)": "18000",
        "政府投资": "否",
        "开工日期": "2025-03-01",
        "竣工日期": "",
    }
    row.update(overrides)
    return row


def test_projects_import_by_their_builder(world: World) -> None:
    rows = [
        project_row(world, 1),
        project_row(world, 2, 竣工日期="2025-01-01"),  # row 3: before the start
        project_row(world, 3, 建设单位=world.b.uscc),  # row 4: another builder
        project_row(world, 4, 结构型式="木结构"),  # row 5
        project_row(world, 5, 施工单位=make_uscc(9999)),  # row 6: unknown enterprise
        project_row(world, 6, 政府投资="也许"),  # row 7
        project_row(world, 7, **{"建筑面积(㎡)": "0"}),  # row 8
    ]
    report = import_as(world, "project", rows, "a_staff")
    assert counts(report) == (1, 0, 0, 6), report.errors
    errors = errors_by_row(report)
    assert errors[3] == [("竣工日期", "竣工日期不能早于开工日期")]
    assert errors[4][0][0] == "建设单位" and "其他单位" in errors[4][0][1]
    assert errors[5][0][0] == "结构型式"
    assert errors[6] == [("施工单位", f"未找到统一社会信用代码为 {make_uscc(9999)} 的企业")]
    assert errors[7] == [("政府投资", "“也许”应为“是”或“否”")]
    assert errors[8] == [("建筑面积(㎡)", "建筑面积必须大于0")]
    imported = Project.objects.get(project_code="110105202700001")
    assert (imported.builder, imported.contractor, imported.floor_area) == (world.a, world.b, Decimal("23800.50"))
    assert not Project.objects.filter(project_code__in=[r["项目编号"] for r in rows[1:]]).exists()


def test_project_reimport_unchanged_and_change_bumps_version(world: World) -> None:
    row = project_row(world, 11)
    assert counts(import_as(world, "project", [row], "a_admin")) == (1, 0, 0, 0)
    assert counts(import_as(world, "project", [row], "a_admin")) == (0, 0, 1, 0)
    project = Project.objects.get(project_code=row["项目编号"])
    confirm(project, world)
    changed = import_as(world, "project", [{**row, "政府投资": "是"}], "a_admin")
    assert counts(changed) == (0, 1, 0, 0), changed.errors
    project.refresh_from_db()
    assert (project.government_funded, project.version, project.verification_status) == (True, 2, Verdict.PENDING)


# --------------------------------------------------------------------------------------------- product filing


def filing_row(world: World, n: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "备案编号": f"BA-2025-{n:04d}",
        "生产企业统一社会信用代码": world.a.uscc,
        "材料品类": "GJ",
        "产品名称": "热轧带肋钢筋",
        "规格型号": "HRB400E",
        "型式检验报告编号": "XS-2025-001",
        "型式检验机构": "国家建筑材料质量检验中心",
        "报告有效期至": "2027-12-31",
        "备案有效期至": "2028-12-31",
    }
    row.update(overrides)
    return row


def test_product_filings_import_by_the_producer(world: World) -> None:
    rows = [
        filing_row(world, 1),
        filing_row(world, 2, 材料品类="石墨烯"),  # row 3
        filing_row(world, 3, 生产企业统一社会信用代码=world.b.uscc),  # row 4: not A, not a producer
        filing_row(world, 4, 产品名称=""),  # row 5
    ]
    report = import_as(world, "product_filing", rows, "a_staff")
    assert counts(report) == (1, 0, 0, 3), report.errors
    errors = errors_by_row(report)
    assert errors[3][0][0] == "材料品类"
    assert errors[4][0][0] == "生产企业统一社会信用代码"
    assert errors[5] == [("产品名称", "为必填项")]
    assert counts(import_as(world, "product_filing", [filing_row(world, 1)], "a_staff")) == (0, 0, 1, 0)
    changed = import_as(world, "product_filing", [filing_row(world, 1, 规格型号="HRB500E")], "a_staff")
    assert counts(changed) == (0, 1, 0, 0), changed.errors
    filing = ProductFiling.objects.get(filing_no="BA-2025-0001")
    assert (filing.spec, filing.version) == ("HRB500E", 2)
    assert AuditEvent.objects.filter(target_id=str(filing.pk)).count() == 2


# -------------------------------------------------------------------------------------------- catalog entry


def entry_row(n: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "目录编号": f"ML-2025-{n:03d}",
        "类别": "限制",
        "材料品类": "墙体材料",
        "产品名称": "实心黏土砖",
        "规格型号关键字": "",
        "限制范围": "政府投资工程",
        "生效日期": "2025-01-01",
        "失效日期": "",
        "发布文号": "京建发〔2019〕149号",
    }
    row.update(overrides)
    return row


def test_catalog_entries_import_by_the_city_regulator_business_staff(world: World) -> None:
    rows = [
        entry_row(1),
        entry_row(2, 失效日期="2024-01-01"),  # row 3
        entry_row(3, 类别="淘汰"),  # row 4
        entry_row(4, 材料品类="石墨烯"),  # row 5
    ]
    report = import_as(world, "catalog_entry", rows, "city_biz")
    assert counts(report) == (1, 0, 0, 3), report.errors
    errors = errors_by_row(report)
    assert errors[3] == [("失效日期", "失效日期不能早于生效日期")]
    assert errors[4][0][0] == "类别"
    assert errors[5][0][0] == "材料品类"
    assert counts(import_as(world, "catalog_entry", [entry_row(1)], "city_biz")) == (0, 0, 1, 0)
    assert counts(import_as(world, "catalog_entry", [entry_row(1, 类别="禁止")], "city_biz")) == (0, 1, 0, 0)
    assert CatalogEntry.objects.get(entry_no="ML-2025-001").listing == "禁止"
    for persona in ("a_staff", "cy_biz", "city_sys"):
        assert import_as(world, "catalog_entry", [entry_row(9)], persona).file_error.startswith("无权导入")
    assert not CatalogEntry.objects.filter(entry_no="ML-2025-009").exists()


# ----------------------------------------------------------------------------------- who, templates, channels


def test_importable_kinds_follow_the_owning_roles(world: World) -> None:
    kinds = {p: import_jobs.importable_kinds(world[p]) for p in ("a_admin", "a_staff", "b_staff", "city_sys")}
    registry = set(REGISTRY_SCHEMAS)
    assert set(kinds["a_admin"]) & registry == {"enterprise", "qualification", "capacity", "project", "product_filing"}
    assert set(kinds["a_staff"]) & registry == {"qualification", "capacity", "project", "product_filing"}
    assert set(kinds["b_staff"]) & registry == {"qualification", "capacity", "project"}
    assert kinds["city_sys"] == ["enterprise"]
    assert import_jobs.importable_kinds(world["city_biz"]) == ["catalog_entry"]
    assert import_jobs.importable_kinds(world["cy_biz"]) == []
    assert import_jobs.importable_kinds(world["cy_sys"]) == ["enterprise"]


def test_a_district_regulator_registers_enterprises_of_its_district_only(world: World) -> None:
    report = import_as(world, "enterprise", [enterprise_row(1), enterprise_row(2, 所在区="海淀区")], "cy_sys")
    assert counts(report) == (1, 0, 0, 1), report.errors
    assert errors_by_row(report)[3][0][0] == "统一社会信用代码"


@pytest.mark.parametrize("kind", sorted(REGISTRY_SCHEMAS))
def test_templates_of_registry_kinds_import_back(world: World, kind: str) -> None:
    assert template_csv(kind).decode("utf-8-sig").strip() == ",".join(headers(kind))
    report = run_import(kind, template_xlsx(kind), context=SYSTEM, actor=world["city_sys"])
    assert report.rows == 0 and not report.errors


def test_xlsx_with_typed_cells(world: World) -> None:
    row = project_row(world, 21)
    typed = {**row, "建筑面积(㎡)": 12000.0, "投资额(万元)": 5000, "政府投资": True}
    data = xlsx_bytes([headers("project"), [typed[h] for h in headers("project")]])
    report = run_import("project", data, context=SYSTEM, actor=world["a_staff"])
    assert report.ok and report.created == 1, report.errors
    project = Project.objects.get(project_code=row["项目编号"])
    assert (project.floor_area, project.budget, project.government_funded) == (Decimal(12000), Decimal(5000), True)
    again = run_import("project", data, context=SYSTEM, actor=world["a_staff"])
    assert counts(again) == (0, 0, 1, 0), again.errors


def test_registry_rows_need_a_user(world: World) -> None:
    report = run_import("enterprise", rows_csv("enterprise", [enterprise_row(1)]), context=SYSTEM, actor=None)
    assert report.file_error == NO_ACTOR and not Organization.objects.filter(uscc=make_uscc(5001)).exists()


def test_web_upload_of_enterprises_by_the_system_admin(world: World, settings: Any, tmp_path: Path) -> None:
    settings.IMPORT_DIR = tmp_path / "imports"
    settings.IMPORT_RUN_INLINE = True
    client = Client()
    login_as(client, world["city_sys"])
    page = client.get("/imports/new/").content.decode()
    assert '<option value="enterprise">企业</option>' in page and 'value="supply"' not in page
    assert "/imports/templates/enterprise.xlsx" in page
    data = rows_csv("enterprise", [enterprise_row(1), enterprise_row(2, 所在区="火星区")])
    response = client.post("/imports/new/", {"kind": "enterprise", "file": SimpleUploadedFile("企业.csv", data)})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert (job.status, job.created_count, job.refused_count) == ("done", 1, 1)
    assert job.errors == [{"row": 3, "column": "所在区", "value": "火星区", "reason": "“火星区”不是本市的区"}]
    assert client.get("/imports/templates/catalog_entry.csv").status_code == 200


# -------------------------------------------------------------------------------------------------------- CLI


def test_command_imports_registry_records_as_a_user(world: World, tmp_path: Path) -> None:
    path = tmp_path / "企业.csv"
    path.write_bytes(rows_csv("enterprise", [enterprise_row(1), enterprise_row(2)]))
    out = io.StringIO()
    call_command("import_records", "enterprise", str(path), "--as", "city_sys", stdout=out)
    assert "新增 2 条" in out.getvalue()
    org = Organization.objects.get(uscc=make_uscc(5001))
    event = AuditEvent.objects.get(action="create", target_id=str(org.pk))
    assert event.actor_name == "刘系统（命令行导入）"

    with pytest.raises(CommandError, match="--as"):
        call_command("import_records", "enterprise", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="用户不存在"):
        call_command("import_records", "enterprise", str(path), "--as", "nobody", stdout=io.StringIO())


def test_command_lists_a_bad_registry_row_and_fails(world: World, tmp_path: Path) -> None:
    path = tmp_path / "资质.csv"
    rows = [qualification_row(world, 1), qualification_row(world, 2, 有效期至="2020-01-01")]
    path.write_bytes(rows_csv("qualification", rows))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 行被拒绝"):
        call_command("import_records", "qualification", str(path), "--as", "a_staff", stdout=out)
    assert "第3行 [有效期至] 有效期至不能早于发证日期" in out.getvalue()
    assert Qualification.objects.filter(certificate_no="D21100000001").exists()
