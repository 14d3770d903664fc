"""The set-based import of large files on PostgreSQL (`staged_imports`) behaves exactly like the per-row path.

Every file is imported twice from the same database state: once per row (`STAGED_MIN_ROWS` out of reach) and once
staged (`STAGED_MIN_ROWS = 0`); the reports (counts, every error's row, column, value and reason) and the stored
rows (versions, hashes, every column but the id and time) must be identical. The SQL helpers that stand in for
Python converters are checked against them value by value (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.filings import staged_imports
from jiancai.filings.actions import content_hash
from jiancai.filings.imports import run_import
from jiancai.filings.models import Supply, Tender
from jiancai.filings.tests.import_helpers import SUPPLY_HEADERS, csv_bytes, supply_row, xlsx_bytes
from jiancai.filings.tests.records import UNKNOWN_USCC

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the staged import is PostgreSQL's")


def stored(model: Any = Supply) -> list[tuple[Any, ...]]:
    """Every stored version, every column but the id and the time it was written."""
    key = "supply_no" if model is Supply else "tender_no"
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "created_at", key)]
    return list(model.objects.order_by(key, "version").values_list(key, *fields))


def import_both(
    world: World, data: bytes, monkeypatch: pytest.MonkeyPatch, *, actor: Any = "a_staff", kind: str = "supply"
) -> tuple[Any, ...]:
    """Import `data` per row, note the outcome, roll the table back, import it staged; return both outcomes."""
    model = Supply if kind == "supply" else Tender
    before = list(model.objects.values_list("pk", flat=True))
    results = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(staged_imports, "STAGED_MIN_ROWS", threshold)
        user = world[actor] if actor else None
        errors: list[Any] = []
        progress: list[int] = []
        report = run_import(
            kind,
            data,
            context=context_for(user) if user else _command_context(),
            actor=user,
            on_error=errors.append,
            on_progress=functools.partial(_note_progress, progress),
            chunk_rows=4,
        )
        assert (
            progress == sorted(progress)
            and progress[-1] == report.created + report.updated + report.unchanged + report.refused
        )
        counts = (report.rows, report.created, report.updated, report.unchanged, report.refused, report.error_total)
        results.append(
            (
                counts,
                report.file_error,
                [e.as_dict() for e in report.errors],
                [e.as_dict() for e in errors],
                stored(model),
            )
        )
        if threshold:  # undo the per-row import, so that the staged one starts from the same state
            model.objects.exclude(pk__in=before).delete()
            model.objects.filter(pk__in=before).update(is_current=False)
            for pk in _current_before[model]:
                model.objects.filter(pk=pk).update(is_current=True)
    per_row, staged = results
    assert staged == per_row
    return per_row


_current_before: dict[Any, list[int]] = {}


def _note_progress(seen: list[int], report: Any) -> None:
    seen.append(report.created + report.updated + report.unchanged + report.refused)


def _command_context() -> Any:
    from jiancai.audit.actions import AuditContext

    return AuditContext(actor_name="命令行导入")


@pytest.fixture(autouse=True)
def _remember_current() -> None:
    _current_before.clear()


def snapshot_current(model: Any = Supply) -> None:
    _current_before[model] = list(model.objects.filter(is_current=True).values_list("pk", flat=True))


def good(world: World, n: int, **overrides: Any) -> dict[str, Any]:
    return supply_row(world, n, **overrides)


def bad_rows(world: World) -> list[dict[str, Any]]:
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    return [
        good(world, 101, 合同编号=""),  # missing required
        good(world, 102, 数量="十吨"),  # not a number
        good(world, 103, 数量="0"),  # not positive
        good(world, 104, 数量="-5"),  # negative
        good(world, 105, 数量="1.23456"),  # more decimals than the column keeps (the per-row path rounds)
        good(world, 106, 单价="-1"),
        good(world, 107, **{"单价(元)": "-0.01"}),  # below the minimum
        good(world, 108, 项目编号="110105209999999"),  # unknown project
        good(world, 109, 供应企业统一社会信用代码="91110105MA01ABCDE1"),  # bad check character
        good(world, 110, 供应企业统一社会信用代码=UNKNOWN_USCC),  # no such enterprise
        good(world, 111, 供应企业统一社会信用代码=world.b.uscc),  # another organization (and not a supplier)
        good(world, 112, 材料品类="不存在"),  # unknown category
        good(world, 113, 计量单位="m³"),  # unit of another category
        good(world, 114, 供货日期=future),  # future
        good(world, 115, 供货日期="2025-02-30"),  # no such day
        good(world, 116, 供货日期="2025/6/1"),  # unpadded Excel date: fine
        good(world, 117, 规格型号="=cmd|' /C calc'!A0"),  # formula
        good(world, 118, 规格型号="-abc"),  # formula-like
        good(world, 119, 规格型号="+1", 批号="@x"),
        good(world, 120, 数量="=1+2"),  # formula in a number column
        good(world, 121, 批号="x" * 65),  # too long
        good(world, 122, 供货日期=""),  # missing date
        good(world, 123, 数量="1e3"),  # a number Python reads
        good(world, 124, 数量="Infinity"),
        good(world, 125, 供应单号="  GY-2025-0125\u3000", 规格型号="\u3000Φ20 "),  # padded with Unicode spaces
        good(world, 126, 供应企业统一社会信用代码=world.a.uscc.lower()),  # lower case code: fine
        good(world, 1, 批号="again"),  # repeats row 2's key
        good(world, 102, 批号="again"),  # repeats a bad row's key
        {h: "" for h in SUPPLY_HEADERS},  # an empty row: skipped
        good(world, 127, 数量="1,234,567.5", **{"单价(元)": "0"}),  # thousands separators, a zero price
        good(world, 128, 数量="100", **{"单价(元)": "3800.00"}),  # hashed as 1E+2 and 3.8E+3
        good(world, 129, 型式检验机构='含"引号"、\\反斜杠\t和换行\n的机构'),  # JSON escapes in the hash
        good(world, 130, 供货日期="0001-01-01"),
    ]


def test_good_and_every_bad_row_reimport_and_a_change(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [good(world, n) for n in range(1, 9)] + bad_rows(world) + [good(world, n) for n in range(9, 12)]
    snapshot_current()
    first = import_both(world, csv_bytes(rows), monkeypatch)
    counts, file_error, errors, streamed, _ = first
    assert not file_error and errors == streamed
    assert counts[1] > 12 and counts[4] >= 20, counts
    reasons = {e["reason"] for e in errors}
    for expected in ("为必填项", "必须大于0", "不能晚于今天", "“m³”与品类的计量单位 t 不符", "只能填报本单位的记录"):
        assert expected in reasons
    # Store the file once (staged), then: every row again is unchanged, and a changed row is version 2.
    monkeypatch.setattr(staged_imports, "STAGED_MIN_ROWS", 0)
    run_import("supply", csv_bytes(rows), context=context_for(world["a_staff"]), actor=world["a_staff"])
    snapshot_current()
    again = import_both(world, csv_bytes(rows, encoding="gb18030"), monkeypatch)
    assert again[0][1:4] == (0, 0, first[0][1])
    changed = [good(world, 3, 数量="7"), good(world, 4, 规格型号="HRB500E"), *(good(world, n) for n in range(5, 9))]
    snapshot_current()
    result = import_both(world, csv_bytes(changed, encoding="utf-8"), monkeypatch)
    assert result[0][1:4] == (0, 2, 4)
    names = [f.attname for f in Supply._meta.concrete_fields if f.attname not in ("id", "created_at", "supply_no")]
    versions = {r[0]: r[1 + names.index("version")] for r in result[4] if r[1 + names.index("is_current")]}
    assert versions["GY-2025-0003"] == 2 and versions["GY-2025-0005"] == 1


def test_xlsx_typed_cells(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def cells(row: dict[str, Any]) -> list[Any]:
        return [row[h] for h in SUPPLY_HEADERS]

    rows = [
        SUPPLY_HEADERS,
        cells(
            {**good(world, 1), "数量": 60.0, "单价(元)": 4150.5, "供货日期": dt.datetime(2025, 6, 1), "批号": 20250601}
        ),
        cells({**good(world, 2), "数量": 1.25, "供货日期": dt.date(2025, 6, 2), "规格型号": True}),
        cells({**good(world, 3), "供货日期": dt.datetime(2099, 1, 1, 8, 30)}),  # future, shown with its time
        cells({**good(world, 4), "规格型号": dt.datetime(2025, 1, 1), "数量": "=B2*2"}),
        cells({**good(world, 5), "数量": 1e-7, "单价(元)": 12}),
        [],
        cells({**good(world, 6), "供货日期": dt.datetime(2025, 6, 1, 23, 59, 59)}),
        [*cells(good(world, 7)), None, "stray"],  # a value beyond the header
        cells({**good(world, 1), "批号": "again"}),
    ]
    snapshot_current()
    counts, file_error, errors, _, stored_rows = import_both(world, xlsx_bytes(rows), monkeypatch)
    assert not file_error and counts[1] >= 4 and stored_rows


def test_a_file_broken_half_way_keeps_the_rows_before_the_break(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """csv.reader gives up on a field over its size limit: the rows before it are imported, the file is reported."""
    rows = [good(world, n) for n in range(1, 6)] + [good(world, 6, 规格型号="x" * 200_000), good(world, 7)]
    snapshot_current()
    counts, file_error, _, _, stored_rows = import_both(world, csv_bytes(rows), monkeypatch)
    assert counts[1] == 5 and "第7行无法解析" in file_error and len(stored_rows) == 5


def test_key_taken_by_another_filer(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tender number belongs to the builder that filed it: another builder's row with it is refused."""
    headers = ["招标编号", "项目编号", "材料品类", "中标企业统一社会信用代码", "合同编号", "中标单价(元)", "中标日期"]

    def tender(n: int, project: Any, price: str = "4100") -> dict[str, Any]:
        return dict(
            zip(
                headers,
                [f"ZB-{n:03d}", project.project_code, "GJ", world.b.uscc, "HT-1", price, "2025-05-01"],
                strict=True,
            )
        )

    monkeypatch.setattr(staged_imports, "STAGED_MIN_ROWS", 10**9)
    first = [tender(n, world.a_project) for n in range(1, 5)]
    run_import("tender", csv_bytes(first, headers=headers), context=_command_context(), actor=None)
    rows = [
        tender(1, world.b_project),
        tender(2, world.a_project),
        tender(3, world.a_project, "4200"),
        tender(9, world.b_project),
    ]
    snapshot_current(Tender)
    counts, _, errors, _, _ = import_both(
        world, csv_bytes(rows, headers=headers), monkeypatch, actor=None, kind="tender"
    )
    assert counts[1:5] == (1, 1, 1, 1) and errors[0]["reason"] == "该编号已被其他单位填报"


