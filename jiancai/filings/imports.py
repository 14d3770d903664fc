"""Bulk import of filings from CSV and XLSX files in the FORMATS.md layouts, templates and error files.

`run_import(kind, source, ...)` reads a file (bytes or a path), maps its header to the record layout and hands
the rows, `CHUNK_ROWS` at a time, to `actions.file_records` (channel 批量导入), so memory stays flat however
long the file is and every chunk commits on its own. It returns an `ImportReport`: the counts, the bad rows
(spreadsheet row number, column as written in the file, value, reason) and file-level problems.

The file type is decided by content, never by the name: XLSX is a zip holding an Excel workbook (first
sheet); anything else must be CSV text in UTF-8 (with or without BOM) or GB18030/GBK. The header row is the
first non-empty row; spreadsheet row numbers count from 1 at the top of the file, so "第5行" is the row the
user sees in Excel. Unknown columns are reported and ignored; a missing required column stops the import
before any row is stored. Rows repeating the natural key of an earlier row of the same file are refused.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import os
import queue
import re
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.db import DatabaseError, connection, connections, models, transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.models import User
from jiancai.audit.actions import AuditContext
from jiancai.materials.models import MaterialCategory
from jiancai.ui.spreadsheets import safe_cell_text

from .actions import BatchResult, Outcome, file_records, prepare_records, store_records
from .models import FILING_MODELS, Channel
from .registry_imports import REGISTRY_KEYS, REGISTRY_MODELS, REGISTRY_RULES, REGISTRY_SCHEMAS, store_registry_rows
from .schemas import SCHEMAS, FieldSpec, RecordSchema, Resolver, parse_row
from .staged_imports import import_staged, use_staged

# Every importable layout: the filings of `file_records` and the registry records of `registry_imports`.
IMPORT_SCHEMAS: dict[str, RecordSchema] = {**SCHEMAS, **REGISTRY_SCHEMAS}
NO_ACTOR = "登记类记录（企业、资质、产能、项目、产品备案、目录）须以一个用户的身份导入：命令行请用 --as <用户名>"


def kind_model(kind: str) -> type[models.Model]:
    """The model the rows of `kind` are stored in (its access scope decides who may import them)."""
    return FILING_MODELS[kind] if kind in FILING_MODELS else REGISTRY_MODELS[kind]


def store_rows(
    kind: str, rows: Sequence[Mapping[str, Any]], *, context: AuditContext, actor: User | None, channel: str
) -> BatchResult:
    """Store a chunk of rows of any importable kind: filings through `file_records` (one transaction, one batch
    audit row), registry records row by row through their actions (one savepoint each) in one transaction."""
    if kind in SCHEMAS:
        return file_records(kind=kind, rows=rows, context=context, channel=channel, actor=actor)
    with transaction.atomic():
        return store_registry_rows(kind=kind, rows=rows, context=context, actor=actor)


CHUNK_ROWS = 5000
ERRORS_KEPT = 10_000  # bad-row entries an ImportReport keeps in memory (an error file sink gets all of them)
VALUE_MAX = 200  # characters of a cell value quoted in an error report

Source = bytes | str | os.PathLike[str]

NOT_TABULAR = "文件不是CSV或XLSX格式：请上传CSV（逗号分隔）文件或Excel工作簿（.xlsx）"
OLD_XLS = "不支持旧版Excel（.xls）文件：请在Excel中另存为“Excel工作簿（*.xlsx）”或“CSV UTF-8（逗号分隔）”后再上传"
BAD_XLSX = "无法读取XLSX文件：文件已损坏，或不是Excel工作簿"
UNKNOWN_ENCODING = (
    "文件编码无法识别：CSV文件须为UTF-8（可带BOM）或GB18030/GBK编码。"
    "请在Excel中另存为“CSV UTF-8（逗号分隔）”，或直接上传XLSX文件"
)
UTF16 = "文件编码为UTF-16（Excel的“Unicode文本”），不受支持：请另存为“CSV UTF-8（逗号分隔）”或XLSX文件"
EMPTY_FILE = "文件为空"
NO_HEADER = "文件中没有表头行：第一行应为列名（可下载导入模板）"

# Signatures of common files that are certainly not CSV text.
BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BM", b"MZ")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class ImportFileError(Exception):
    """A problem with the file as a whole (type, encoding, size, header): reported instead of row errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number (the header is row 1 of a file without leading blank rows)
    column: str  # the column header as written in the file
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class ImportReport:
    kind: str
    file_format: str = ""  # csv | xlsx
    encoding: str = ""
    rows_expected: int | None = None  # an estimate for the progress display
    rows: int = 0  # non-empty data rows read
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first ERRORS_KEPT
    error_total: int = 0
    warnings: list[str] = field(default_factory=list)
    file_error: str = ""

    @property
    def ok(self) -> bool:
        """Every row stored (or already there) and no file-level error."""
        return not self.file_error and self.refused == 0

    def summary_text(self) -> str:
        return (
            f"共 {self.rows} 行：新增 {self.created} 条，更新 {self.updated} 条，"
            f"未变 {self.unchanged} 条，拒绝 {self.refused} 条"
        )


