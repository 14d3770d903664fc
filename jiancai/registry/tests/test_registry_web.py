"""The registry pages through HTTP: forms with inline Chinese errors, verification, versions, export, ID masking."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from jiancai.accounts.models import District, Organization, OrganizationKind, Verdict
from jiancai.accounts.tests.factories import make_uscc
from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.registry.models import Person, Project, Qualification, Verification
from jiancai.registry.tests.factories import PersonFactory, make_id_number


def errors(response) -> list[str]:
    return re.findall(r'role="alert">\s*(?:<p>)?(.*?)<', response.content.decode())


def client_for(world: World, persona: str) -> Client:
    client = Client()
    login_as(client, world[persona])
    return client


def district_pk(name: str) -> int:
    return District.objects.get(name=name).pk


def kind_pks(*codes: str) -> list[int]:
    return list(OrganizationKind.objects.filter(code__in=codes).values_list("pk", flat=True))


def enterprise_form(**overrides: Any) -> dict[str, Any]:
    return {
        "uscc": make_uscc(5001),
        "name": "北京新登记混凝土有限公司",
        "district": district_pk("朝阳区"),
        "kinds": kind_pks("concrete_plant"),
        "legal_representative": "刘法人",
        "address": "北京市朝阳区东坝乡",
        "phone": "010-85000000",
        **overrides,
    }


def qualification_form(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "organization": world.a.pk,
        "certificate_no": "A-QUAL-0002",
        "qualification_type": "预拌混凝土专业承包",
        "grade": "不分等级",
        "issued_on": "2025-01-01",
        "valid_until": "2030-01-01",
        "status": "有效",
        **overrides,
    }


def person_form(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "organization": world.a.pk,
        "name": "张取样",
        "role": "取样员",
        "phone": "13900000000",
        "id_number": make_id_number(333),
        **overrides,
    }


def project_form(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "project_code": "110105202600777",
        "name": "朝阳新建学校项目",
        "district": district_pk("朝阳区"),
        "builder": world.a.pk,
        "contractor": world.b.uscc,
        "floor_area": "12000.00",
        "structure_type": "框架",
        "project_type": "学校",
        "start_date": "2025-05-01",
        "completion_date": "2027-05-01",
        "status": "under_construction",
        **overrides,
    }


# ---------------------------------------------------------------- create forms: inline errors, nothing stored


def test_regulator_registers_an_enterprise(world: World) -> None:
    client = client_for(world, "city_sys")
    response = client.post("/registry/enterprises/new/", enterprise_form())
    org = Organization.objects.get(uscc=make_uscc(5001))
    assert response["Location"] == f"/registry/enterprises/{org.uscc}/"
    assert org.kind_names() == ["预拌混凝土企业"] and str(org.district) == "朝阳区"
    event = AuditEvent.objects.get(action="create", target_type="accounts.organization", target_id=str(org.pk))
    assert event.changes["uscc"] == [None, org.uscc]
    assert event.changes["kinds"] == [[], ["预拌混凝土企业"]]
    assert event.actor_id == world["city_sys"].pk


def test_uscc_is_normalised_to_upper_case(world: World) -> None:
    client = client_for(world, "city_sys")
    client.post("/registry/enterprises/new/", enterprise_form(uscc=f" {make_uscc(5001).lower()} "))
    assert Organization.objects.filter(uscc=make_uscc(5001)).exists()


@pytest.mark.parametrize(
    ("uscc", "message"),
    [
        (
            make_uscc(5001)[:17] + ("1" if make_uscc(5001)[17] != "1" else "2"),
            "统一社会信用代码：统一社会信用代码校验位错误",
        ),
        ("91110105MA01ABC", "统一社会信用代码：统一社会信用代码应为18位，当前为15位"),
        ("91110105MA01ABCDIX", "统一社会信用代码：统一社会信用代码第17位“I”不是有效字符（不使用I、O、Z、S、V）"),
    ],
)
def test_invalid_uscc_is_refused_inline_and_nothing_is_stored(world: World, uscc: str, message: str) -> None:
    client = client_for(world, "city_sys")
    before = Organization.objects.count()
    response = client.post("/registry/enterprises/new/", enterprise_form(uscc=uscc))
    assert response.status_code == 400
    assert message in errors(response)
    assert Organization.objects.count() == before
    assert not AuditEvent.objects.filter(action="create").exists()


def test_district_regulator_cannot_register_an_enterprise_elsewhere(world: World) -> None:
    client = client_for(world, "cy_sys")
    response = client.post("/registry/enterprises/new/", enterprise_form(district=district_pk("海淀区")))
    assert response.status_code == 403
    assert not Organization.objects.filter(uscc=make_uscc(5001)).exists()
    assert not AuditEvent.objects.filter(action="create").exists()
    assert client.post("/registry/enterprises/new/", enterprise_form()).status_code == 302


def test_missing_kind_and_district_are_named(world: World) -> None:
    client = client_for(world, "city_sys")
    response = client.post("/registry/enterprises/new/", enterprise_form(kinds=[], district=""))
    assert response.status_code == 400
    assert "企业类型：请至少选择一种企业类型" in errors(response)
    assert any(e.startswith("所在区：") for e in errors(response))


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("110105199001011234", "身份证号：身份证号校验位错误"),
        ("110105199002301234", "身份证号：身份证号中的出生日期（第7–14位）不是真实日期"),
        ("11010519900101123", "身份证号：身份证号应为18位，当前为17位"),
        ("", "身份证号：这个字段是必填项。"),
    ],
)
def test_invalid_id_number_is_refused_inline_and_nothing_is_stored(world: World, id_number: str, message: str) -> None:
    client = client_for(world, "a_staff")
    response = client.post("/registry/persons/new/", person_form(world, id_number=id_number))
    assert response.status_code == 400
    assert message in errors(response) or (not id_number and any(e.startswith("身份证号：") for e in errors(response)))
    assert not Person.objects.filter(name="张取样").exists()


def test_duplicate_id_number_is_refused(world: World) -> None:
    client = client_for(world, "a_staff")
    response = client.post("/registry/persons/new/", person_form(world, id_number=world.id_numbers["b"]))
    assert response.status_code == 400
    assert "身份证号：该身份证号已登记在人员库中" in errors(response)
    assert Person.objects.count() == 2


def test_staff_registers_a_person_with_the_id_number_protected(world: World) -> None:
    client = client_for(world, "a_staff")
    number = make_id_number(333)
    response = client.post("/registry/persons/new/", person_form(world, id_number=number.lower()))
    person = Person.objects.get(name="张取样")
    assert response["Location"] == f"/registry/persons/{person.pk}/"
    assert person.reveal_id_number() == number
    assert person.id_number_masked == number[:6] + "********" + number[-4:]
    assert number not in person.id_number_encrypted and number not in person.id_number_digest
    page = client.get(response["Location"]).content.decode()
    assert person.id_number_masked in page and number not in page
    event = AuditEvent.objects.get(action="create", target_type="registry.person")
    assert number not in str(event.changes) and event.changes["id_number_masked"] == [None, person.id_number_masked]


def test_qualification_dates_out_of_order(world: World) -> None:
    client = client_for(world, "a_staff")
    response = client.post("/registry/qualifications/new/", qualification_form(world, valid_until="2024-12-31"))
    assert response.status_code == 400
    assert "有效期至：有效期至不能早于发证日期" in errors(response)
    assert not Qualification.objects.filter(certificate_no="A-QUAL-0002").exists()


def test_project_dates_out_of_order(world: World) -> None:
    client = client_for(world, "a_admin")
    response = client.post("/registry/projects/new/", project_form(world, completion_date="2025-04-30"))
    assert response.status_code == 400
    assert "竣工日期：竣工日期不能早于开工日期" in errors(response)
    assert not Project.objects.filter(project_code="110105202600777").exists()


def test_project_contractor_by_unknown_uscc(world: World) -> None:
    client = client_for(world, "a_admin")
    response = client.post("/registry/projects/new/", project_form(world, contractor=make_uscc(4242)))
    assert "施工单位：未找到该统一社会信用代码对应的企业" in errors(response)


def test_capacity_unit_must_match_the_category(world: World) -> None:
    client = client_for(world, "a_staff")
    response = client.post(
        "/registry/capacities/new/",
        {"organization": world.a.pk, "category": "HNT", "annual_capacity": "10", "unit": "t"},
    )
    assert response.status_code == 400
    assert "计量单位：该材料品类的计量单位应为 m³" in errors(response)


def test_staff_creates_records_for_its_own_enterprise_only(world: World) -> None:
    client = client_for(world, "a_staff")
    response = client.post("/registry/qualifications/new/", qualification_form(world))
    qual = Qualification.objects.get(certificate_no="A-QUAL-0002")
    assert response["Location"] == f"/registry/qualifications/{qual.pk}/"
    assert AuditEvent.objects.filter(
        action="create", target_type="registry.qualification", target_id=str(qual.pk)
    ).exists()
    # Another organization is not even a choice of the form.
    foreign = client.post(
        "/registry/qualifications/new/",
        qualification_form(world, organization=world.b.pk, certificate_no="A-QUAL-0003"),
    )
    assert foreign.status_code == 400
    assert any(e.startswith("企业：") for e in errors(foreign))
    assert not Qualification.objects.filter(certificate_no="A-QUAL-0003").exists()


def test_project_created_with_a_contractor_is_visible_to_it(world: World) -> None:
    client = client_for(world, "a_admin")
    response = client.post("/registry/projects/new/", project_form(world))
    assert response["Location"] == "/registry/projects/110105202600777/"
    contractor = client_for(world, "b_staff")
    assert contractor.get(response["Location"]).status_code == 200
    assert contractor.get(response["Location"] + "edit/").status_code == 403


# ---------------------------------------------------------------- verification


@pytest.mark.parametrize(("verdict", "label"), [("confirmed", "属实"), ("false", "不实")])
def test_regulator_verifies_with_a_reason(world: World, verdict: str, label: str) -> None:
    client = client_for(world, "cy_biz")
    qual = world.a_qual
    url = f"/registry/qualifications/{qual.pk}/"
    reason = "现场核对证书原件一致" if verdict == "confirmed" else "证书编号在发证机关系统中查无此证"
    response = client.post(f"/registry/verify/qualification/{qual.pk}/", {"verdict": verdict, "reason": reason})
    assert response["Location"] == url
    qual.refresh_from_db()
    assert qual.verification_status == verdict and qual.verification_reason == reason
    assert qual.verified_by_name == "周朝监" and qual.verified_at is not None
    v = Verification.objects.get()
    assert (v.verdict, v.reason, v.item_version, v.organization_id) == (verdict, reason, 1, world.a.pk)
    assert v.verifier_id == world["cy_biz"].pk and v.verifier_organization_name == world.chaoyang.name
    event = AuditEvent.objects.get(action="verify")
    assert event.target_type == "registry.qualification" and event.target_id == str(qual.pk) and event.reason == reason
    assert event.changes["verification_status"] == ["pending", verdict]
    page = client.get(url).content.decode()
    records = page.split("<h2>核实记录</h2>")[1].split("<h2>变更记录</h2>")[0]
    assert label in records and reason in records and "周朝监" in records
    # The enterprise sees the verdict on its own record.
    assert reason in client_for(world, "a_staff").get(url).content.decode()


def test_verification_needs_a_reason_and_a_known_verdict(world: World) -> None:
    client = client_for(world, "city_biz")
    url = f"/registry/verify/person/{world.a_person.pk}/"
    response = client.post(url, {"verdict": "confirmed", "reason": ""}, follow=True)
    assert "理由：该字段是必填项。" in response.content.decode()
    response = client.post(url, {"verdict": "maybe", "reason": "看情况"}, follow=True)
    assert "核实结论：" in response.content.decode()
    assert not Verification.objects.exists()
    assert not AuditEvent.objects.filter(action="verify").exists()
    world.a_person.refresh_from_db()
    assert world.a_person.verification_status == Verdict.PENDING


def test_editing_a_confirmed_item_sends_it_back_to_pending(world: World) -> None:
    regulator = client_for(world, "city_biz")
    qual = world.a_qual
    regulator.post(f"/registry/verify/qualification/{qual.pk}/", {"verdict": "confirmed", "reason": "属实"})
    staff = client_for(world, "a_staff")
    edit = staff.get(f"/registry/qualifications/{qual.pk}/edit/").content.decode()
    assert 'name="expected_version" value="1"' in edit
    response = staff.post(
        f"/registry/qualifications/{qual.pk}/edit/",
        qualification_form(world, certificate_no=qual.certificate_no, grade="一级", expected_version=1),
    )
    assert response["Location"] == f"/registry/qualifications/{qual.pk}/"
    qual.refresh_from_db()
    assert (qual.grade, qual.version, qual.verification_status) == ("一级", 2, Verdict.PENDING)
    assert qual.verification_reason == "内容已修改，待重新核实"
    update = AuditEvent.objects.get(action="update", target_id=str(qual.pk), target_type="registry.qualification")
    assert update.changes["grade"] == ["不分等级", "一级"]
    assert update.changes["verification_status"][1] == Verdict.PENDING
    assert Verification.objects.filter(object_id=qual.pk).count() == 1  # the earlier verdict stays on record
    page = staff.get(f"/registry/qualifications/{qual.pk}/").content.decode()
    assert "资质等级：不分等级 → 一级" in page


def test_saving_without_changes_keeps_version_and_verdict(world: World) -> None:
    client_for(world, "city_biz").post(
        f"/registry/verify/qualification/{world.a_qual.pk}/", {"verdict": "confirmed", "reason": "属实"}
    )
    staff = client_for(world, "a_staff")
    qual = world.a_qual
    staff.post(
        f"/registry/qualifications/{qual.pk}/edit/",
        qualification_form(
            world,
            certificate_no=qual.certificate_no,
            qualification_type=qual.qualification_type,
            issued_on="2024-01-10",
            valid_until="2029-01-09",
            expected_version=1,
        ),
    )
    qual.refresh_from_db()
    assert (qual.version, qual.verification_status) == (1, Verdict.CONFIRMED)
    assert not AuditEvent.objects.filter(action="update").exists()


def test_stale_edit_is_refused_not_lost(world: World) -> None:
    qual = world.a_qual
    first, second = client_for(world, "a_admin"), client_for(world, "a_staff")
    form = qualification_form(world, certificate_no=qual.certificate_no, expected_version=1)
    assert first.post(f"/registry/qualifications/{qual.pk}/edit/", {**form, "grade": "一级"}).status_code == 302
    response = second.post(f"/registry/qualifications/{qual.pk}/edit/", {**form, "grade": "二级"})
    assert response.status_code == 400
    assert "该记录已被他人修改（当前版本 2，您编辑的是版本 1），请刷新后重新编辑" in response.content.decode()
    qual.refresh_from_db()
    assert (qual.grade, qual.version) == ("一级", 2)
    assert AuditEvent.objects.filter(action="update").count() == 1


# ---------------------------------------------------------------- lists: filters and export


def test_web_list_filters_by_district(world: World) -> None:
    client = client_for(world, "city_biz")
    html = client.get("/registry/enterprises/", {"district": "朝阳区"}).content.decode()
    assert world.a.get_absolute_url() in html and world.b.get_absolute_url() not in html
    html = client.get("/registry/qualifications/", {"district": "海淀区"}).content.decode()
    assert world.b_qual.get_absolute_url() in html and world.a_qual.get_absolute_url() not in html
    html = client.get("/registry/enterprises/", {"q": "海淀建工"}).content.decode()
    assert world.b.get_absolute_url() in html and world.a.get_absolute_url() not in html


def test_htmx_filter_returns_only_the_results(world: World) -> None:
    client = client_for(world, "city_biz")
    response = client.get("/registry/enterprises/", {"district": "海淀区"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "共 1 条" in html


INJECTIONS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)"]


def _sheet(response) -> list[list[Any]]:
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula cell {cell.coordinate}: {cell.value!r}"
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_export_escapes_formulas_and_is_audited(world: World) -> None:
    for i, name in enumerate(INJECTIONS):
        PersonFactory.create(organization=world.a, name=name, id_number=make_id_number(600 + i))
    client = client_for(world, "a_staff")
    rows = _sheet(client.get("/registry/persons/", {"export": "xlsx"}))
    assert rows[0] == ["姓名", "身份证号", "岗位", "所属企业", "联系电话", "核实状态"]
    names = {r[0] for r in rows[1:]}
    for text in INJECTIONS:
        assert "'" + text in names, f"{text!r} exported as {names}"
    assert "李材料" in names and "赵项目" not in names  # only what the user may see
    event = AuditEvent.objects.get(action="export")
    assert event.target_type == "registry.person" and event.actor_id == world["a_staff"].pk
    assert event.changes == {"filters": {}, "rows": 1 + len(INJECTIONS)}


def test_export_keeps_the_filters(world: World) -> None:
    client = client_for(world, "city_biz")
    rows = _sheet(client.get("/registry/enterprises/", {"district": "海淀区", "export": "xlsx"}))
    assert [r[1] for r in rows[1:]] == [world.b.uscc]
    event = AuditEvent.objects.get(action="export")
    assert event.changes == {"filters": {"district": "海淀区"}, "rows": 1}


# ---------------------------------------------------------------- ID numbers are never shown unmasked


def test_id_numbers_never_appear_unmasked(world: World) -> None:
    from jiancai.accounts.tests.personas import api_client_for

    clear = world.id_numbers["a"]
    person = world.a_person
    client_for(world, "city_biz").post(
        f"/registry/verify/person/{person.pk}/", {"verdict": "confirmed", "reason": "核对身份证原件"}
    )
    staff = client_for(world, "a_staff")
    staff.post(
        f"/registry/persons/{person.pk}/edit/",
        {
            "organization": world.a.pk,
            "name": person.name,
            "role": "质量员",
            "phone": "",
            "id_number": "",
            "expected_version": person.version,
        },
    )
    pages: dict[str, Any] = {}
    for persona in ("a_staff", "city_biz", "cy_biz"):
        c = client_for(world, persona)
        for url in (
            "/registry/persons/",
            f"/registry/persons/{person.pk}/",
            f"/registry/enterprises/{world.a.uscc}/",
            "/registry/persons/?q=李",
        ):
            pages[f"{persona} {url}"] = c.get(url)
        pages[f"{persona} export"] = c.get("/registry/persons/", {"export": "xlsx"})
        api, _ = api_client_for(world[persona])
        pages[f"{persona} api list"] = api.get("/api/v1/persons/")
        pages[f"{persona} api detail"] = api.get(f"/api/v1/persons/{person.public_id}/")
    pages["a_staff edit"] = staff.get(f"/registry/persons/{person.pk}/edit/")
    pages["audit log"] = client_for(world, "city_audit").get("/audit/", {"target_type": "registry.person"})
    masked = person.id_number_masked
    for label, response in pages.items():
        assert response.status_code == 200, label
        if label.endswith("export"):
            text = repr(_sheet(response))
        else:
            text = response.content.decode()
        assert clear not in text, f"clear ID number shown on {label}"
        assert clear[6:14] not in text, f"birth date shown on {label}"
    assert masked in pages["a_staff /registry/persons/"].content.decode()
    assert masked in pages["a_staff api detail"].content.decode()
    for event in AuditEvent.objects.all():
        assert clear not in str(event.changes) and clear not in event.target_repr


def test_person_certificates_are_added_edited_and_listed_on_the_person_page(world: World) -> None:
    from jiancai.registry.models import PersonCertificate

    person = world.a_person
    client = client_for(world, "a_staff")
    add = client.post(
        f"/registry/persons/{person.pk}/certificates/new/",
        {"name": "材料员岗位证书", "certificate_no": "CL-001", "issued_on": "2024-01-01", "valid_until": "2027-01-01"},
    )
    assert add.status_code == 302
    cert = PersonCertificate.objects.get(person=person, certificate_no="CL-001")
    edit = client.post(
        f"/registry/certificates/{cert.pk}/edit/",
        {"name": "材料员岗位证书", "certificate_no": "CL-001", "issued_on": "2024-01-01", "valid_until": "2029-01-01"},
    )
    assert edit.status_code == 302
    cert.refresh_from_db()
    assert str(cert.valid_until) == "2029-01-01"
    assert AuditEvent.objects.filter(action="update", target_type="registry.personcertificate").count() == 1
    page = client.get(f"/registry/persons/{person.pk}/").content.decode()
    assert "CL-001" in page and f"/registry/certificates/{cert.pk}/edit/" in page and "2029-01-01" in page
    other = client_for(world, "b_staff")
    assert other.get(f"/registry/certificates/{cert.pk}/edit/").status_code == 403