def test_the_staged_import_writes_one_audit_row_and_progresses(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staged_imports, "STAGED_MIN_ROWS", 0)
    monkeypatch.setattr(staged_imports, "STAGE_PROGRESS_ROWS", 10)
    seen: list[int] = []
    before = AuditEvent.objects.count()
    report = run_import(
        "supply",
        csv_bytes([good(world, n, 数量="5") for n in range(1, 41)]),
        context=context_for(world["a_staff"]),
        actor=world["a_staff"],
        on_progress=lambda r: seen.append(r.rows),
    )
    assert report.created == 40 and AuditEvent.objects.count() == before + 1
    assert [n for n in seen if 0 < n < 40] == [10, 20, 30, 40][:3]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.changes["counts"]["created"] == 40
    assert event.changes["keys"][0] == {"supplier_uscc": world.a.uscc, "supply_no": "GY-2025-0001"}


# ------------------------------------------------------------------------- SQL helpers against Python


def sql_value(expression: str, value: Any) -> Any:
    """`expression` (SQL over the column t) for t = value."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression} FROM (SELECT %s AS t) AS q", [value])  # noqa: S608 (test constants)
        return cursor.fetchone()[0]


@pytest.fixture
def helpers(db: None) -> None:
    pass


TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z") | st.dates().map(str) | TEXT)
def test_date_is_fromisoformat(helpers: None, text: str) -> None:
    try:
        expected: dt.date | None = dt.date.fromisoformat(text)
    except ValueError:
        expected = None
    found = sql_value(staged_imports.date_sql("t::text"), text)
    assert found is None or found == expected  # NULL: the row is left to the per-row path


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.decimals(min_value=0, max_value=Decimal("9999999999999.999"), places=3, allow_nan=False))
def test_decimal_text_is_normalized_str(helpers: None, number: Decimal) -> None:
    assert sql_value(staged_imports.decimal_text_sql("t::numeric"), str(number)) == str(number.normalize())


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXT)
def test_json_text_is_pythons(helpers: None, text: str) -> None:
    assert sql_value("to_json(t::text)::text", text) == json.dumps(text, ensure_ascii=False)


def test_content_hash_in_sql_is_content_hash(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staged_imports, "STAGED_MIN_ROWS", 0)
    rows = [good(world, 1, 数量="100", 型式检验机构='“引号” "q" \\ \t'), good(world, 2, **{"单价(元)": ""})]
    run_import("supply", csv_bytes(rows), context=context_for(world["a_staff"]), actor=world["a_staff"])
    for supply in Supply.objects.all():
        values = {
            "supply_no": supply.supply_no,
            "filer_id": supply.filer_id,
            "project_id": supply.project_id,
            "contract_no": supply.contract_no,
            "category_id": supply.category_id,
            "spec": supply.spec,
            "batch_no": supply.batch_no,
            "quantity": supply.quantity,
            "unit": supply.unit,
            "unit_price": supply.unit_price,
            "delivery_date": supply.delivery_date,
            "type_report_no": supply.type_report_no,
            "type_report_agency": supply.type_report_agency,
        }
        assert supply.content_hash == content_hash(values)
    assert hashlib.sha256(b"").hexdigest() not in {s.content_hash for s in Supply.objects.all()}
