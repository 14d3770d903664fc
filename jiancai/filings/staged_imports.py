# ruff: noqa: S608
# (the SQL is built from the schema's and the model's constant names, quoted identifiers and sql.Literal values)
"""Set-based bulk import of filings on PostgreSQL: stage the file, validate and store the clean rows in SQL.

`imports.run_import` hands a large CSV or XLSX file of a filing kind on PostgreSQL to `import_staged` once it has
mapped the header. The rules stay in one place (`schemas.py`, `actions.py`, `imports._Importer`); this module
only decides, set-based, which rows are *certainly clean*, and stores those with a few statements. Every other
row goes through the ordinary per-row path, so its errors are the ones that path reports:

1. **Stage.** Every data row is copied (`COPY … FROM STDIN`, psycopg `write_row`) into a temporary table of text
   columns, one per file column, with its spreadsheet row number. Cells are stripped in Python (`str.strip`,
   the rule itself); XLSX cells are first written as the text that `parse_row` treats exactly like the cell
   (numbers as `str`/`repr`, dates as ISO text), with a bit per datetime cell. A row whose stripping changed a
   non-blank cell, or with a cell no text stands for, keeps its cells as read (`orig`, tagged JSON) and is a
   suspect. Generated columns parse the plain numbers and `YYYY-MM-DD` dates as PostgreSQL stores each row.
2. **Verdicts per distinct value.** Enterprise codes, project codes, categories and choice values are few per
   file: each distinct value is run once through the Python rules (`parse_row` on the one field, the reference
   lookups of `Resolver`, the filer check of `actions._check_filers`), and the verdicts are joined.
3. **Clean rows in SQL.** The other fields are accepted only in forms whose conversion is exact and proven
   equal to the Python converters by `tests/test_staged_import.py`: text without a formula-like start within its
   length; unsigned plain decimals within the column's digits; `YYYY-MM-DD` dates, valid and not in the future.
   A row is clean when every field is, the unit fits the category, dated fields are in order and no earlier row
   of the file has its key. Anything else (a comma in a number, a formula, an unknown enterprise, a datetime
   field, a duplicate key, …) makes the row a *suspect*.
4. **Store the clean rows** in one transaction: the content hash (`actions.content_hash`, computed in SQL), the
   current versions joined once, key_taken / unchanged / updated / created exactly as `actions._store` decides,
   retire + `INSERT … SELECT`, one audit row for the import, `announce` of the new ids (in chunks).
5. **Suspects** (usually few; all rows of a file full of errors) are read back in row order and fed to an
   ordinary `imports._Importer`, chunk by chunk, with the file's duplicate keys pre-seeded: their outcomes and
   errors are those of the per-row path by construction.

Failure: the clean rows are stored all or nothing (one transaction); a database error stops the import with a
file error before any suspect is stored. A concurrent filing of one of the keys (unique violation) rolls the set
store back and sends the clean rows through the per-row path instead, which retries and reports `conflict`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from psycopg import sql

from jiancai.accounts.models import User
from jiancai.audit.actions import AuditContext, record_event
from jiancai.audit.models import AuditAction

from .actions import _check_filers, _key_field
from .models import FILING_MODELS, Channel, Filing, FilingStatus, TestKind
from .schemas import FieldSpec, ParsedRow, RecordSchema, Resolver, parse_row
from .signals import announce

if TYPE_CHECKING:
    from .imports import ColumnMap, ErrorSink, ImportReport, ProgressSink, RowError

# A file of a filing kind with at least this many data rows (estimated from its size) is imported set-based on
# PostgreSQL; smaller files, SQLite, registry kinds, forms and the API keep the per-row path.
STAGED_MIN_ROWS = 1000
ANNOUNCE_CHUNK = 5000
STAGE_PROGRESS_ROWS = 50_000
WORK_MEM = (
    "512MB"  # for the session while it validates a staged file  # on_progress while staging, every this many rows
)

# Low-cardinality field types, validated by running the Python rules once per distinct value.
VERDICT_TYPES = frozenset({"uscc", "project", "category", "choice"})

STAGE = "jc_import_stage"
CHECKED = "jc_import_checked"
DUPS = "jc_import_dups"
VERDICT = "jc_import_verdict_{}"


def use_staged(kind: str, rows_expected: int | None) -> bool:
    return (
        connection.vendor == "postgresql"
        and kind in FILING_MODELS
        and rows_expected is not None
        and rows_expected >= STAGED_MIN_ROWS
    )


# ------------------------------------------------------------------------------------------------ staging


def _stage_cell(value: Any) -> tuple[str | None, bool, bool]:
    """(text, is_datetime, exact) for an XLSX cell: text that parse_row treats exactly like the cell."""
    if value is None or type(value) is str:
        return value, False, True
    if isinstance(value, bool):
        return ("是" if value else "否"), False, True  # imports._cell
    if isinstance(value, int):
        return str(value), False, True
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), False, True
        return repr(value), False, value == value and abs(value) != float("inf")
    if isinstance(value, dt.datetime):
        return str(value), True, value.tzinfo is None
    if isinstance(value, dt.date):
        return value.isoformat(), False, True
    if isinstance(value, dt.time):
        return value.isoformat(), False, True  # imports._cell
    return str(value), False, True  # imports._cell


def _encode_orig(cells: Sequence[Any]) -> str:
    def tag(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return {"datetime": value.isoformat()}
        if isinstance(value, dt.date):
            return {"date": value.isoformat()}
        if isinstance(value, dt.time):
            return {"time": value.isoformat()}
        if isinstance(value, float):
            return {"float": repr(value)}
        if value is None or isinstance(value, (str, int, bool)):
            return value
        return str(value)

    return json.dumps([tag(v) for v in cells], ensure_ascii=False)


def _decode_orig(text: str) -> list[Any]:
    def untag(value: Any) -> Any:
        if isinstance(value, dict):
            ((name, raw),) = value.items()
            return {
                "datetime": dt.datetime.fromisoformat,
                "date": dt.date.fromisoformat,
                "time": dt.time.fromisoformat,
                "float": float,
            }[name](raw)
        return value

    return [untag(v) for v in json.loads(text)]


def _stage(
    rows: Iterator[tuple[int, Sequence[Any]]],
    width: int,
    xlsx: bool,
    typed: dict[str, str],
    report: ImportReport,
    progress: Callable[[], None],
) -> None:
    """Copy the data rows, stripped, into the staging table; the numbers and dates of the plain forms are parsed
    by PostgreSQL as it stores each row (generated columns). A row whose cells stripping changed (beyond blank
    cells) or that has cells no text stands for keeps its cells as read (`orig`) for the per-row path. An
    ImportFileError of the reader propagates after the rows before it are staged (the caller imports those)."""
    from .imports import ImportFileError

    cells_sql = ", ".join(f"c{i}" for i in range(width))
    generated = "".join(f", {name} {definition}" for name, definition in typed.items())
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}, {CHECKED}, {DUPS}")
        cursor.execute(
            f"CREATE TEMP TABLE {STAGE} (n bigint NOT NULL, dt_mask bigint NOT NULL, overflow boolean NOT NULL, "
            f"orig text, {', '.join(f'c{i} text NOT NULL' for i in range(width))}{generated})"
        )
        sql_copy = f"COPY {STAGE} (n, dt_mask, overflow, orig, {cells_sql}) FROM STDIN"
        broken: Exception | None = None
        with cursor.cursor.copy(sql_copy) as copy:
            write = copy.write_row
            pad = ("",) * width
            try:
                _copy_rows(rows, write, width, xlsx, pad, report, progress)
            except ImportFileError as exc:  # the rows before the broken spot are staged and imported
                broken = exc
        if broken is not None:
            raise broken


def _copy_rows(
    rows: Iterator[tuple[int, Sequence[Any]]],
    write: Callable[[Sequence[Any]], None],
    width: int,
    xlsx: bool,
    pad: tuple[str, ...],
    report: ImportReport,
    progress: Callable[[], None],
) -> None:
    """Write the rows (stripped; XLSX cells as their text) to the COPY; progress every STAGE_PROGRESS_ROWS."""
    staged = 0
    for number, cells in rows:
        staged += 1
        if staged % STAGE_PROGRESS_ROWS == 0:
            report.rows = staged
            progress()
        if not xlsx and len(cells) == width:
            texts = [c.strip() for c in cells]
            if texts == cells or all(t == c or not t for t, c in zip(texts, cells, strict=True)):
                write((number, 0, False, None, *texts))
            else:
                write((number, 0, False, _encode_orig(cells), *texts))
            continue
        mask, overflow, exact = 0, False, True
        texts = []
        for index, value in enumerate(cells[:width]):
            if xlsx:
                text, is_datetime, ok = _stage_cell(value)
                exact = exact and ok
                if is_datetime:
                    mask |= 1 << index
            else:
                text = value
            stripped = "" if text is None else text.strip()
            exact = exact and (stripped == text or not stripped)
            texts.append(stripped)
        for value in cells[width:]:
            if value is not None and (not isinstance(value, str) or value.strip()):
                overflow = True
        orig = _encode_orig(cells) if overflow or not exact else None
        write((number, mask, overflow, orig, *texts, *pad[len(texts) :]))


# ------------------------------------------------------------------------------------------------ verdicts


@dataclass(frozen=True)
class _Verdict:
    ok: bool
    id: int | None  # organization / project / category id
    unit: str | None  # the category's unit
    filer: int | None  # the filer a project stands for (kinds without a filer column: its builder)
    value: str | None  # the parsed value (choice)
    norm: str | None  # the text the duplicate check of imports._Importer compares


@functools.cache
def _one_field(spec: FieldSpec) -> RecordSchema:
    return RecordSchema("one", "", (spec,), None)


def _verdicts(
    kind: str, schema: RecordSchema, spec: FieldSpec, raws: list[str], resolver: Resolver, actor: User | None
) -> dict[str, _Verdict]:
    """The Python rules run once per distinct value of a low-cardinality column ('' stands for empty)."""
    parsed: dict[str, ParsedRow] = {}
    cells: dict[str, str | None] = {}
    for raw in raws:
        cell = raw if raw.strip() else None  # imports._cell
        cells[raw] = cell
        parsed[raw] = parse_row(_one_field(spec), {spec.key: cell})
    resolver.prefetch(schema, parsed.values())
    found: dict[str, tuple[int | None, str | None, int | None]] = {}
    for raw, row in parsed.items():
        value = row.values.get(spec.key)
        if row.errors or not value:
            found[raw] = (None, None, None)
        elif spec.type == "uscc":
            found[raw] = (resolver.orgs.get(value), None, None)
        elif spec.type == "project":
            ref = resolver.projects.get(value)
            found[raw] = (ref.id, None, ref.builder_id) if ref else (None, None, None)
        elif spec.type == "category":
            cat = resolver.categories.get(value)
            found[raw] = (cat.id, cat.unit, None) if cat else (None, None, None)
        else:
            found[raw] = (None, None, None)
    # The filer check (kind of enterprise, the actor's own organization) on the column that names the filer.
    filer_column = schema.filer_key is not None and spec.key == schema.filer_key
    builder_column = schema.filer_key is None and spec.type == "project"
    if filer_column or builder_column:
        items = [raw for raw in raws if found[raw][2 if builder_column else 0] is not None]
        values = [{"filer_id": found[raw][2 if builder_column else 0]} for raw in items]
        _check_filers(kind, [parsed[raw] for raw in items], values, actor, schema.filer_key or "project_code")
    verdicts: dict[str, _Verdict] = {}
    for raw in raws:
        row, (ref_id, unit, builder) = parsed[raw], found[raw]
        value = row.values.get(spec.key)
        cell = cells[raw]
        if not value:
            ok = not row.errors and not spec.required
        elif spec.type in ("uscc", "project", "category"):
            ok = not row.errors and ref_id is not None
        else:
            ok = not row.errors
        text = "" if cell is None else str(cell).strip()
        norm = (text.upper() if spec.type == "uscc" else text) or None
        verdicts[raw] = _Verdict(ok, ref_id, unit, builder, value if isinstance(value, str) else None, norm)
    return verdicts


# --------------------------------------------------------------------------------------------- the checks


def _lit(value: Any) -> str:
    return sql.Literal(value).as_string(connection.connection)


# A YYYY-MM-DD text that is a valid date (date.fromisoformat reads it), 29 February aside; year 0000 is no date.
DATE_RE = (
    r"^(?!0000)[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)$"
)


def date_sql(text: str) -> str:
    """SQL: the date of the stripped text `text` as date.fromisoformat reads it, NULL when it is none."""
    year = f"substr({text}, 1, 4)::int"
    leap = f"mod({year}, 4) = 0 AND (mod({year}, 100) <> 0 OR mod({year}, 400) = 0)"
    return (
        f"CASE WHEN {text} ~ {_lit(DATE_RE)} THEN {_make_date(text)} "
        f"WHEN {text} ~ '^[0-9]{{4}}-02-29$' THEN CASE WHEN {leap} THEN {_make_date(text)} END END"
    )


def _make_date(text: str) -> str:
    """SQL: the date of a text starting with a valid YYYY-MM-DD (immutable, unlike a cast from text)."""
    return f"make_date(substr({text}, 1, 4)::int, substr({text}, 6, 2)::int, substr({text}, 9, 2)::int)"


def decimal_text_sql(number: str) -> str:
    """SQL: str(Decimal.normalize()) of a non-negative numeric with few decimals (what content_hash hashes)."""
    trimmed = f"trim_scale({number})::text"
    digits = f"rtrim({trimmed}, '0')"
    return (
        f"CASE WHEN {number} = 0 THEN '0' WHEN scale(trim_scale({number})) > 0 OR {trimmed} !~ '0$' "
        f"THEN {trimmed} ELSE left({digits}, 1) "
        f"|| CASE WHEN length({digits}) > 1 THEN '.' || substr({digits}, 2) ELSE '' END "
        f"|| 'E+' || (length({trimmed}) - 1)::text END"
    )


@dataclass
class _Field:
    spec: FieldSpec
    index: int | None  # file column
    text: str  # SQL: the stripped cell text ('' when empty)
    typed: str  # SQL: the number or date of a decimal, int or date field (NULL when not in a form taken)
    typed_def: str  # the staging table's generated column that computes `typed` (over the stripped cell)
    is_datetime: str  # SQL: the cell was an XLSX datetime


def _fields(schema: RecordSchema, model: type[Filing], columns: ColumnMap) -> dict[str, _Field]:
    index_of = {spec.key: i for i, spec in enumerate(columns.specs) if spec is not None}
    fields: dict[str, _Field] = {}
    for spec in schema.fields:
        i = index_of.get(spec.key)
        text = f"y.c{i}" if i is not None else "''::text"
        mask = f"(y.dt_mask & {1 << i} <> 0)" if i is not None else "false"
        typed, typed_def = ("NULL::date" if spec.type == "date" else "NULL::numeric"), ""
        if i is not None and spec.type in ("decimal", "int", "date"):
            cell = f"c{i}"
            typed = f"y.typed_{spec.key}"
            if spec.type == "date":
                typed_def = (
                    f"date GENERATED ALWAYS AS (CASE WHEN dt_mask & {1 << i} <> 0 THEN {_make_date(cell)} "
                    f"ELSE {date_sql(cell)} END) STORED"
                )
            else:  # the cast never fails: only the plain forms are taken
                number = f"translate({cell}, ',，', '')"  # thousands separators, as schemas._decimal drops them
                whole, places = _decimal_digits(model, spec) if spec.type == "decimal" else (9, 0)
                pattern = f"^[0-9]{{1,{whole}}}" + (f"(\\.[0-9]{{1,{places}}})?$" if places else "$")
                typed_def = (
                    f"numeric GENERATED ALWAYS AS (CASE WHEN {number} ~ {_lit(pattern)} THEN {number}::numeric END) "
                    "STORED"
                )
        fields[spec.key] = _Field(spec, i, text, typed, typed_def, mask)
    return fields


def _decimal_digits(model: type[Filing], spec: FieldSpec) -> tuple[int, int]:
    field = model._meta.get_field(spec.attr or spec.key)
    places = int(field.decimal_places)  # type: ignore[union-attr]
    return int(field.max_digits) - places, places  # type: ignore[union-attr]


def _checks(
    schema: RecordSchema, model: type[Filing], fields: dict[str, _Field], today: dt.date
) -> tuple[list[str], list[tuple[str, str]], str, list[str]]:
    """SQL of the clean-row conditions, the model values (column, SQL) and the hash, and the key parts."""
    clean: list[str] = []
    values: list[tuple[str, str]] = []  # (model attname, SQL value), in the order of check_row's model values
    hashed: dict[str, str] = {}  # model attname -> SQL of its JSON text
    today_sql = _lit(today) + "::date"
    for key, f in fields.items():
        spec, text = f.spec, f.text
        attr = spec.attr or spec.key
        empty = f"NOT {str(spec.required).lower()}"
        if spec.type in VERDICT_TYPES:
            v = f"y.v_{key}"
            clean.append(f"NOT {f.is_datetime} AND {v}_ok")
            if spec.type in ("uscc", "project", "category"):
                column = "category_id" if spec.type == "category" else f"{attr}_id"
                values.append((column, f"{v}_id"))
                hashed[column] = f"coalesce({v}_id::text, 'null')"
            else:
                values.append((attr, f"{v}_value"))
                hashed[attr] = f"coalesce(to_json({v}_value)::text, 'null')"
        elif spec.type == "text":
            rule = f"left({text}, 1) NOT IN ('=', '+', '@', '-') AND char_length({text}) <= {spec.max_length}"
            if key == "unit" and "category" in fields:
                rule += f" AND {text} = y.v_category_unit"
            if schema.kind == "ticket" and key == "grade":
                rule = "false"  # the grade pattern (GRADE_RE) stays with the per-row path
            clean.append(f"NOT {f.is_datetime} AND CASE WHEN {text} = '' THEN {empty} ELSE {rule} END")
            values.append((attr, text))
            hashed[attr] = f"to_json({text})::text"
        elif spec.type in ("decimal", "int"):
            bound = "> 0" if spec.positive else f">= {spec.min_value}" if spec.min_value is not None else ">= 0"
            clean.append(
                f"NOT {f.is_datetime} AND CASE WHEN {text} = '' THEN {empty} "
                f"WHEN {f.typed} IS NOT NULL THEN {f.typed} {bound} ELSE false END"
            )
            values.append((attr, f.typed))
            hashed[attr] = (
                f"coalesce('\"' || ({decimal_text_sql(f.typed)}) || '\"', 'null')"
                if spec.type == "decimal"
                else f"coalesce({f.typed}::bigint::text, 'null')"
            )
        elif spec.type == "date":
            clean.append(f"CASE WHEN {text} = '' THEN {empty} ELSE coalesce({f.typed} <= {today_sql}, false) END")
            values.append((attr, f.typed))
            hashed[attr] = f"coalesce('\"' || to_char({f.typed}, 'YYYY-MM-DD') || '\"', 'null')"
        else:  # datetime: the per-row path
            clean.append(f"{text} = '' AND {empty}")
            values.append((attr, "NULL::timestamptz"))
            hashed[attr] = "'null'"
    for first, second in (("sample_date", "test_date"),):
        if first in fields and second in fields:
            a, b = (dict(values)[fields[k].spec.attr or k] for k in (first, second))
            clean.append(f"coalesce(({b}) >= ({a}), true)")
    if schema.kind == "test_report":
        clean.append(
            f"(y.v_kind_value IS DISTINCT FROM {_lit(TestKind.WITNESS.value)} OR {fields['project_code'].text} <> '')"
        )
    if schema.filer_key is None:
        values.append(("filer_id", "y.v_project_code_filer"))
        hashed["filer_id"] = "coalesce(y.v_project_code_filer::text, 'null')"
    pieces: list[str] = []
    for position, attr in enumerate(sorted(hashed)):
        pieces.append(_lit(("{" if position == 0 else ",") + json.dumps(attr) + ":"))
        pieces.append(hashed[attr])
    hash_sql = f"encode(sha256(convert_to(concat({', '.join(pieces)}, '}}'), 'UTF8')), 'hex')"
    return clean, values, hash_sql, []


# ------------------------------------------------------------------------------------------------ importing


@dataclass
class _Suspect:
    number: int
    cells: list[Any]
    first: int | None  # the first row of the file with the row's key, when the key repeats


def import_staged(
    schema: RecordSchema,
    columns: ColumnMap,
    rows: Iterator[tuple[int, Sequence[Any]]],
    report: ImportReport,
    *,
    context: AuditContext,
    actor: User | None,
    on_error: ErrorSink | None,
    on_progress: ProgressSink | None,
    chunk_rows: int,
) -> None:
    """Import the data rows after the header (see the module docstring). Fills `report`; ImportFileError for a
    file-level problem, raised after every row that could be imported was."""
    try:
        _import_staged(
            schema,
            columns,
            rows,
            report,
            context=context,
            actor=actor,
            on_error=on_error,
            on_progress=on_progress,
            chunk_rows=chunk_rows,
        )
    finally:
        _drop_tables(schema)


def _import_staged(
    schema: RecordSchema,
    columns: ColumnMap,
    rows: Iterator[tuple[int, Sequence[Any]]],
    report: ImportReport,
    *,
    context: AuditContext,
    actor: User | None,
    on_error: ErrorSink | None,
    on_progress: ProgressSink | None,
    chunk_rows: int,
) -> None:
    from .imports import ERRORS_KEPT, ImportFileError, ImportReport, _Importer, _writer_for

    kind = schema.kind
    model = FILING_MODELS[kind]

    def progress() -> None:
        if on_progress is not None:
            on_progress(report)

    width = len(columns.specs)
    fields = _fields(schema, model, columns)
    typed = {f"typed_{key}": f.typed_def for key, f in fields.items() if f.typed_def}
    read_error: ImportFileError | None = None
    try:
        _stage(rows, width, report.file_format == "xlsx", typed, report, progress)
    except ImportFileError as exc:
        read_error = exc
    with connection.cursor() as cursor:
        cursor.execute(f"SET work_mem = {_lit(WORK_MEM)}")  # the validation pass holds the staged rows in memory
    today = timezone.localdate()
    resolver = Resolver()
    verdict_indexes = [f.index for f in fields.values() if f.spec.type in VERDICT_TYPES and f.index is not None]
    with connection.cursor() as cursor:  # statistics of the joined columns: the joins are planned on real numbers
        cursor.execute(f"ANALYZE {STAGE} ({', '.join(f'c{i}' for i in verdict_indexes) or 'n'})")
    joins: list[str] = []
    verdict_columns: list[str] = []
    with connection.cursor() as cursor:
        for key, f in fields.items():
            if f.spec.type not in VERDICT_TYPES:
                continue
            table = VERDICT.format(key)
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TEMP TABLE {table} (raw text PRIMARY KEY, ok boolean, id bigint, unit text, filer bigint, "
                "value text, norm text)"
            )
            if f.index is not None:
                cursor.execute(f"SELECT DISTINCT c{f.index} FROM {STAGE}")
                raws = [r[0] for r in cursor.fetchall()]
            else:
                raws = [""]
            verdicts = _verdicts(kind, schema, f.spec, raws, resolver, actor)
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for raw, v in verdicts.items():
                    copy.write_row((raw, v.ok, v.id, v.unit, v.filer, v.value, v.norm))
            cursor.execute(f"ANALYZE {table}")
            joins.append(f"JOIN {table} v_{key} ON v_{key}.raw = {f.text}")
            verdict_columns.extend(
                f"v_{key}.{c} AS v_{key}_{c}" for c in ("ok", "id", "unit", "filer", "value", "norm")
            )

    clean, values, hash_sql, _ = _checks(schema, model, fields, today)
    # Problems imports._Importer.add finds before any field rule: a formula in a number or date column, a value
    # in a column without a header. Rows with one are not compared for duplicate keys.
    # (value.lstrip() starts with "=" exactly when value.strip() does.)
    add_problems = ["y.overflow"]
    for f in fields.values():
        if f.index is not None and f.spec.type in ("decimal", "int", "date", "datetime"):
            add_problems.append(f"left({f.text}, 1) IN ('=', '@')")
    for i in sorted(columns.unnamed):
        add_problems.append(f"y.c{i} <> ''")
    nonempty = " OR ".join(["y.overflow"] + [f"y.c{i} <> ''" for i in range(width)])
    key_inputs = _key_inputs(schema)
    key_parts = [
        f"y.v_{k}_norm" if fields[k].spec.type in VERDICT_TYPES else f"nullif({fields[k].text}, '')" for k in key_inputs
    ]
    key_fields = [f"{k}_id" if k in model.relation_keys() else k for k in model.natural_key]
    meta = model._meta
    q = connection.ops.quote_name
    column_of: dict[str, str] = {f.attname: f.column for f in meta.concrete_fields}  # type: ignore[misc]
    current_join = " AND ".join(f"cur.{q(column_of[k])} = x.{q(k)}" for k in key_fields)
    value_list = ", ".join(f"{sql_value} AS {q(attr)}" for attr, sql_value in values)
    eligible = f"NOT ({' OR '.join(add_problems)})"
    with connection.cursor() as cursor:
        # One pass: the flags of every row, and for clean rows the model values, the hash and the current version.
        cursor.execute(
            f"CREATE TEMP TABLE {CHECKED} AS "
            f"WITH y AS (SELECT y.*, {', '.join(verdict_columns)} FROM {STAGE} y {' '.join(joins)}), "
            f"x AS (SELECT y.n, ({nonempty}) AS nonempty, ({eligible}) AS eligible, "
            f"ARRAY[{', '.join(key_parts)}] AS k, "
            # NULL (a rule that could not decide) counts as not clean: the row takes the per-row path.
            f"coalesce(y.orig IS NULL AND ({eligible}) AND {' AND '.join(f'({c})' for c in clean)}, false) AS clean, "
            f"{value_list}, {hash_sql} AS hash FROM y) "
            f"SELECT x.*, cur.id AS cur_id, cur.version AS cur_version, cur.content_hash AS cur_hash, "
            f"cur.status AS cur_status, cur.filer_id AS cur_filer FROM x "
            f"LEFT JOIN {q(meta.db_table)} cur ON x.clean AND cur.is_current AND {current_join}"
        )
        # Keys repeated in the file: the first row (eligible, key complete) of each.
        cursor.execute(
            f"CREATE TEMP TABLE {DUPS} AS SELECT k, min(n) AS first FROM {CHECKED} "
            "WHERE nonempty AND eligible AND array_position(k, NULL) IS NULL GROUP BY k HAVING count(*) > 1"
        )
        cursor.execute(f"ANALYZE {DUPS}")
        cursor.execute(f"SELECT count(*) FILTER (WHERE nonempty) FROM {CHECKED}")
        report.rows = int(cursor.fetchone()[0])
    not_dup = f"NOT EXISTS (SELECT 1 FROM {DUPS} d WHERE d.k = c.k AND c.n > d.first)"
    store_filter = f"c.clean AND c.nonempty AND {not_dup}"

    set_errors: list[RowError] = []
    fallback = False
    try:
        _store_clean(model, schema, columns, values, store_filter, report, set_errors, context=context, actor=actor)
    except IntegrityError:
        fallback = True  # a concurrent filing of one of the keys: the clean rows take the per-row path
    except DatabaseError as exc:
        raise ImportFileError(
            f"保存时数据库出错（{exc}），文件中的行均未导入；修正后重新导入同一文件不会产生重复"
        ) from exc
    progress()

    # The suspects (and after a conflict, every row) through the per-row path, in row order.
    suspects = "c.nonempty" if fallback else f"c.nonempty AND NOT ({store_filter})"
    sub = ImportReport(kind=kind, file_format=report.file_format)
    collected: list[RowError] = []
    importer = _Importer(schema, columns, sub, context=context, actor=actor, on_error=collected.append)
    importer.writer = writer = _writer_for(kind)
    base = (report.created, report.updated, report.unchanged, report.refused)
    try:
        for suspect in _suspects(suspects, width):
            if suspect.first is not None:
                importer.seen_keys[_key_hash(schema, suspect.cells, columns, key_inputs)] = suspect.first
            importer.add(suspect.number, suspect.cells)
            if len(importer.pending) >= chunk_rows:
                importer.flush()
                writer.drain(wait=False)
                report.created, report.updated, report.unchanged = (
                    base[0] + sub.created,
                    base[1] + sub.updated,
                    base[2] + sub.unchanged,
                )
                report.refused = base[3] + sub.refused
                progress()
        importer.flush()
        writer.drain(wait=True)
    except ImportFileError as exc:
        read_error = exc if read_error is None else ImportFileError(f"{exc.message}；{read_error.message}")
    finally:
        if hasattr(writer, "close"):
            writer.close()
        report.created, report.updated, report.unchanged = (
            base[0] + sub.created,
            base[1] + sub.updated,
            base[2] + sub.unchanged,
        )
        report.refused = base[3] + sub.refused
        # Errors in row order, as the per-row path reports them.
        for error in sorted(set_errors + collected, key=lambda e: e.row):
            report.error_total += 1
            if len(report.errors) < ERRORS_KEPT:
                report.errors.append(error)
            if on_error is not None:
                on_error(error)
    if read_error is not None:
        raise read_error


def _drop_tables(schema: RecordSchema) -> None:
    verdicts = [VERDICT.format(f.key) for f in schema.fields if f.type in VERDICT_TYPES]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join([STAGE, CHECKED, DUPS, *verdicts])}")
        cursor.execute("RESET work_mem")


def _key_inputs(schema: RecordSchema) -> list[str]:
    from .imports import key_columns

    return key_columns(schema)


def _key_hash(schema: RecordSchema, cells: list[Any], columns: ColumnMap, key_inputs: list[str]) -> int:
    """The key hash imports._Importer._duplicate computes for the row (its cells as add() maps them)."""
    from .imports import _cell

    by_key = schema.by_key()
    raw: dict[str, Any] = {}
    for index, value in enumerate(cells):
        spec = columns.specs[index] if index < len(columns.specs) else None
        if spec is not None:
            raw[spec.key] = _cell(value)
    parts = []
    for key in key_inputs:
        value = raw.get(key)
        text = "" if value is None else str(value).strip()
        parts.append(text.upper() if by_key[key].type == "uscc" else text)
    return hash(tuple(parts))


def _suspects(condition: str, width: int) -> Iterator[_Suspect]:
    """The rows the set path did not store, with their cells as read from the file, in row order, in pages."""
    cells = ", ".join(f"s.c{i}" for i in range(width))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS jc_import_suspect")
        cursor.execute(
            "CREATE TEMP TABLE jc_import_suspect AS "
            f"SELECT s.n, s.dt_mask, s.orig, {cells}, d.first FROM {STAGE} s JOIN {CHECKED} c USING (n) "
            f"LEFT JOIN {DUPS} d ON d.k = c.k AND c.n > d.first WHERE {condition}"
        )
        cursor.execute("CREATE INDEX ON jc_import_suspect (n)")
        last = 0
        while True:
            cursor.execute("SELECT * FROM jc_import_suspect WHERE n > %s ORDER BY n LIMIT 5000", [last])
            page = cursor.fetchall()
            if not page:
                break
            for n, mask, orig, *row in page:
                first = row.pop()
                if orig is not None:
                    values = _decode_orig(orig)
                else:
                    values = [
                        dt.datetime.fromisoformat(v) if mask and mask & (1 << i) and v is not None else v
                        for i, v in enumerate(row)
                    ]
                yield _Suspect(n, values, first)
            last = page[-1][0]
        cursor.execute("DROP TABLE IF EXISTS jc_import_suspect")


def _store_clean(
    model: type[Filing],
    schema: RecordSchema,
    columns: ColumnMap,
    values: list[tuple[str, str]],
    store_filter: str,
    report: ImportReport,
    errors: list[RowError],
    *,
    context: AuditContext,
    actor: User | None,
) -> None:
    """Version and write the clean rows in one transaction, with one audit row and the announcement."""
    from .imports import RowError, _display

    meta = model._meta
    q = connection.ops.quote_name
    table = q(meta.db_table)
    column_of: dict[str, str] = {f.attname: f.column for f in meta.concrete_fields}  # type: ignore[misc]
    submitted = FilingStatus.SUBMITTED.value
    outcome = (
        "CASE WHEN c.cur_id IS NULL THEN 'created' WHEN c.cur_filer IS DISTINCT FROM c.filer_id THEN 'refused' "
        f"WHEN c.cur_hash = c.hash AND c.cur_status = {_lit(submitted)} THEN 'unchanged' ELSE 'updated' END"
    )
    now = timezone.now()
    common: dict[str, Any] = {
        "is_current": True,
        "status": submitted,
        "channel": Channel.IMPORT.value,
        "filed_by_id": actor.pk if actor else None,
        "filed_by_name": context.actor_name,
    }
    given = {attr for attr, _ in values} | {"id", "version", "content_hash", *common}
    for f in meta.concrete_fields:
        if f.attname not in given:
            common[f.attname] = now if getattr(f, "auto_now_add", False) else f.get_default()
    insert_columns = [attr for attr, _ in values] + ["version", "content_hash", *common]
    select = [f"c.{q(attr)}" for attr, _ in values] + ["coalesce(c.cur_version, 0) + 1", "c.hash"]
    select += [_lit(v) for v in common.values()]
    key_input = _key_field(schema, model)
    key_column = columns.names.get(key_input) or schema.by_key()[key_input].header
    key_index = next(i for i, s in enumerate(columns.specs) if s is not None and s.key == key_input)
    key_inputs = _key_inputs(schema)
    key_indexes = [next(i for i, s in enumerate(columns.specs) if s is not None and s.key == k) for k in key_inputs]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT {outcome}, count(*) FROM {CHECKED} c WHERE {store_filter} GROUP BY 1")
        counts = {o: int(n) for o, n in cursor.fetchall()}
        if counts.get("refused"):
            cursor.execute(
                f"SELECT c.n, s.c{key_index} FROM {CHECKED} c JOIN {STAGE} s USING (n) "
                f"WHERE {store_filter} AND {outcome} = 'refused' ORDER BY c.n"
            )
            for n, raw in cursor.fetchall():
                errors.append(RowError(n, key_column, _display(raw), "该编号已被其他单位填报"))
        if counts.get("updated"):
            cursor.execute(
                f"UPDATE {table} SET is_current = false WHERE id IN "
                f"(SELECT c.cur_id FROM {CHECKED} c WHERE {store_filter} AND {outcome} = 'updated')"
            )
        ids: list[int] = []
        if counts.get("created") or counts.get("updated"):
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(q(column_of[c]) for c in insert_columns)}) "
                f"SELECT {', '.join(select)} FROM {CHECKED} c "
                f"WHERE {store_filter} AND {outcome} IN ('created', 'updated') ORDER BY c.n RETURNING id"
            )
            ids = [r[0] for r in cursor.fetchall()]
            # The audit row names the first keys stored, as written in the file.
            cursor.execute(
                f"SELECT {', '.join(f's.c{i}' for i in key_indexes)} FROM {CHECKED} c JOIN {STAGE} s USING (n) "
                f"WHERE {store_filter} AND {outcome} IN ('created', 'updated') ORDER BY c.n LIMIT 50"
            )
            keys = [dict(zip(key_inputs, (v if v and v.strip() else None for v in row), strict=True))
                    for row in cursor.fetchall()]  # fmt: skip
            summary = {
                "created": counts.get("created", 0),
                "updated": counts.get("updated", 0),
                "unchanged": counts.get("unchanged", 0),
                "refused": counts.get("refused", 0),
            }
            record_event(
                context=context,
                action=AuditAction.CREATE,
                target_type=meta.label_lower,
                target_repr=f"{meta.verbose_name}批量填报（{Channel.IMPORT.label}）",
                changes={"counts": summary, "keys": keys},
            )
        for start in range(0, len(ids), ANNOUNCE_CHUNK):
            announce(model, ids[start : start + ANNOUNCE_CHUNK])
    report.created += counts.get("created", 0)
    report.updated += counts.get("updated", 0)
    report.unchanged += counts.get("unchanged", 0)
    report.refused += counts.get("refused", 0)
    written = counts.get("created", 0) + counts.get("updated", 0)
    if written:
        from .imports import _Statistics

        statistics = _Statistics(model)
        statistics.written = written
        statistics.refresh()
