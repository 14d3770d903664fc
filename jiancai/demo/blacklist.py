"""Demo data of the blacklist: the demo supplier listed a month ago (proposed by the district regulator, approved by
the city regulator), a tender ban on it, and its pending credit-repair application, all through the real actions
(audit rows, credit feed, XC15 re-checks), so each side has something to look at and work."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from jiancai.accounts.context import context_for
from jiancai.accounts.models import User
from jiancai.blacklist import actions
from jiancai.blacklist.models import BlacklistEntry, RestrictionKind

from .data import DEMO_DISTRICT_CODE, DISTRICT_BY_CODE

# A tiny valid PDF: the evidence attached to the demo repair application.
DEMO_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def seed_blacklist(today: dt.date) -> BlacklistEntry:
    slug = DISTRICT_BY_CODE[DEMO_DISTRICT_CODE].slug
    proposer = User.objects.get(username=f"{slug}_business")
    approver = User.objects.get(username="city_business")
    applicant = User.objects.get(username="supplier_admin")
    enterprise = applicant.organization
    if enterprise is None:
        raise RuntimeError("the demo supplier login has no organization")
    entry = actions.propose_entry(
        enterprise=enterprise,
        grounds="政府抽检热轧带肋钢筋（HRB400E Φ20）屈服强度不合格，责令整改后复检仍不合格",
        legal_basis="《建设工程质量管理条例》第二十九条；《北京市建设工程质量条例》",
        evidence="政府抽检报告 CJ-演示-001、CJ-演示-002；整改通知书 京建质改〔演示〕1号",
        period_months=12,
        actor=proposer,
        context=context_for(proposer),
    )
    start = today - dt.timedelta(days=30)
    entry = actions.approve_entry(
        entry=entry,
        note="经核查情况属实，同意列入并公布",
        published_on=start,
        actor=approver,
        context=context_for(approver),
    )
    actions.impose_restriction(
        enterprise=enterprise,
        entry=entry,
        kind=RestrictionKind.TENDER_BAN,
        starts_on=start,
        ends_on=start + dt.timedelta(days=179),
        basis="《建设工程材料使用管理信息化监控系统建设方案》：一定时期内限制其参与本市建设工程材料招投标",
        actor=approver,
        context=context_for(approver),
    )
    actions.apply_for_repair(
        entry=entry,
        statement="已召回不合格批次并更换原材料供应商，复检三批次均合格；已缴纳罚款，并作出信用承诺。",
        files=[SimpleUploadedFile("整改报告.pdf", DEMO_PDF, content_type="application/pdf")],
        actor=applicant,
        context=context_for(applicant),
    )
    return entry
