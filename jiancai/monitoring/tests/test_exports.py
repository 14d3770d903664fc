"""The alert list's filters, its XLSX and CSV exports and `manage.py export_alerts`: one set of columns with the
rule code and the subject's natural key, formula-safe cells, audited web exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.filings.tests.records import file_as, supply_row
from jiancai.monitoring import actions
from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.exports import EXPORT_COLUMNS
from jiancai.monitoring.models import Alert

from .alerts import chaoyang_alert, client_for, haidian_alert

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example","点击")'
HEADERS = [c.label for c in EXPORT_COLUMNS]


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # BOM: Excel reads the Chinese correctly
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_list_filters(world: World) -> None:
    haidian, chaoyang = haidian_alert(world), chaoyang_alert(world)
    Alert.objects.filter(pk=chaoyang.pk).update(raised_at=timezone.now() - dt.timedelta(days=40))
    city = client_for(world["city_biz"])

    def shown(query: str) -> set[int]:
        html = city.get(f"/monitoring/alerts/?{query}").content.decode()
        return {a.pk for a in (haidian, chaoyang) if a.get_absolute_url() in html}

    both = {haidian.pk, chaoyang.pk}
    assert shown("") == both
    assert shown("rule=XC01") == both and shown("rule=XC03") == set()
    assert shown("district=海淀区") == {haidian.pk} and shown("district=朝阳区") == {chaoyang.pk}
    assert shown("age=7") == {haidian.pk} and shown("age=older") == {chaoyang.pk} and shown("age=30") == set()
    assert shown(f"enterprise={world.b.uscc}") == {haidian.pk}
    assert shown("enterprise=海淀建工") == {haidian.pk}
    assert shown(f"enterprise={world.a.uscc}") == both
    assert shown(f"project_code={world.a_project.project_code}") == {chaoyang.pk}
    assert shown("q=GY-0003") == {chaoyang.pk}
    actions.dismiss_alert(alert=haidian, reason="重复", actor=world["city_biz"], context=context_for(world["city_biz"]))
    assert shown("status=active") == {chaoyang.pk} and shown("status=dismissed") == {haidian.pk}
    # The htmx partial renders the results only.
    partial = city.get("/monitoring/alerts/?rule=XC01", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "共 2 条" in partial


def test_csv_and_xlsx_exports_carry_natural_keys_and_neutralise_formulas(world: World) -> None:
    alert = haidian_alert(world)
    Alert.objects.filter(pk=alert.pk).update(message=FORMULA)  # a specific state: a message that looks like a formula
    b = client_for(world["b_staff"])

    response = b.get("/monitoring/alerts/?export=csv&rule=XC01")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    [row] = csv_rows(response.content.decode("utf-8"))
    assert row["规则编号"] == "XC01" and row["规则名称"] == "供应无采购"
    assert row["供应企业统一社会信用代码"] == world.a.uscc and row["供应单号"] == "GY-0001"
    assert row["对象主键"] == f'{{"supplier_uscc": "{world.a.uscc}", "supply_no": "GY-0001"}}'
    assert row["项目编号"] == world.b_project.project_code and row["所在区"] == "海淀区"
    assert row["比对结果"] == "'" + FORMULA
    assert row["参数取值"] == "宽限期=15天" and row["状态"] == "待处理"

    response = b.get("/monitoring/alerts/?export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    values = dict(zip(HEADERS, rows[1], strict=True))
    assert values["供应单号"] == "GY-0001" and values["规则编号"] == "XC01"
    assert values["比对结果"] == "'" + FORMULA
    assert sheet.cell(row=2, column=HEADERS.index("比对结果") + 1).data_type == "s"

    exports = AuditEvent.objects.filter(action="export", target_type="monitoring.alert", actor_id=world["b_staff"].pk)
    assert sorted(e.changes["format"] for e in exports) == ["csv", "xlsx"]
    assert exports.get(changes__format="csv").changes == {"filters": {"rule": "XC01"}, "rows": 1, "format": "csv"}


def test_exports_are_scoped_to_what_the_user_sees(world: World) -> None:
    haidian_alert(world)
    chaoyang_alert(world)
    assert {
        r["供应单号"]
        for r in csv_rows(client_for(world["b_staff"]).get("/monitoring/alerts/?export=csv").content.decode())
    } == {"GY-0001"}
    assert {
        r["供应单号"]
        for r in csv_rows(client_for(world["cy_biz"]).get("/monitoring/alerts/?export=csv").content.decode())
    } == {"GY-0003"}


def test_export_alerts_command_writes_the_open_alerts(world: World, tmp_path: Path) -> None:
    haidian, chaoyang = haidian_alert(world), chaoyang_alert(world)
    Alert.objects.filter(pk=chaoyang.pk).update(message=FORMULA)
    city = world["city_biz"]
    actions.escalate_alert(alert=haidian, respondent=world.a, grounds="x", actor=city, context=context_for(city))
    out = io.StringIO()
    target = tmp_path / "alerts.csv"
    call_command("export_alerts", str(target), stdout=out)
    assert "已导出 2 条预警" in out.getvalue()
    rows = csv_rows(target.read_text(encoding="utf-8"))
    assert list(rows[0]) == HEADERS  # the columns of the web export
    assert {(r["供应单号"], r["状态"]) for r in rows} == {("GY-0001", "已立案"), ("GY-0003", "待处理")}
    assert next(r for r in rows if r["供应单号"] == "GY-0003")["比对结果"] == "'" + FORMULA

    call_command("export_alerts", str(target), "--district", "朝阳区", stdout=io.StringIO())
    assert [r["供应单号"] for r in csv_rows(target.read_text(encoding="utf-8"))] == ["GY-0003"]

    actions.dismiss_alert(alert=chaoyang, reason="核实无误", actor=city, context=context_for(city))
    call_command("export_alerts", str(target), "--rule", "xc01", stdout=io.StringIO())
    assert [r["供应单号"] for r in csv_rows(target.read_text(encoding="utf-8"))] == ["GY-0001"]
    call_command("export_alerts", str(target), "--all", stdout=io.StringIO())
    assert len(csv_rows(target.read_text(encoding="utf-8"))) == 2

    stdout: Any = io.StringIO()
    call_command("export_alerts", "-", stdout=stdout)
    assert [r["供应单号"] for r in csv_rows(stdout.getvalue())] == ["GY-0001"]

    with pytest.raises(CommandError, match="未知的规则编号：XC99"):
        call_command("export_alerts", str(target), "--rule", "XC99")
    with pytest.raises(CommandError, match="未知的区：火星区"):
        call_command("export_alerts", str(target), "--district", "火星区")


def test_list_page_queries_do_not_grow_with_the_rows(world: World) -> None:

    haidian_alert(world)
    city = client_for(world["city_biz"])
    with CaptureQueriesContext(connection) as few:
        assert city.get("/monitoring/alerts/").status_code == 200
    file_as(world["a_staff"], "supply", *(supply_row(world, n) for n in range(10, 16)))

    evaluate()
    assert Alert.objects.count() == 7
    with CaptureQueriesContext(connection) as many:
        assert "共 7 条" in city.get("/monitoring/alerts/").content.decode()
    assert len(many) == len(few)
