"""The credit pages through HTTP: the funnel (an enterprise sees only its own records and score), the regulator's
forms, the partner import with a bad row, the score model page, exports."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent
from jiancai.credit.models import BehaviourRecord, RecordSource, ScoreModel
from jiancai.credit.tests.test_actions import bad

TODAY = timezone.localdate()


def client_for(user: Any) -> Client:
    client = Client()
    login_as(client, user)
    return client


def test_an_enterprise_sees_only_its_own_records_and_score(world: World) -> None:
    a_record = bad(world, title="A的不良行为")
    b_record = bad(world, organization=world.b, title="B的不良行为")
    b = client_for(world["b_staff"])
    listing = b.get("/credit/records/").content.decode()
    assert "B的不良行为" in listing and "A的不良行为" not in listing
    assert b.get(f"/credit/records/{b_record.record_no}/").status_code == 200
    assert b.get(f"/credit/records/{a_record.record_no}/").status_code == 403
    assert b.get(f"/credit/enterprises/{world.a.uscc}/").status_code == 403
    page = b.get(f"/credit/enterprises/{world.b.uscc}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "信用分是怎样算出来的" in text and "90.00" in text and b_record.record_no in text
    assert b.get("/credit/mine/")["Location"] == f"/credit/enterprises/{world.b.uscc}/"
    # no revoke form, no create page for an enterprise
    assert "撤销记录" not in b.get(f"/credit/records/{b_record.record_no}/").content.decode()
    assert b.get("/credit/records/new/").status_code == 403
    assert b.post(f"/credit/records/{b_record.record_no}/revoke/", {"reason": "x"}).status_code == 403
    assert AuditEvent.objects.filter(action="permission.denied").exists()
    # a district regulator (朝阳) sees A's record (朝阳区), not B's (海淀区)
    cy = client_for(world["cy_biz"])
    listing = cy.get("/credit/records/").content.decode()
    assert "A的不良行为" in listing and "B的不良行为" not in listing


def test_a_regulator_creates_and_revokes_a_record_through_the_pages(world: World) -> None:
    city = client_for(world["city_biz"])
    form = {
        "uscc": world.a.uscc,
        "kind": "bad",
        "severity": "A",
        "source": RecordSource.PENALTY,
        "title": "使用不合格钢筋",
        "legal_basis": "《建设工程质量管理条例》第六十四条",
        "facts": "经抽检钢筋屈服强度不合格",
        "source_reference": "京建罚〔2026〕12号",
        "decided_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        "attachment": SimpleUploadedFile("决定书.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
    }
    response = city.post("/credit/records/new/", form)
    assert response.status_code == 302
    record = BehaviourRecord.objects.get()
    assert response["Location"] == f"/credit/records/{record.record_no}/"
    assert record.points == 20 and record.attachment_name == "决定书.pdf"
    detail = city.get(response["Location"]).content.decode()
    assert "京建罚〔2026〕12号" in detail and "认定信用行为记录" in detail  # the audit trail on the page
    download = city.get(f"/credit/records/{record.record_no}/attachment/")
    content: Any = download
    assert download.status_code == 200 and b"".join(content.streaming_content) == b"%PDF-1.4 test"
    # bad input: named field, nothing stored
    response = city.post("/credit/records/new/", {**form, "attachment": "", "severity": "", "points": "x"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "不良行为等级：不良行为须选择等级" in text and "分值：分值应为数字" in text
    assert BehaviourRecord.objects.count() == 1
    # revoke
    response = city.post(f"/credit/records/{record.record_no}/revoke/", {"reason": ""})
    assert response.status_code == 400
    response = city.post(f"/credit/records/{record.record_no}/revoke/", {"reason": "行政复议撤销"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "revoked"
    # a district regulator cannot decide about an enterprise outside its district
    cy = client_for(world["cy_biz"])
    response = cy.post("/credit/records/new/", {**form, "uscc": world.b.uscc, "attachment": ""})
    assert response.status_code == 400 and "不在本机构管辖范围" in response.content.decode()


def test_lists_filter_and_export(world: World) -> None:
    bad(world, title="甲行为", severity="A")
    bad(world, title="乙行为", kind="good", severity="", source=RecordSource.COMMENDATION)
    city = client_for(world["city_biz"])
    text = city.get("/credit/records/", {"kind": "bad"}).content.decode()
    assert "甲行为" in text and "乙行为" not in text
    text = city.get("/credit/records/", {"q": "乙"}).content.decode()
    assert "乙行为" in text and "甲行为" not in text
    csv_response = city.get("/credit/records/", {"export": "csv"})
    assert csv_response.content.decode("utf-8-sig").count("\n") == 3
    xlsx = city.get("/credit/records/", {"export": "xlsx"})
    assert xlsx.status_code == 200
    assert AuditEvent.objects.filter(action="export").count() == 2
    scores = city.get("/credit/scores/", {"rating": "B"}).content.decode()
    assert world.a.name in scores and "每6个月" in scores


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = [
    "统一社会信用代码",
    "来源地区",
    "原认定机关",
    "原记录编号",
    "记录类型",
    "不良行为等级",
    "行为名称",
    "认定依据",
    "事实",
    "认定日期",
    "分值",
]


def test_partner_import_keeps_good_rows_reports_bad_ones_and_is_idempotent(world: World) -> None:
    decided = TODAY - dt.timedelta(days=30)
    rows: list[list[Any]] = [
        HEADER,
        [
            world.a.uscc,
            "天津市",
            "天津市住建委",
            "JJ-2026-001",
            "不良",
            "B",
            "供应不合格钢筋",
            "条例第64条",
            "抽检不合格",
            decided,
            8,
        ],
        [
            world.b.uscc,
            "天津市",
            "天津市住建委",
            "JJ-2026-002",
            "不良",
            "X",
            "虚假检测报告",
            "条例",
            "事实",
            decided,
            "",
        ],
        [
            world.b.uscc,
            "河北省",
            "河北省住建厅",
            "HB-7",
            "良好",
            "",
            "省级优质工程材料",
            "表彰文件",
            "获表彰",
            decided.isoformat(),
            "",
        ],
        ["91110000000000000X", "天津市", "天津市住建委", "JJ-2026-003", "不良", "C", "x", "x", "x", decided, ""],
    ]
    city = client_for(world["city_biz"])
    upload = SimpleUploadedFile("partner.xlsx", _xlsx(rows))
    response = city.post("/credit/records/import/", {"file": upload})
    assert response.status_code == 200
    text = response.content.decode()
    assert "新增 2 条" in text and "拒绝 2 行" in text
    assert "不良行为等级应为 A（严重）、B（一般）或 C（轻微）" in text and "该企业未在本市企业库登记" in text
    records = BehaviourRecord.objects.filter(source=RecordSource.PARTNER).order_by("origin_no")
    assert [(r.origin_region, r.origin_no, r.kind, str(r.points)) for r in records] == [
        ("河北省", "HB-7", "good", "3.00"),
        ("天津市", "JJ-2026-001", "bad", "8.00"),
    ]
    detail = city.get(records[1].get_absolute_url()).content.decode()
    assert "天津市住建委" in detail and "JJ-2026-001" in detail and "外地处理处罚互认" in detail
    # the same file again (CSV this time) creates nothing
    csv_rows = "\n".join(",".join(str(c) for c in row) for row in rows).encode("utf-8")
    response = city.post("/credit/records/import/", {"file": SimpleUploadedFile("again.csv", csv_rows)})
    assert "新增 0 条" in response.content.decode() and "已导入过（未重复记录） 2 条" in response.content.decode()
    assert BehaviourRecord.objects.filter(source=RecordSource.PARTNER).count() == 2
    assert AuditEvent.objects.filter(action="credit.import").count() == 2
    # a missing required column stops the file
    response = city.post(
        "/credit/records/import/", {"file": SimpleUploadedFile("x.csv", "统一社会信用代码\n1\n".encode())}
    )
    assert response.status_code == 400 and "缺少必填列" in response.content.decode()
    # enterprises may not import
    assert client_for(world["a_admin"]).get("/credit/records/import/").status_code == 403


def test_score_model_page(world: World) -> None:
    bad(world, points="12")
    city = client_for(world["city_biz"])
    page = city.get("/credit/model/")
    assert page.status_code == 200 and "第1版" in page.content.decode()
    values = {name: str(getattr(ScoreModel.objects.get(), name)) for name in ScoreModel.SETTINGS}
    response = city.post("/credit/model/", {**values, "threshold_a": "85", "reason": "放宽A级"})
    assert response.status_code == 302
    assert ScoreModel.objects.count() == 2
    response = city.post("/credit/model/", {**values, "threshold_c": "95", "reason": "x"})
    assert response.status_code == 400 and "A级 &gt; B级 &gt; C级" in response.content.decode()
    # others read it but cannot change it
    cy = client_for(world["cy_biz"])
    assert cy.get("/credit/model/").status_code == 200
    assert cy.post("/credit/model/", {**values, "reason": "x"}).status_code == 403
    a = client_for(world["a_staff"])
    assert a.get("/credit/model/").status_code == 200


def test_the_purchase_form_shows_supplier_ratings(world: World) -> None:
    bad(world, points="15")  # A: 85, B
    page = client_for(world["b_staff"]).get("/filings/purchases/new/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'<option value="{world.a.uscc}">{world.a.name} 【信用B级 85.00分】</option>' in text


def test_the_record_list_costs_the_same_queries_for_more_rows(world: World, django_assert_max_num_queries: Any) -> None:
    city = client_for(world["city_biz"])
    bad(world)
    city.get("/credit/records/")
    with django_assert_max_num_queries(12) as one:
        city.get("/credit/records/")
    for n in range(10):
        bad(world, organization=world.b if n % 2 else world.a, title=f"行为{n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert city.get("/credit/records/").status_code == 200


# persona -> (records seen of A's and B's, may open the create form, may open the import)
MATRIX = {
    "city_biz": ({"A", "B"}, 200, 200),
    "cy_biz": ({"A"}, 200, 200),
    "city_sys": ({"A", "B"}, 403, 403),
    "cy_sys": ({"A"}, 403, 403),
    "city_audit": (set(), 403, 403),
    "city_sec": (set(), 403, 403),
    "a_admin": ({"A"}, 403, 403),
    "a_staff": ({"A"}, 403, 403),
    "b_admin": ({"B"}, 403, 403),
    "b_staff": ({"B"}, 403, 403),
}


def test_permission_matrix(world: World) -> None:
    records = {"A": bad(world, title="甲企业记录"), "B": bad(world, organization=world.b, title="乙企业记录")}
    for persona, (seen, create, upload) in MATRIX.items():
        client = client_for(world[persona])
        listing = client.get("/credit/records/")
        text = listing.content.decode()
        visible = {k for k, r in records.items() if r.record_no in text}
        assert visible == seen, persona
        for key, record in records.items():
            expected = 200 if key in seen else 403
            assert client.get(record.get_absolute_url()).status_code == expected, (persona, key)
        assert client.get("/credit/records/new/").status_code == create, persona
        assert client.get("/credit/records/import/").status_code == upload, persona
