"""Working an alert: who sees and who acts (parties, district regulators, the city), each transition and the refused
ones, the enterprise's explanation with attachments, enforcement cases, all audited."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.filings.tests.records import Filers, file_as, purchase_row
from jiancai.monitoring import actions
from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.models import Alert, AlertAttachment, AlertStatus, EnforcementCase

from .alerts import chaoyang_alert, client_for, haidian_alert

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def denied(user: Any) -> bool:
    return AuditEvent.objects.filter(action="permission.denied", actor_id=user.pk).exists()


def audit_actions(alert: Alert) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="monitoring.alert", target_id=str(alert.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


# ---------------------------------------------------------------- who sees, who acts


def test_party_enterprise_sees_its_alert_with_linked_evidence_and_explains_with_attachments(world: World) -> None:
    alert = haidian_alert(world)
    b = client_for(world["b_staff"])
    listing = b.get("/monitoring/alerts/")
    assert listing.status_code == 200 and "我的预警" in listing.content.decode()
    assert alert.subject_label in listing.content.decode()

    page = b.get(f"/monitoring/alerts/{alert.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert alert.message in html and "宽限期" in html
    supply_id = alert.evidence["records"][0]["id"]
    assert f'href="/filings/supplies/{supply_id}/"' in html
    assert f'href="/registry/projects/{world.b_project.project_code}/"' in html
    assert f'action="/monitoring/alerts/{alert.pk}/explain/"' in html
    assert "/acknowledge/" not in html and "/escalate/" not in html  # regulator forms are not offered

    response = b.post(
        f"/monitoring/alerts/{alert.pk}/explain/",
        {
            "explain-note": "货物已退回，采购记录将补报",
            "explain-attachments": [
                SimpleUploadedFile("退货单.pdf", PDF, content_type="application/pdf"),
                SimpleUploadedFile("现场照片.png", PNG, content_type="image/png"),
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.EXPLAINED
    event = alert.events.get(kind="explained")
    assert event.note == "货物已退回，采购记录将补报" and event.organization_name == world.b.name
    stored = {a.original_name: a for a in event.attachments.all()}
    assert set(stored) == {"退货单.pdf", "现场照片.png"}
    assert stored["退货单.pdf"].sha256 == hashlib.sha256(PDF).hexdigest()
    path = Path(stored["退货单.pdf"].file.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT)) and path.read_bytes() == PDF
    assert audit_actions(alert) == ["alert.explain"]

    # The attachment is served through the funnel: the parties and the regulator, nobody else.
    url = f"/monitoring/attachments/{stored['退货单.pdf'].pk}/"
    download = b.get(url)
    assert download.status_code == 200 and download.getvalue() == PDF
    assert "attachment" in download["Content-Disposition"]
    assert client_for(world["city_biz"]).get(url).status_code == 200
    assert client_for(world["cy_biz"]).get(url).status_code == 403  # 朝阳 regulator, 海淀 alert
    assert denied(world["cy_biz"])


def test_non_party_enterprise_gets_403_audited_and_never_sees_the_alert(world: World) -> None:
    alert = chaoyang_alert(world)  # A's own project: B is not concerned
    b = client_for(world["b_staff"])
    assert alert.subject_label not in b.get("/monitoring/alerts/").content.decode()
    assert b.get(f"/monitoring/alerts/{alert.pk}/").status_code == 403
    assert denied(world["b_staff"])
    response = b.post(f"/monitoring/alerts/{alert.pk}/explain/", {"explain-note": "不是我们"})
    assert response.status_code == 403
    assert b.get("/monitoring/alerts/999999/").status_code == 404
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and not alert.events.exclude(kind="raised").exists()


def test_district_regulator_of_another_district_cannot_act(world: World) -> None:
    alert = haidian_alert(world)
    cy = client_for(world["cy_biz"])
    assert alert.subject_label not in cy.get("/monitoring/alerts/").content.decode()
    assert cy.get(f"/monitoring/alerts/{alert.pk}/").status_code == 403
    assert cy.post(f"/monitoring/alerts/{alert.pk}/acknowledge/", {}).status_code == 403
    assert denied(world["cy_biz"])
    with pytest.raises(PermissionDenied):
        actions.acknowledge_alert(alert=alert, actor=world["cy_biz"], context=context_for(world["cy_biz"]))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_district_regulator_works_the_whole_flow_to_a_closed_case(world: World) -> None:
    alert = chaoyang_alert(world)
    cy = client_for(world["cy_biz"])
    page = cy.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert "/acknowledge/" in page and "/explain/" not in page

    assert cy.post(f"/monitoring/alerts/{alert.pk}/acknowledge/", {"acknowledge-note": "已受理"}).status_code == 302
    response = cy.post(
        f"/monitoring/alerts/{alert.pk}/request_explanation/",
        {"request_explanation-note": "请说明采购记录为何缺失", "request_explanation-deadline": "2099-01-31"},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.EXPLANATION_REQUESTED

    a = client_for(world["a_staff"])
    assert a.post(f"/monitoring/alerts/{alert.pk}/explain/", {"explain-note": "自用项目，无需采购"}).status_code == 302

    response = cy.post(
        f"/monitoring/alerts/{alert.pk}/escalate/",
        {"escalate-respondent": str(world.a.pk), "escalate-grounds": "说明不成立"},
    )
    case = EnforcementCase.objects.get(alert=alert)
    assert response.status_code == 302 and response["Location"] == f"/monitoring/cases/{case.case_no}/"
    assert case.case_no == f"JC-{timezone.localdate().year}-000001"
    assert case.respondent == world.a and case.district == alert.district
    assert case.case_no in a.get("/monitoring/cases/").content.decode()  # the respondent sees its case

    incomplete = cy.post(f"/monitoring/cases/{case.case_no}/close/", {"outcome": "confirmed", "finding": "属实"})
    assert incomplete.status_code == 400 and "违法违规属实时须填写法律依据" in incomplete.content.decode()
    closed = cy.post(
        f"/monitoring/cases/{case.case_no}/close/",
        {
            "outcome": "confirmed",
            "finding": "未按规定填报",
            "penalty": "责令改正",
            "legal_basis": "京建发〔2019〕149号",
        },
    )
    assert closed.status_code == 302
    case.refresh_from_db()
    alert.refresh_from_db()
    assert case.outcome == "confirmed" and case.closed_at is not None and case.closed_by_name == "周朝监"
    assert alert.status == AlertStatus.CLOSED and alert.resolved_at is not None
    assert [e.kind for e in alert.events.all()] == [
        "raised",
        "acknowledged",
        "explanation_requested",
        "explained",
        "escalated",
        "case_closed",
    ]
    assert "2099-01-31" in alert.events.get(kind="explanation_requested").note
    assert audit_actions(alert) == [
        "alert.acknowledge",
        "alert.request_explanation",
        "alert.explain",
        "alert.escalate",
    ]
    assert AuditEvent.objects.filter(action="case.close", target_id=str(case.pk)).exists()
    # Closed: no form is offered any more, and the engine leaves the status alone.
    assert f"/monitoring/alerts/{alert.pk}/dismiss/" not in cy.get(alert.get_absolute_url()).content.decode()
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED


def test_city_regulator_dismisses_only_with_a_reason(world: World) -> None:
    alert = haidian_alert(world)
    city = client_for(world["city_biz"])
    missing = city.post(f"/monitoring/alerts/{alert.pk}/dismiss/", {"dismiss-reason": "  "})
    assert missing.status_code == 400 and "排除理由：" in missing.content.decode()
    assert city.post(f"/monitoring/alerts/{alert.pk}/dismiss/", {"dismiss-reason": "重复填报"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    assert [e.note for e in alert.events.filter(kind="dismissed")] == ["重复填报"]
    # A dismissed alert stays dismissed while the finding stands, and refuses further handling.
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    refused = city.post(f"/monitoring/alerts/{alert.pk}/acknowledge/", {})
    assert refused.status_code == 302
    assert "不能受理" in city.get(alert.get_absolute_url()).content.decode()


# ---------------------------------------------------------------- transitions


def test_refused_transitions_say_why_in_chinese(world: World) -> None:
    alert = haidian_alert(world)
    city, b = world["city_biz"], world["b_staff"]
    ctx, b_ctx = context_for(city), context_for(b)
    actions.acknowledge_alert(alert=alert, actor=city, context=ctx)
    with pytest.raises(ValidationError, match="预警当前状态为“已受理”，不能受理"):
        actions.acknowledge_alert(alert=alert, actor=city, context=ctx)
    actions.request_explanation(alert=alert, note="请说明", actor=city, context=ctx)
    with pytest.raises(ValidationError, match="不能要求企业说明"):
        actions.request_explanation(alert=alert, note="再说明", actor=city, context=ctx)
    with pytest.raises(ValidationError) as past:
        actions.request_explanation(
            alert=alert, note="x", actor=city, context=ctx, deadline=timezone.localdate().replace(year=2000)
        )
    assert past.value.message_dict["deadline"] == ["说明期限不能早于今天"]
    # Roles: an enterprise does not work alerts, a regulator does not explain for the enterprise.
    with pytest.raises(PermissionDenied):
        actions.dismiss_alert(alert=alert, reason="x", actor=b, context=b_ctx)
    with pytest.raises(PermissionDenied):
        actions.explain_alert(alert=alert, note="x", actor=city, context=ctx)
    with pytest.raises(ValidationError) as not_party:
        actions.escalate_alert(alert=alert, respondent=world.chaoyang, grounds="x", actor=city, context=ctx)
    assert not_party.value.message_dict["respondent"] == ["当事企业须为该预警涉及的企业之一"]
    case = actions.escalate_alert(alert=alert, respondent=world.b, grounds="拒不说明", actor=city, context=ctx)
    for verb, call in [
        ("说明", lambda: actions.explain_alert(alert=alert, note="迟到的说明", actor=b, context=b_ctx)),
        ("排除", lambda: actions.dismiss_alert(alert=alert, reason="x", actor=city, context=ctx)),
        ("立案", lambda: actions.escalate_alert(alert=alert, respondent=world.b, grounds="x", actor=city, context=ctx)),
    ]:
        with pytest.raises(ValidationError, match=f"预警当前状态为“已立案”，不能{verb}"):
            call()
    actions.close_case(case=case, outcome="not_confirmed", finding="经查系录入错误", actor=city, context=ctx)
    with pytest.raises(ValidationError, match="该案件已结案"):
        actions.close_case(case=case, outcome="not_confirmed", finding="x", actor=city, context=ctx)


def test_a_corrected_alert_resolves_itself_and_can_no_longer_be_worked(world: World) -> None:
    alert = haidian_alert(world)
    file_as(world["b_staff"], "purchase", purchase_row(world))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    with pytest.raises(ValidationError, match="已自动消除"):
        actions.explain_alert(alert=alert, note="x", actor=world["b_staff"], context=context_for(world["b_staff"]))


# ---------------------------------------------------------------- attachments


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("病毒.exe", b"MZ\x90\x00", "附件“病毒.exe”的类型不允许，只接受 PDF、JPG、PNG、XLSX、DOCX 文件"),
        ("伪装.pdf", b"MZ\x90\x00", "附件“伪装.pdf”的内容与扩展名 .pdf 不符，请上传真实的 PDF 文件"),
        ("太大.pdf", PDF + b"0" * 200, "附件“太大.pdf”超过大小上限"),
        ("空.png", b"", "附件“空.png”是空文件"),
    ],
)
def test_attachments_are_refused_by_type_content_and_size(
    world: World, settings: Any, name: str, content: bytes, message: str
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    alert = haidian_alert(world)
    b = client_for(world["b_staff"])
    response = b.post(
        f"/monitoring/alerts/{alert.pk}/explain/",
        {"explain-note": "说明", "explain-attachments": [SimpleUploadedFile(name, content)]},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert f"附件：{message}" in html  # the field's label, then the file and the reason
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not AlertAttachment.objects.exists() and not alert.events.filter(kind="explained").exists()


def test_explanation_needs_its_text(world: World) -> None:
    alert = haidian_alert(world)
    with pytest.raises(ValidationError) as exc:
        actions.explain_alert(alert=alert, note=" ", actor=world["b_staff"], context=context_for(world["b_staff"]))
    assert exc.value.message_dict["note"] == ["请填写说明内容"]


def test_menu_entries_per_role(world: World, filers: Filers) -> None:
    city = client_for(world["city_biz"]).get("/").content.decode()
    assert "后台监控" in city and "/monitoring/rules/" in city and "/monitoring/cases/" in city
    staff = client_for(filers.lab_staff).get("/").content.decode()
    assert "我的预警" in staff


def test_workbench_counts_the_alerts_being_worked(world: World) -> None:
    haidian_alert(world)
    chaoyang_alert(world)
    assert '处理中的预警</div><div class="num">2<' in client_for(world["city_biz"]).get("/").content.decode()
    assert '处理中的预警</div><div class="num">1<' in client_for(world["cy_biz"]).get("/").content.decode()
    assert "处理中的预警" not in client_for(world["city_sys"]).get("/").content.decode()


def test_case_numbers_run_per_year(world: World) -> None:
    city = world["city_biz"]
    year = timezone.localdate().year
    first = actions.escalate_alert(
        alert=haidian_alert(world), respondent=world.b, grounds="甲", actor=city, context=context_for(city)
    )
    second = actions.escalate_alert(
        alert=chaoyang_alert(world), respondent=world.a, grounds="乙", actor=city, context=context_for(city)
    )
    assert (first.case_no, second.case_no) == (f"JC-{year}-000001", f"JC-{year}-000002")
    assert second.get_absolute_url() == f"/monitoring/cases/JC-{year}-000002/"
