"""The pages, as users meet them: propose and decide (two people), the public list with filters and exports, the
repair flow with evidence, restriction management, and who may see what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.blacklist.models import BlacklistEntry, EntryStatus, RepairApplication, RepairStatus, Restriction
from jiancai.monitoring.tests.alerts import client_for

from .helpers import approver, propose, publish, restrict_a

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
TODAY = dt.date.today()


def test_propose_and_decide_through_the_pages(world: World) -> None:
    proposer = client_for(world["city_biz"])
    page = proposer.get("/blacklist/propose/")
    assert page.status_code == 200 and "提出列入建材质量失信黑名单" in page.content.decode()
    bad = proposer.post("/blacklist/propose/", {"enterprise": "91110000XXXXXXXXXX", "period_months": "12"})
    assert bad.status_code == 400
    assert "不是已登记的企业" in bad.content.decode() and "列入事由：该字段是必填项" in bad.content.decode()
    response = proposer.post(
        "/blacklist/propose/",
        {
            "enterprise": world.a.uscc,
            "grounds": "抽检不合格",
            "legal_basis": "《建设工程质量管理条例》",
            "evidence": "报告 CJ-1",
            "period_months": "6",
        },
    )
    entry = BlacklistEntry.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/blacklist/entries/{entry.entry_no}/"
    # the proposer gets no decision form and a refused POST
    html = proposer.get(response["Location"]).content.decode()
    assert "须由另一名市级监管业务人员审批" in html and "批准列入并公布" not in html
    refused = proposer.post(f"/blacklist/entries/{entry.entry_no}/approve/", {"note": "同意"})
    assert refused.status_code == 400 and "提出人不能审批自己提出的列入申请" in refused.content.decode()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PROPOSED
    # another city regulator approves
    other = client_for(approver(world))
    assert "批准列入并公布" in other.get(f"/blacklist/entries/{entry.entry_no}/").content.decode()
    done = other.post(f"/blacklist/entries/{entry.entry_no}/approve/", {"note": "属实", "published_on": ""})
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PUBLISHED and entry.published_on == TODAY


def test_the_public_list_filters_searches_and_exports(world: World) -> None:
    publish(world, TODAY)
    propose(world, enterprise=world.b)  # not published: only regulators and B see it
    b = client_for(world["b_staff"])
    html = b.get("/blacklist/").content.decode()
    assert world.a.name in html and world.b.name in html  # B sees its own proposal too
    a = client_for(world["a_staff"])
    html = a.get("/blacklist/").content.decode()
    assert world.a.name in html and world.b.name not in html
    assert "共 1 条" in a.get("/blacklist/?q=朝建").content.decode()
    assert "共 0 条" in a.get("/blacklist/?q=海淀").content.decode()
    assert "共 1 条" in a.get("/blacklist/?status=published").content.decode()
    csv = a.get("/blacklist/?export=csv")
    assert csv.status_code == 200 and world.a.uscc in csv.content.decode("utf-8-sig")
    xlsx = a.get("/blacklist/?export=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action="export", target_type="blacklist.blacklistentry").count() == 2
    # a proposed entry of another enterprise is refused (and audited)
    other = BlacklistEntry.objects.get(enterprise=world.b)
    assert a.get(f"/blacklist/entries/{other.entry_no}/").status_code == 403
    assert AuditEvent.objects.filter(action="permission.denied", actor_id=world["a_staff"].pk).exists()


def test_restriction_management_pages(world: World) -> None:
    entry = publish(world, TODAY)
    city = client_for(world["city_biz"])
    form = city.get(f"/blacklist/restrictions/new/?entry={entry.entry_no}")
    assert form.status_code == 200 and world.a.uscc in form.content.decode()
    response = city.post(
        f"/blacklist/restrictions/new/?entry={entry.entry_no}",
        {
            "enterprise": world.a.uscc,
            "kind": "tender_ban",
            "district": "",
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + dt.timedelta(days=180)).isoformat(),
            "basis": "京建发〔2019〕1号",
        },
    )
    r = Restriction.objects.get()
    assert response.status_code == 302 and r.entry == entry
    assert "执行中" in client_for(world["b_staff"]).get("/blacklist/restrictions/?state=in_force").content.decode()
    # a district regulator may not impose one
    assert client_for(world["cy_biz"]).get("/blacklist/restrictions/new/").status_code == 403
    revoke = city.post(f"/blacklist/restrictions/{r.restriction_no}/revoke/", {"reason": "决定有误"})
    assert revoke.status_code == 302
    r.refresh_from_db()
    assert r.lift_reason == "revoked" and r.lifted_on == r.starts_on


def test_repair_flow_with_evidence_review_and_publication(world: World) -> None:
    entry = publish(world, TODAY - dt.timedelta(days=100))
    r = restrict_a(world, TODAY - dt.timedelta(days=100), TODAY + dt.timedelta(days=200), entry=entry)
    a = client_for(world["a_admin"])
    page = a.get(f"/blacklist/entries/{entry.entry_no}/")
    assert f"/blacklist/entries/{entry.entry_no}/repair/" in page.content.decode()
    # B may not apply for A
    assert client_for(world["b_admin"]).get(f"/blacklist/entries/{entry.entry_no}/repair/").status_code == 403
    no_file = a.post(f"/blacklist/entries/{entry.entry_no}/repair/", {"statement": "已整改"})
    assert no_file.status_code == 400 and "至少一个附件" in no_file.content.decode()
    fake = a.post(
        f"/blacklist/entries/{entry.entry_no}/repair/",
        {"statement": "已整改", "attachments": [SimpleUploadedFile("整改报告.pdf", b"MZ\x90\x00")]},
    )
    assert fake.status_code == 400 and "内容与扩展名 .pdf 不符" in fake.content.decode()
    assert not RepairApplication.objects.exists()
    ok = a.post(
        f"/blacklist/entries/{entry.entry_no}/repair/",
        {"statement": "已全部整改，复检合格", "attachments": [SimpleUploadedFile("整改报告.pdf", PDF)]},
    )
    app = RepairApplication.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/blacklist/repairs/{app.application_no}/"
    attachment = app.attachments.get()
    assert a.get(f"/blacklist/repairs/attachments/{attachment.pk}/").getvalue() == PDF
    # another enterprise cannot read the application or its evidence
    b = client_for(world["b_staff"])
    assert b.get(f"/blacklist/repairs/{app.application_no}/").status_code == 403
    assert b.get(f"/blacklist/repairs/attachments/{attachment.pk}/").status_code == 403
    # the city regulator reviews
    city = client_for(world["city_biz"])
    assert "作出决定" in city.get(f"/blacklist/repairs/{app.application_no}/").content.decode()
    empty = city.post(f"/blacklist/repairs/{app.application_no}/review/", {"decision": "approve", "reason": ""})
    assert empty.status_code == 400
    done = city.post(
        f"/blacklist/repairs/{app.application_no}/review/", {"decision": "approve", "reason": "整改到位，准予修复"}
    )
    assert done.status_code == 302
    app.refresh_from_db()
    entry.refresh_from_db()
    r.refresh_from_db()
    assert app.status == RepairStatus.APPROVED
    assert (entry.status, entry.exit_reason, entry.exited_on) == (EntryStatus.EXITED, "repair", TODAY)
    assert entry.public_until == TODAY.replace(year=TODAY.year + 3)
    assert (r.lifted_on, r.lift_reason) == (TODAY, "repair")
    # the decision is published with the entry, which everyone still sees
    html = b.get(f"/blacklist/entries/{entry.entry_no}/").content.decode()
    assert "整改到位，准予修复" in html and "准予修复" in html
    actions_done = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"repair.apply", "repair.decide", "blacklist.exit", "restriction.lift"} <= actions_done


def test_repair_rejected_keeps_the_entry(world: World) -> None:
    from jiancai.accounts.context import context_for
    from jiancai.blacklist import actions

    entry = publish(world, TODAY)
    user = world["a_staff"]
    app = actions.apply_for_repair(
        entry=entry,
        statement="已整改",
        files=[SimpleUploadedFile("a.pdf", PDF)],
        actor=user,
        context=context_for(user),
    )
    city = world["city_biz"]
    actions.decide_repair(application=app, approve=False, reason="整改材料不全", actor=city, context=context_for(city))
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PUBLISHED
    # a new application is possible after the decision
    actions.apply_for_repair(
        entry=entry,
        statement="补充材料",
        files=[SimpleUploadedFile("b.pdf", PDF)],
        actor=user,
        context=context_for(user),
    )


@pytest.mark.parametrize(
    ("persona", "links"),
    [("city_biz", True), ("a_staff", True), ("city_sys", True), ("city_audit", False), ("city_sec", False)],
)
def test_menu(world: World, persona: str, links: bool) -> None:
    html = client_for(world[persona]).get("/").content.decode()
    assert ('href="/blacklist/"' in html) is links


def test_api_reads_published_entries_and_restrictions_by_public_identifiers(world: World) -> None:
    from jiancai.accounts.tests.personas import api_client_for

    entry = publish(world, TODAY - dt.timedelta(days=10))
    r = restrict_a(world, TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=10), kind="trade", entry=entry)
    hidden = propose(world, enterprise=world.b)
    client, _ = api_client_for(world["b_staff"], ["registry:read"])
    listing = client.get("/api/v1/blacklist-entries/").json()
    nos = {e["entry_no"] for e in listing["results"]}
    assert entry.entry_no in nos and hidden.entry_no in nos  # B's own proposal is B's to see
    other, _ = api_client_for(world["a_staff"], ["registry:read"])
    assert {e["entry_no"] for e in other.get("/api/v1/blacklist-entries/").json()["results"]} == {entry.entry_no}
    assert other.get(f"/api/v1/blacklist-entries/{hidden.entry_no}/").status_code == 403
    detail = client.get(f"/api/v1/blacklist-entries/{entry.entry_no}/").json()
    assert detail["enterprise_uscc"] == world.a.uscc and detail["status"] == "published"
    assert [x["restriction_no"] for x in detail["restrictions"]] == [r.restriction_no]
    on = client.get(f"/api/v1/restrictions/?enterprise={world.a.uscc}&in_force_on={TODAY.isoformat()}").json()
    assert [x["restriction_no"] for x in on["results"]] == [r.restriction_no]
    later = (TODAY + dt.timedelta(days=11)).isoformat()
    assert client.get(f"/api/v1/restrictions/?enterprise={world.a.uscc}&in_force_on={later}").json()["results"] == []
    no_scope, _ = api_client_for(world["b_staff"], ["alerts:read"])
    assert no_scope.get("/api/v1/restrictions/").status_code == 403


def test_a_project_party_finds_its_restricted_suppliers(world: World) -> None:
    from jiancai.filings.tests.records import file_as, purchase_row

    file_as(world["b_staff"], "purchase", purchase_row(world, arrival_date=(TODAY - dt.timedelta(days=20)).isoformat()))
    r = restrict_a(world, TODAY, TODAY + dt.timedelta(days=30), kind="trade")
    b = client_for(world["b_staff"])
    assert r.restriction_no in b.get("/blacklist/restrictions/?mine=true").content.decode()
    city = client_for(world["city_biz"])  # a regulator has no projects of its own
    assert "共 0 条" in city.get("/blacklist/restrictions/?mine=true").content.decode()
    assert r.restriction_no in city.get("/blacklist/restrictions/").content.decode()
    a_other = client_for(world["a_staff"])  # A bought nothing from itself
    assert "共 0 条" in a_other.get("/blacklist/restrictions/?mine=true").content.decode()
