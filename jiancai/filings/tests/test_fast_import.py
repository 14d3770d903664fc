"""The fast paths of filing and importing behave exactly like the plain ones.

- `content_hash` gives the same digest as its reference definition (so stored hashes stay valid).
- A batch written with the fast path (COPY on PostgreSQL, one prepared executemany INSERT on SQLite) stores the
  same rows, ids, versions and outcomes as one written with bulk_create.
- An import run with the writer thread (PostgreSQL, outside a transaction) reports and stores the same as an
  inline one, including every class of bad row, re-imports (unchanged) and corrections (version 2).
- The index-probing current-version lookup of PostgreSQL returns the rows of the ORM query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.actions import jsonable
from jiancai.audit.models import AuditEvent
from jiancai.filings import actions, imports
from jiancai.filings.actions import content_hash, file_records
from jiancai.filings.imports import run_import
from jiancai.filings.models import Channel, FilingStatus, Supply
from jiancai.filings.tests.import_helpers import csv_bytes
from jiancai.filings.tests.import_helpers import supply_row as file_row
from jiancai.filings.tests.records import UNKNOWN_USCC, supply_row

STORED = [
    "supply_no",
    "filer_id",
    "project_id",
    "category_id",
    "contract_no",
    "spec",
    "batch_no",
    "quantity",
    "unit",
    "unit_price",
    "delivery_date",
    "type_report_no",
    "type_report_agency",
    "version",
    "is_current",
    "status",
    "channel",
    "content_hash",
    "filed_by_id",
    "filed_by_name",
    "withdrawn_reason",
]


def stored_rows() -> list[tuple[Any, ...]]:
    return list(Supply.objects.order_by("supply_no", "version").values_list(*STORED))


def reference_hash(values: dict[str, Any]) -> str:
    """content_hash as first defined: jsonable over the whole dict, then canonical JSON."""
    normal = {k: v.normalize() if isinstance(v, Decimal) else v for k, v in values.items()}
    payload = json.dumps(jsonable(normal), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@pytest.mark.parametrize(
    "values",
    [
        {"supply_no": "GY-1", "filer_id": 3, "quantity": Decimal("60.000"), "unit_price": None},
        {"b": Decimal("1E+2"), "a": dt.date(2025, 6, 1), "c": "钢筋 “Φ20”", "d": True, "e": 0, "f": ""},
        {"t": dt.datetime(2025, 6, 1, 8, 30, tzinfo=dt.UTC), "n": Decimal("-0.50"), "x": 1.5, "list": ["a", 1]},
    ],
)
def test_content_hash_equals_its_reference_definition(values: dict[str, Any]) -> None:
    assert content_hash(values) == reference_hash(values)


def file_batches(world: World, monkeypatch: pytest.MonkeyPatch, copy_min_rows: int) -> list[list[tuple[Any, ...]]]:
    """New rows, then a batch with unchanged, changed, re-filed withdrawn, duplicate and bad rows."""
    monkeypatch.setattr(actions, "COPY_MIN_ROWS", copy_min_rows)
    user = world["a_staff"]
    context = context_for(user)
    first = file_records(
        kind="supply",
        rows=[supply_row(world, n) for n in range(1, 6)],
        context=context,
        channel=Channel.IMPORT,
        actor=user,
    )
    withdrawn = Supply.objects.get(supply_no="GY-0005")
    actions.withdraw_filing(filing=withdrawn, reason="录入错误", actor=user, context=context)
    second = file_records(
        kind="supply",
        rows=[
            supply_row(world, 1),  # unchanged
            supply_row(world, 2, quantity="61"),  # changed: version 2
            supply_row(world, 3, quantity="60.000"),  # the same number written otherwise: unchanged
            supply_row(world, 5),  # withdrawn, filed again: version 2, submitted
            supply_row(world, 6),  # new
            supply_row(world, 6, quantity="7"),  # duplicate in the batch
            supply_row(world, 7, quantity="-1"),  # bad number
            supply_row(world, 8, supplier_uscc=UNKNOWN_USCC),  # unknown enterprise
            supply_row(world, 9, delivery_date="2099-01-01"),  # future date
            supply_row(world, 10, unit="kg"),  # unit of another category
            supply_row(world, 11, spec="=HYPERLINK(1)"),  # formula
            supply_row(world, 12, project_code=""),  # missing
            supply_row(world, 13),  # new
        ],
        context=context,
        channel=Channel.IMPORT,
        actor=user,
    )
    outcomes = [
        [(r.index, r.outcome, r.version, [(e.field, e.code, e.message) for e in r.errors]) for r in result.rows]
        for result in (first, second)
    ]
    return [*outcomes, stored_rows()]


def test_copy_and_bulk_create_store_the_same(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with_bulk_create = file_batches(world, monkeypatch, copy_min_rows=10**9)
    assert [o for _, o, _, _ in with_bulk_create[1]].count("refused") == 7
    events = AuditEvent.objects.count()
    Supply.objects.all().delete()
    with_copy = file_batches(world, monkeypatch, copy_min_rows=1)
    assert with_copy == with_bulk_create
    assert AuditEvent.objects.count() == 2 * events  # one batch row per stored batch, the withdrawal's row
    versions = {(r[0], r[13]): r[14] for r in with_copy[2]}
    assert versions[("GY-0002", 1)] is False and versions[("GY-0002", 2)] is True
    assert versions[("GY-0005", 2)] is True and ("GY-0001", 2) not in versions


def test_copy_returns_the_stored_rows_ids(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "COPY_MIN_ROWS", 1)
    user = world["a_staff"]
    result = file_records(
        kind="supply",
        rows=[supply_row(world, n) for n in range(1, 4)],
        context=context_for(user),
        channel=Channel.IMPORT,
        actor=user,
    )
    stored = dict(Supply.objects.values_list("pk", "supply_no"))
    assert {r.pk: f"GY-{r.index + 1:04d}" for r in result.rows} == stored
    assert Supply.objects.filter(created_at__isnull=True).count() == 0
    assert set(Supply.objects.values_list("status", flat=True)) == {FilingStatus.SUBMITTED}


def test_the_probed_lookup_returns_the_orm_rows(world: World) -> None:
    user = world["a_staff"]
    file_records(
        kind="supply",
        rows=[supply_row(world, n) for n in range(1, 4)],
        context=context_for(user),
        channel=Channel.IMPORT,
        actor=user,
    )
    file_records(
        kind="supply", rows=[supply_row(world, 2, quantity="9")], context=context_for(user), channel="api", actor=user
    )
    keys = [(world.a.pk, "GY-0001"), (world.a.pk, "GY-0002"), (world.a.pk, "GY-9999")]
    found = actions._current_versions(Supply, ["filer_id", "supply_no"], keys)
    expected = {
        (row["filer_id"], row["supply_no"]): row
        for row in Supply.objects.filter(is_current=True, supply_no__in=["GY-0001", "GY-0002", "GY-9999"]).values(
            "pk", "version", "status", "content_hash", "filer_id", "supply_no"
        )
    }
    assert found == expected and found[(world.a.pk, "GY-0002")]["version"] == 2
    if connection.vendor == "postgresql":
        probed = actions._current_versions_probed(
            Supply, ["pk", "version", "status", "content_hash", "filer_id", "supply_no"], ["filer_id"],
            (world.a.pk,), "supply_no", ["GY-0001", "GY-0002", "GY-9999"],
        )  # fmt: skip
        assert {(r["filer_id"], r["supply_no"]): r for r in probed} == expected


def import_file(world: World, rows: list[dict[str, Any]], *, chunk_rows: int) -> tuple[Any, ...]:
    user = world["a_staff"]
    errors: list[Any] = []
    progress: list[int] = []
    report = run_import(
        "supply",
        csv_bytes(rows),
        context=context_for(user),
        actor=user,
        on_error=errors.append,
        on_progress=lambda r: progress.append(r.created + r.updated + r.unchanged + r.refused),
        chunk_rows=chunk_rows,
    )
    assert progress == sorted(progress) and (progress[-1] == report.rows or report.file_error)
    counts = (report.rows, report.created, report.updated, report.unchanged, report.refused, report.file_error)
    return counts, [e.as_dict() for e in report.errors], [e.as_dict() for e in errors]


def import_three_times(world: World) -> list[Any]:
    good = [file_row(world, n) for n in range(1, 30)]
    bad = [
        file_row(world, 40, 数量="abc"),
        file_row(world, 41, 供应企业统一社会信用代码=UNKNOWN_USCC),
        file_row(world, 5),  # repeats row 5's key
        file_row(world, 42, 规格型号="=1+1"),
        file_row(world, 43, 供货日期="2099-01-01"),
    ]
    first = import_file(world, good[:10] + bad + good[10:], chunk_rows=4)
    again = import_file(world, good, chunk_rows=4)
    changed = import_file(world, [file_row(world, 3, 数量="7")] + good[5:8], chunk_rows=2)
    return [first, again, changed, stored_rows()]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_writer_thread_imports_like_the_inline_writer(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    threaded = import_three_times(world)
    assert threaded[0][0][:5] == (34, 29, 0, 0, 5)
    assert threaded[1][0][:5] == (29, 0, 0, 29, 0)
    assert threaded[2][0][:5] == (4, 0, 1, 3, 0)
    assert [e["row"] for e in threaded[0][1]] == sorted(e["row"] for e in threaded[0][1])
    assert threaded[0][1] == threaded[0][2]
    Supply.objects.all().delete()
    monkeypatch.setattr(imports, "_writer_for", lambda kind: imports._InlineWriter())
    inline = import_three_times(world)
    assert threaded == inline
    assert Supply.objects.filter(supply_no="GY-2025-0003").count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_error_in_the_writer_stops_the_import_with_a_file_error(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite stores any number in a decimal column: no database error to provoke")
    rows = [file_row(world, n) for n in range(1, 13)]
    rows[5]["数量"] = "1" + "0" * 20  # passes validation, overflows numeric(16, 3): the database refuses the chunk
    counts, errors, _ = import_file(world, rows, chunk_rows=4)
    assert counts[1] == 4 and "保存第" in counts[5] and "数据库出错" in counts[5] and not errors
    assert Supply.objects.count() == 4
