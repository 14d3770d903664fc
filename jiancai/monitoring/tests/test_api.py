"""The alerts API: an enterprise's token lists and reads the alerts it is a party to (alerts:read), with the rule
code and the subject's natural key, and answers them (alerts:write) through the same action as the web page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from jiancai.accounts.tests.personas import World, api_client_for
from jiancai.audit.models import AuditEvent
from jiancai.filings.tests.records import Filers
from jiancai.monitoring.models import AlertStatus

from .alerts import chaoyang_alert, haidian_alert

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/alerts/"
READ, WRITE = ["alerts:read"], ["alerts:read", "alerts:write"]


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content.decode())
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    err: dict[str, Any] = body["error"]
    return err


def test_list_and_read_with_natural_keys(world: World) -> None:
    alert = haidian_alert(world)
    chaoyang_alert(world)  # A's own project: not B's
    api, _ = api_client_for(world["b_staff"], READ)
    body = api.get(ALERTS).json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item["id"] == alert.pk
    assert item["rule_code"] == "XC01" and item["rule_title"] == "供应无采购"
    assert item["subject_kind"] == "supply"
    assert item["subject_key"] == {"supplier_uscc": world.a.uscc, "supply_no": "GY-0001"}
    assert item["message"] == alert.message and item["status"] == "open"
    assert item["parameters"] == {"grace_days": {"label": "宽限期", "value": "15", "unit": "天"}}
    assert [r["kind"] for r in item["evidence"]["records"]] == ["supply", "project"]
    assert item["project_code"] == world.b_project.project_code and item["district"] == "海淀区"
    assert item["resolved_at"] is None and item["raised_at"]
    assert api.get(f"{ALERTS}{alert.pk}/").json() == item


def test_filters(world: World) -> None:
    haidian_alert(world)
    chaoyang_alert(world)
    api, _ = api_client_for(world["a_staff"], READ)  # A is a party to both

    def nos(query: str) -> set[str]:
        return {r["subject_key"]["supply_no"] for r in api.get(f"{ALERTS}?{query}").json()["results"]}

    assert nos("") == {"GY-0001", "GY-0003"}
    assert nos("rule=XC01") == {"GY-0001", "GY-0003"}
    assert nos("status=open") == {"GY-0001", "GY-0003"} and nos("status=dismissed") == set()
    assert nos("district=海淀区") == {"GY-0001"}
    assert nos(f"enterprise={world.b.uscc}") == {"GY-0001"}
    assert nos(f"project_code={world.a_project.project_code}") == {"GY-0003"}
    assert nos("raised_after=2999-01-01") == set() and len(nos("raised_after=2000-01-01")) == 2
    err = error(api.get(f"{ALERTS}?rule=XC99"), 400)
    assert err["fields"][0]["field"] == "rule"


def test_scopes_and_the_funnel(world: World, filers: Filers) -> None:
    alert = chaoyang_alert(world)
    no_scope, _ = api_client_for(world["a_staff"], ["filings:read"])
    assert error(no_scope.get(ALERTS), 403)["code"] == "permission_denied"
    read_only, _ = api_client_for(world["a_staff"], READ)
    assert error(read_only.post(f"{ALERTS}{alert.pk}/explain/", {"note": "x"}, format="json"), 403)
    # Another enterprise: sees nothing, reading or answering the alert is refused and audited.
    other, _ = api_client_for(world["b_staff"], WRITE)
    assert other.get(ALERTS).json()["count"] == 0
    assert error(other.get(f"{ALERTS}{alert.pk}/"), 403)["code"] == "permission_denied"
    assert error(other.post(f"{ALERTS}{alert.pk}/explain/", {"note": "x"}, format="json"), 403)
    assert AuditEvent.objects.filter(action="permission.denied", actor_id=world["b_staff"].pk).count() == 2
    assert error(other.get(f"{ALERTS}999999/"), 404)["code"] == "not_found"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_explain_with_attachments(world: World, settings: Any) -> None:
    alert = haidian_alert(world)
    api, _ = api_client_for(world["b_staff"], WRITE)
    bad = api.post(
        f"{ALERTS}{alert.pk}/explain/",
        {"note": "", "attachments": [SimpleUploadedFile("a.exe", b"MZ")]},
        format="multipart",
    )
    fields = {f["field"]: f for f in error(bad, 400)["fields"]}
    assert fields["note"]["message"] == "请填写说明内容"
    assert fields["attachments"]["code"] == "file_type" and "a.exe" in fields["attachments"]["message"]

    pdf = b"%PDF-1.7\n%%EOF\n"
    response = api.post(
        f"{ALERTS}{alert.pk}/explain/",
        {"note": "已补报采购记录", "attachments": [SimpleUploadedFile("合同.pdf", pdf)]},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "explained"
    event = alert.events.get(kind="explained")
    assert [a.original_name for a in event.attachments.all()] == ["合同.pdf"]
    assert AuditEvent.objects.filter(action="alert.explain", target_id=str(alert.pk)).exists()
    # JSON without files works too; a second explanation adds to the history.
    assert api.post(f"{ALERTS}{alert.pk}/explain/", {"note": "补充说明"}, format="json").status_code == 200
    assert alert.events.filter(kind="explained").count() == 2


def test_committed_schema_documents_the_alerts() -> None:
    schema = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    paths = schema["paths"]
    assert set(paths["/api/v1/alerts/"]) == {"get"} and set(paths["/api/v1/alerts/{id}/"]) == {"get"}
    assert set(paths["/api/v1/alerts/{id}/explain/"]) == {"post"}
    output = schema["components"]["schemas"]["AlertOutput"]["properties"]
    assert {"rule_code", "subject_key", "parameters", "evidence", "project_code"} <= set(output)
    assert schema["components"]["schemas"]["AlertStatus"]["enum"][0] == "open"