# ------------------------------------------------------------------------------------------- reading files


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} 字节"


def check_size(size: int) -> None:
    limit = int(settings.IMPORT_MAX_BYTES)
    if size > limit:
        raise ImportFileError(f"文件大小 {_human_size(size)} 超过上限 {_human_size(limit)}：请拆分为多个文件后分别导入")
    if size == 0:
        raise ImportFileError(EMPTY_FILE)


def sniff_format(head: bytes) -> str:
    """'xlsx' or 'csv' from the first bytes of a file; ImportFileError for anything else."""
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        raise ImportFileError(OLD_XLS)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(UTF16)
    if head.startswith(BINARY_MAGIC) or b"\x00" in head:
        raise ImportFileError(NOT_TABULAR)
    return "csv"


@dataclass
class Table:
    file_format: str
    encoding: str
    rows_expected: int | None
    rows: Iterator[tuple[int, Sequence[Any]]]  # (spreadsheet row number, cells), the header row included


@contextlib.contextmanager
def _binary(source: Source) -> Iterator[tuple[BinaryIO, int]]:
    if isinstance(source, bytes):
        yield io.BytesIO(source), len(source)
        return
    path = Path(source)
    with path.open("rb") as fh:
        yield fh, path.stat().st_size


@contextlib.contextmanager
def open_table(source: Source) -> Iterator[Table]:
    """The rows of a CSV or XLSX file (bytes or path). Raises ImportFileError for an unusable file."""
    with _binary(source) as (fh, size):
        check_size(size)
        file_format = sniff_format(fh.read(64 * 1024))
        fh.seek(0)
        if file_format == "xlsx":
            with _xlsx_table(fh) as table:
                yield table
        else:
            with _csv_table(fh) as table:
                yield table


def _detect_encoding(fh: BinaryIO) -> tuple[str, int]:
    """Decode the whole file strictly, UTF-8 (BOM optional) first, then GB18030; also count its lines."""
    for encoding in ("utf-8-sig", "gb18030"):
        fh.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        lines = 0
        try:
            while chunk := fh.read(1024 * 1024):
                decoder.decode(chunk)
                lines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, lines
    raise ImportFileError(UNKNOWN_ENCODING)


@contextlib.contextmanager
def _csv_table(fh: BinaryIO) -> Iterator[Table]:
    encoding, lines = _detect_encoding(fh)
    fh.seek(0)
    label = "UTF-8" if encoding == "utf-8-sig" and not fh.read(3).startswith(codecs.BOM_UTF8) else "UTF-8 BOM"
    if encoding == "gb18030":
        label = "GB18030"
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, newline="")
    try:
        first = text.readline()
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)

        def rows() -> Iterator[tuple[int, Sequence[Any]]]:
            number = 0
            try:
                for number, cells in enumerate(reader, start=1):  # noqa: B007 (number is used after the loop)
                    yield number, cells
            except csv.Error as exc:
                raise ImportFileError(f"第{number + 1}行无法解析（{exc}），该行及之后的内容未导入") from exc

        yield Table("csv", label, max(lines - 1, 0) or None, rows())
    finally:
        text.detach()  # the caller closes the binary file


# A formula cell in a worksheet part: <f>, <f ...> or <f/>, with or without a namespace prefix (<x:f>).
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_SCAN_CHUNK = 1024 * 1024
_TAG_OVERLAP = 64  # longer than any prefixed <f tag, so a tag split between two chunks is still seen


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    """Whether any worksheet of the workbook holds a formula cell, by scanning the sheets' XML in chunks."""
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with archive.open(name) as part:
            tail = b""
            while chunk := part.read(_SCAN_CHUNK):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-_TAG_OVERLAP:]
    return False


@contextlib.contextmanager
def _xlsx_table(fh: BinaryIO) -> Iterator[Table]:
    """The first worksheet of an XLSX file.

    A workbook without formulas is read with calamine (a Rust reader, several times faster than openpyxl); one
    with formulas is read with openpyxl, which hands on each formula's text ("=..."), so the import refuses the
    cell instead of storing whatever value the formula last computed."""
    try:
        with zipfile.ZipFile(fh) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                raise ImportFileError(NOT_TABULAR)
            formulas = _has_formulas(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ImportFileError(BAD_XLSX) from exc
    fh.seek(0)
    reader = _openpyxl_table if formulas else _calamine_table
    with reader(fh) as table:
        yield table


def _damaged_from(number: int) -> ImportFileError:
    return ImportFileError(f"XLSX文件第{number + 1}行起无法读取（文件可能已损坏），之后的内容未导入")


@contextlib.contextmanager
def _calamine_table(fh: BinaryIO) -> Iterator[Table]:
    try:
        workbook = CalamineWorkbook.from_filelike(fh)
        sheets = [m for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        if not sheets:
            raise ImportFileError(BAD_XLSX)
        sheet = workbook.get_sheet_by_name(sheets[0].name)
    except CalamineError as exc:
        raise ImportFileError(BAD_XLSX) from exc
    try:
        # calamine yields rows from the sheet's first row but columns from its first used column; pad on the
        # left so that cells keep their column positions, as openpyxl gives them.
        pad: tuple[None, ...] = (None,) * (sheet.start[1] if sheet.start else 0)
        last_row = sheet.end[0] if sheet.end else 0

        def rows() -> Iterator[tuple[int, Sequence[Any]]]:
            number = 0
            try:
                for number, cells in enumerate(sheet.iter_rows(), start=1):  # noqa: B007
                    yield number, pad + tuple(_calamine_cell(c) for c in cells)
            except CalamineError as exc:
                raise _damaged_from(number) from exc

        yield Table("xlsx", "", last_row or None, rows())
    finally:
        workbook.close()


def _calamine_cell(value: Any) -> Any:
    """A calamine cell as openpyxl reads it: an empty cell is None, a date is a datetime at midnight."""
    if value == "":
        return None
    if type(value) is dt.date:
        return dt.datetime.combine(value, dt.time())
    return value


@contextlib.contextmanager
def _openpyxl_table(fh: BinaryIO) -> Iterator[Table]:
    try:
        # data_only=False: a formula cell reads as its formula text ("=..."), which the import refuses.
        workbook = load_workbook(fh, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(BAD_XLSX) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError(BAD_XLSX)
        sheet = workbook.worksheets[0]
        max_row = sheet.max_row

        def rows() -> Iterator[tuple[int, Sequence[Any]]]:
            number = 0
            try:
                for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):  # noqa: B007
                    yield number, cells
            except ImportFileError:
                raise
            except Exception as exc:
                raise _damaged_from(number) from exc

        yield Table("xlsx", "", (max_row - 1) if max_row and max_row > 1 else None, rows())
    finally:
        workbook.close()


def _cell(value: Any) -> Any:
    """A cell as file_records takes it: text, an int or float, a date or datetime; None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, (int, float, dt.date)):
        return value  # dt.datetime is a dt.date
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= VALUE_MAX else text[:VALUE_MAX] + "…"


_HEADER_TRANSLATION = str.maketrans({"（": "(", "）": ")", "\ufeff": None, "\u200b": None})


def normalize_header(text: Any) -> str:
    """Header text as matched: without spaces, BOM, required-field stars; full-width brackets as ASCII; lower case."""
    if text is None:
        return ""
    normalized = re.sub(r"\s+", "", str(text).translate(_HEADER_TRANSLATION)).strip("*")
    return normalized.lower()


@dataclass
class ColumnMap:
    specs: list[FieldSpec | None]  # per file column: its field, or None (unknown or no header)
    names: dict[str, str]  # field key -> the header as written in the file
    unknown: list[str]
    unnamed: set[int]  # column indexes without a header


def map_columns(schema: RecordSchema, headers: Sequence[Any]) -> ColumnMap:
    """Match the header row to the layout. ImportFileError for a repeated or missing required column."""
    lookup = {normalize_header(name): spec for name, spec in schema.header_map().items()}
    specs: list[FieldSpec | None] = []
    names: dict[str, str] = {}
    unknown: list[str] = []
    unnamed: set[int] = set()
    for index, header in enumerate(headers):
        text = "" if header is None else str(header).replace("\ufeff", "").strip()
        spec = lookup.get(normalize_header(text)) if text else None
        if not text:
            unnamed.add(index)
        elif spec is None:
            unknown.append(text)
        elif spec.key in names:
            raise ImportFileError(f"列“{names[spec.key]}”与列“{text}”重复（都表示“{spec.header}”），请删除其中一列")
        else:
            names[spec.key] = text
        specs.append(spec)
    missing = [f.header for f in schema.fields if f.required and f.key not in names]
    if missing:
        raise ImportFileError(
            f"缺少必填列：{'、'.join(missing)}。表头应使用模板中的中文列名（或英文键），请下载导入模板核对"
        )
    return ColumnMap(specs, names, unknown, unnamed)


def key_columns(schema: RecordSchema) -> list[str]:
    """The input keys making up the record's natural key (e.g. supplier_uscc and supply_no)."""
    if schema.kind in REGISTRY_KEYS:
        return list(REGISTRY_KEYS[schema.kind])
    model = FILING_MODELS[schema.kind]
    return [s.key for name in model.natural_key for s in schema.fields if (s.attr or s.key) == name]


# ------------------------------------------------------------------------------------------------ importing

ErrorSink = Callable[[RowError], None]
ProgressSink = Callable[["ImportReport"], None]
NON_TEXT_TYPES = frozenset({"decimal", "int", "date", "datetime"})


class _Importer:
    def __init__(
        self,
        schema: RecordSchema,
        columns: ColumnMap,
        report: ImportReport,
        *,
        context: AuditContext,
        actor: User | None,
        on_error: ErrorSink | None,
    ) -> None:
        self.schema = schema
        self.columns = columns
        self.report = report
        self.context = context
        self.actor = actor
        self.on_error = on_error
        self.by_key = schema.by_key()
        self.key_fields = key_columns(schema)
        self.seen_keys: dict[int, int] = {}  # hash of the natural key -> first row number
        self.pending: list[tuple[int, dict[str, Any], list[RowError]]] = []
        self.resolver = Resolver() if schema.kind in SCHEMAS else None  # references looked up once per import
        self.statistics = _Statistics(FILING_MODELS.get(schema.kind))
        self.writer: _InlineWriter | _ThreadWriter = _InlineWriter()

    def add(self, number: int, cells: Sequence[Any]) -> None:
        values = [v if type(v) is str and v.strip() else _cell(v) for v in cells]
        if values.count(None) == len(values):
            return
        self.report.rows += 1
        raw: dict[str, Any] = {}
        problems: list[RowError] = []
        specs = self.columns.specs
        for index, value in enumerate(values):
            spec = specs[index] if index < len(specs) else None
            if spec is not None:
                raw[spec.key] = value
                if (
                    value is not None
                    and spec.type in NON_TEXT_TYPES
                    and isinstance(value, str)
                    and value.lstrip().startswith(("=", "@"))
                ):
                    problems.append(
                        self._error(number, spec.key, value, "以公式字符开头，为防止公式注入不予接收，请填写数值")
                    )
            elif value is not None and (index in self.columns.unnamed or index >= len(specs)):
                problems.append(
                    RowError(number, f"第{get_column_letter(index + 1)}列", _display(value), "该列没有表头，无法识别")
                )
        if not problems:
            problems.extend(self._duplicate(number, raw))
        self.pending.append((number, raw, problems))

    def _duplicate(self, number: int, raw: Mapping[str, Any]) -> list[RowError]:
        parts = []
        for key in self.key_fields:
            value = raw.get(key)
            text = "" if value is None else str(value).strip()
            if not text:
                return []
            parts.append(text.upper() if self.by_key[key].type == "uscc" else text)
        digest = hash(tuple(parts))
        first = self.seen_keys.setdefault(digest, number)
        if first == number:
            return []
        last = self.key_fields[-1]
        headers = "、".join(self.columns.names.get(k, self.by_key[k].header) for k in self.key_fields)
        return [self._error(number, last, raw.get(last), f"与第{first}行的{headers}相同，同一文件中记录不能重复")]

    def _error(self, number: int, key: str, value: Any, reason: str) -> RowError:
        spec = self.by_key.get(key)
        column = self.columns.names.get(key) or (spec.header if spec else "")
        if spec is not None and reason.startswith(f"{spec.header}："):
            reason = reason[len(spec.header) + 1 :]
        return RowError(number, column, _display(value), reason)

    def flush(self) -> None:
        """Validate the pending rows and hand them to the writer; the report counts them once they are written."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        to_file = [(number, raw) for number, raw, problems in pending if not problems]
        refused: dict[int, list[RowError]] = {}
        for number, raw, problems in pending:
            if problems:
                covered = {p.column for p in problems}
                parsed = parse_row(self.schema, raw)
                extra = [self._error(number, e.field, raw.get(e.field), e.message) for e in parsed.errors]
                refused[number] = problems + [e for e in extra if e.column not in covered]
        store: Callable[[], BatchResult] | None = None
        if to_file and self.schema.kind in SCHEMAS:
            # Validated here; versioned, written and audited by the writer (perhaps while the next chunk is read).
            batch = prepare_records(
                kind=self.schema.kind,
                rows=[raw for _, raw in to_file],
                channel=Channel.IMPORT,
                actor=self.actor,
                resolver=self.resolver,
            )
            context, statistics = self.context, self.statistics

            def store() -> BatchResult:
                statistics.refresh()
                result = store_records(batch, context=context)
                statistics.written += result.count(Outcome.CREATED) + result.count(Outcome.UPDATED)
                return result

        elif to_file:
            kind, rows, context, actor = self.schema.kind, [raw for _, raw in to_file], self.context, self.actor

            def store() -> BatchResult:
                return store_rows(kind, rows, context=context, channel=Channel.IMPORT, actor=actor)

        self.writer.submit(store, lambda result: self._finish(to_file, refused, result))

    def _finish(
        self, to_file: list[tuple[int, dict[str, Any]]], refused: dict[int, list[RowError]], result: Any
    ) -> None:
        """Count a written chunk and report its bad rows (in row order). `result` is the store's BatchResult, the
        DatabaseError it raised, or None when nothing was stored."""
        if isinstance(result, DatabaseError):
            raise ImportFileError(
                f"保存第{to_file[0][0]}–{to_file[-1][0]}行时数据库出错（{result}），此后的行未导入；"
                "此前的行已保存，修正后重新导入同一文件不会产生重复"
            ) from result
        if result is not None:
            for row in result.rows:
                number, raw = to_file[row.index]
                if row.outcome == Outcome.REFUSED:
                    refused[number] = [self._error(number, e.field, raw.get(e.field), e.message) for e in row.errors]
                elif row.outcome == Outcome.CREATED:
                    self.report.created += 1
                elif row.outcome == Outcome.UPDATED:
                    self.report.updated += 1
                else:
                    self.report.unchanged += 1
        self.report.refused += len(refused)
        for number in sorted(refused):
            for error in refused[number]:
                self.report.error_total += 1
                if len(self.report.errors) < ERRORS_KEPT:
                    self.report.errors.append(error)
                if self.on_error is not None:
                    self.on_error(error)


class _Statistics:
    """Keeps PostgreSQL's planner statistics of the filing table up to date while an import grows it.

    The current-version lookup must probe the `(filer, key) WHERE is_current` index. With statistics taken when
    the table was small (autovacuum off, or simply outrun by a large import), the planner probes the filer's
    index instead and reads all the filer's rows for every key: an import quadratic in the table size
    (docs/benchmarks.md). So the table is analyzed whenever this import has written more rows than the
    statistics know of (and at least ANALYZE_MIN_ROWS): about log2(rows) times, a few seconds per million.
    """

    ANALYZE_MIN_ROWS = 5000

    def __init__(self, model: type[models.Model] | None) -> None:
        self.table = model._meta.db_table if model is not None else None
        self.known: float | None = None
        self.written = 0

    def refresh(self) -> None:
        """Before a chunk is stored; runs in the writer's connection, outside the chunk's transaction."""
        if self.table is None or connection.vendor != "postgresql":
            return
        if self.known is None:
            self.known = self._reltuples()
        if self.written >= max(self.ANALYZE_MIN_ROWS, self.known):
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(self.table)}")
            self.known, self.written = self._reltuples(), 0

    def _reltuples(self) -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [self.table])
            row = cursor.fetchone()
        return float(row[0]) if row else 0.0


class _InlineWriter:
    """Stores each chunk at once, in the caller's thread (SQLite, registry kinds, or inside a transaction)."""

    def submit(self, store: Callable[[], BatchResult] | None, done: Callable[[Any], None]) -> None:
        result: Any = None
        if store is not None:
            try:
                result = store()
            except DatabaseError as exc:
                result = exc
        done(result)

    def drain(self, *, wait: bool) -> None:
        pass


class _ThreadWriter:
    """Stores chunks in a thread with its own database connection while the caller validates the next ones.

    PostgreSQL does the writing of one chunk (psycopg releases the GIL while it waits) while Python parses the
    next, so the two halves of an import use two CPUs. Chunks are stored in order, each in its own transaction
    with its audit row, exactly as `_InlineWriter` stores them; `done` callbacks run in the caller's thread
    (`drain`), so the report and the progress sink are only touched there. After a database error the
    remaining chunks are not stored, as an inline import would stop at that chunk.
    """

    QUEUED = 2  # chunks validated ahead of the writer: bounds memory and how far the progress count lags

    def __init__(self) -> None:
        self.todo: queue.Queue[tuple[Callable[[], BatchResult] | None, Callable[[Any], None]] | None] = queue.Queue(
            self.QUEUED
        )
        self.written: queue.Queue[tuple[Callable[[Any], None], Any]] = queue.Queue()
        self.in_flight = 0
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        failed = False
        try:
            while (item := self.todo.get()) is not None:
                store, done = item
                result: Any = None
                if store is not None and not failed:
                    try:
                        result = store()
                    except DatabaseError as exc:
                        result, failed = exc, True
                    except BaseException as exc:  # handed to the caller's thread, which raises it there
                        result, failed = exc, True
                elif failed:
                    result = _SKIPPED
                self.written.put((done, result))
        finally:
            connections.close_all()  # this thread's connections only

    def submit(self, store: Callable[[], BatchResult] | None, done: Callable[[Any], None]) -> None:
        self.in_flight += 1
        self.todo.put((store, done))
        self.drain(wait=False)

    def drain(self, *, wait: bool) -> None:
        """Run the callbacks of written chunks; with `wait`, of all chunks submitted so far."""
        while self.in_flight:
            try:
                done, result = self.written.get(block=wait)
            except queue.Empty:
                return
            self.in_flight -= 1
            if result is _SKIPPED:
                continue
            if isinstance(result, BaseException) and not isinstance(result, DatabaseError):
                raise result
            done(result)

    def close(self) -> None:
        self.todo.put(None)
        self.thread.join()


_SKIPPED = object()  # a chunk not stored because an earlier one failed


def _writer_for(kind: str) -> _InlineWriter | _ThreadWriter:
    """A writer thread where it pays and is safe: PostgreSQL, a filing kind, and no transaction of the caller's
    to join (the chunks commit one by one in the writer's own connection, which cannot see uncommitted rows)."""
    if kind in SCHEMAS and connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _ThreadWriter()
    return _InlineWriter()


def run_import(
    kind: str,
    source: Source,
    *,
    context: AuditContext,
    actor: User | None,
    on_error: ErrorSink | None = None,
    on_progress: ProgressSink | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import one file of `kind`. Every good row is stored; every bad row is in the report (and on_error).

    `actor` is the user importing (rows the user may not file are refused row by row, by the same rules as the
    forms); None is the platform's command-line tool filing on behalf of the organizations the rows name, which
    only filings allow: registry records are always imported as a user (`import_records --as`).
    `on_progress` is called once the header is read and after every chunk.
    """
    if kind not in IMPORT_SCHEMAS:
        raise ImportFileError(f"未知的记录类型“{kind}”")
    schema = IMPORT_SCHEMAS[kind]
    report = ImportReport(kind=kind)
    if actor is None and kind in REGISTRY_SCHEMAS:
        report.file_error = NO_ACTOR
        return report
    if actor is not None and not role_allows(actor, kind_model(kind), Action.CHANGE):
        report.file_error = f"无权导入{schema.title}"
        return report
    importer: _Importer | None = None
    writer: _InlineWriter | _ThreadWriter | None = None
    staged = False
    try:
        with open_table(source) as table:
            report.file_format, report.encoding, report.rows_expected = (
                table.file_format,
                table.encoding,
                table.rows_expected,
            )
            for number, cells in table.rows:
                if importer is None:
                    if all(_cell(v) is None for v in cells):
                        continue
                    columns = map_columns(schema, cells)
                    if report.rows_expected is not None:
                        report.rows_expected = max(report.rows_expected - number + 1, 0) or None
                    if columns.unknown:
                        report.warnings.append(
                            f"未识别的列：{'、'.join(columns.unknown)}。这些列未导入，其余列照常导入；"
                            "请核对列名是否与模板一致"
                        )
                    if on_progress is not None:
                        on_progress(report)
                    if use_staged(kind, report.rows_expected):
                        # A large file of a filing kind on PostgreSQL: staged, clean rows stored set-based.
                        staged = True
                        import_staged(
                            schema,
                            columns,
                            table.rows,
                            report,
                            context=context,
                            actor=actor,
                            on_error=on_error,
                            on_progress=on_progress,
                            chunk_rows=chunk_rows,
                        )
                        break
                    importer = _Importer(schema, columns, report, context=context, actor=actor, on_error=on_error)
                    importer.writer = writer = _writer_for(kind)
                    continue
                importer.add(number, cells)
                if len(importer.pending) >= chunk_rows:
                    importer.flush()
                    if on_progress is not None:
                        on_progress(report)
            if staged:
                pass
            elif importer is None:
                raise ImportFileError(NO_HEADER)
            else:
                importer.flush()
                importer.writer.drain(wait=True)
    except ImportFileError as exc:
        report.file_error = exc.message
        if importer is not None:  # the rows read before a broken spot are still filed
            try:
                importer.flush()
                importer.writer.drain(wait=True)
            except ImportFileError as again:
                report.file_error += "；" + again.message
    finally:
        if isinstance(writer, _ThreadWriter):
            writer.close()
    if on_progress is not None:
        on_progress(report)
    return report


# ------------------------------------------------------------------------------------------- error files

ERROR_HEADERS = ("行号", "列", "值", "原因")


class ErrorCsvWriter:
    """The error file: CSV in UTF-8 with BOM (opens in Chinese Excel), one line per problem, no live formula."""

    def __init__(self, stream: IO[str]) -> None:
        self.writer = csv.writer(stream)
        self.writer.writerow(ERROR_HEADERS)

    def write(self, error: RowError) -> None:
        self.writer.writerow(
            [error.row, safe_cell_text(error.column), safe_cell_text(error.value), safe_cell_text(error.reason)]
        )

    def write_notes(self, report: ImportReport) -> None:
        """File-level problems and warnings, as lines without a row number."""
        for note in ([report.file_error] if report.file_error else []) + report.warnings:
            self.writer.writerow(["", "", "", safe_cell_text(note)])


def error_csv_bytes(errors: Iterable[RowError], report: ImportReport | None = None) -> bytes:
    buffer = io.StringIO()
    writer = ErrorCsvWriter(buffer)
    for error in errors:
        writer.write(error)
    if report is not None:
        writer.write_notes(report)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ------------------------------------------------------------------------------------------------ templates

TYPE_LABELS = {
    "text": "文本",
    "decimal": "数字",
    "int": "整数",
    "date": "日期",
    "datetime": "日期时间",
    "uscc": "统一社会信用代码",
    "project": "项目编号",
    "category": "材料品类",
    "choice": "选项",
    "list": "多选（用“、”分隔）",
    "bool": "是/否",
    "district": "区",
}
EXTRA_RULES: dict[tuple[str, str], str] = {
    ("test_report", "project_code"): "见证检测须填写",
    ("test_report", "test_date"): "不能早于取样日期",
    ("ticket", "grade"): "C15–C80，可带抗渗等级，如 C30P8",
    ("ticket", "arrived_at"): "不能早于出站时间",
    ("ticket", "discharged_at"): "不能早于到场时间",
}
TEMPLATE_ROWS = 10_000  # rows covered by the drop-down lists of choice columns


def field_rule(schema: RecordSchema, spec: FieldSpec) -> str:
    parts: list[str] = []
    if spec.key in key_columns(schema):
        parts.append("记录的唯一编号（与已有记录相同时更新该记录）")
    if spec.type == "text":
        parts.append(f"不超过{spec.max_length}个字符")
    elif spec.type == "uscc" and schema.kind == "enterprise":
        parts.append("18位，符合GB 32100（含校验码）")
    elif spec.type == "uscc":
        parts.append("18位，须为平台已登记的企业")
    elif spec.type == "project":
        parts.append("须为平台已登记的项目")
    elif spec.type == "category":
        parts.append("品类代码或名称，见下方材料品类表")
    elif spec.type == "date":
        parts.append("格式 YYYY-MM-DD" if schema.kind in REGISTRY_SCHEMAS else "格式 YYYY-MM-DD，不能晚于今天")
    elif spec.type == "datetime":
        parts.append("格式 YYYY-MM-DD HH:MM[:SS]（北京时间），不能晚于今天")
    elif spec.type in ("decimal", "int"):
        if spec.positive:
            parts.append("必须大于0")
        if spec.min_value is not None:
            parts.append(f"不能小于{spec.min_value}")
        parts.append("可带千分位逗号")
    if spec.choices:
        parts.append("可选值：" + "、".join(spec.choices))
    if spec.key == "unit":
        parts.append("须与材料品类的计量单位一致")
    rule = EXTRA_RULES.get((schema.kind, spec.key)) or REGISTRY_RULES.get((schema.kind, spec.key))
    if rule:
        parts.append(rule)
    return "；".join(parts)


def template_csv(kind: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([f.header for f in IMPORT_SCHEMAS[kind].fields])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    """The data sheet (Chinese headers, required ones in red, typed columns, drop-downs) and a hint sheet."""
    schema = IMPORT_SCHEMAS[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = schema.title[:31]
    for index, spec in enumerate(schema.fields, start=1):
        cell = sheet.cell(row=1, column=index, value=spec.header)
        cell.font = Font(bold=True, color="C00000" if spec.required else "000000")
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(12, len(spec.header) * 2 + 4)
        # Text columns keep long numbers (USCC, project codes) as typed instead of 9.1E+17.
        dimension.number_format = {
            "date": "yyyy-mm-dd",
            "datetime": "yyyy-mm-dd hh:mm",
            "decimal": "General",
            "int": "0",
        }.get(spec.type, "@")
        if spec.choices and spec.type == "choice":  # a list column takes several values: no single-choice list
            validation = DataValidation(
                type="list", formula1='"' + ",".join(spec.choices) + '"', allow_blank=True, showErrorMessage=True
            )
            validation.error = "请从下拉列表中选择：" + "、".join(spec.choices)
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    sheet.freeze_panes = "A2"

    hints = workbook.create_sheet("填写说明")
    hints.append([f"{schema.title}导入模板：第一张工作表的第一行是表头（红色为必填列），从第二行起每行一条记录。"])
    hints.append(["列的顺序可以调整；表头也可以使用英文键。单元格中不要使用公式。"])
    hints.append([])
    hints.append(["列名", "英文键", "类型", "必填", "规则"])
    for spec in schema.fields:
        hints.append(
            [
                spec.header,
                spec.key,
                TYPE_LABELS.get(spec.type, spec.type),
                "是" if spec.required else "",
                field_rule(schema, spec),
            ]
        )
    if any(f.type == "category" for f in schema.fields):
        hints.append([])
        hints.append(["材料品类代码", "品类名称", "计量单位"])
        for category in MaterialCategory.objects.order_by("sort", "code"):
            hints.append([category.code, category.name, category.unit])
    for letter, width in (("A", 24), ("B", 24), ("C", 18), ("D", 8), ("E", 60)):
        hints.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
