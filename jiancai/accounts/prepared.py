"""Hand-written SQL of the per-request hot paths, run as prepared statements on PostgreSQL.

Django turns psycopg's prepared statements off (`prepare_threshold` None, client-side parameter binding) so that
transaction-mode connection poolers keep working, and the ORM compiles every query anew. For the few statements
every API request runs (token lookup, token-use audit row, the open API's credit query) parsing and planning cost
more than executing, so `run` executes them on Django's own connection, in its current transaction, with
server-side binding and `prepare=True`: PostgreSQL parses and plans each distinct statement once per connection
(psycopg keeps the last 100 per connection). A pooler in front of PostgreSQL must then support protocol-level
prepared statements (PgBouncer ≥ 1.21 with `max_prepared_statements`).

On SQLite (the local demo) the statements run through Django's cursor. Either way the statement is logged like
Django's own when queries are being logged (DEBUG, `CaptureQueriesContext`).

`load(model, values)` builds a model instance from the values of `columns(model, alias)` in a row as the ORM would,
converters included, for hand-written joins that replace a `select_related`; `width(model)` is how many they are;
`convert(model, rows)` converts rows of them without building instances (`attnames(model)` names them).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)
NEVER_BY_COUNT = 2**31


def run(sql: str, params: Sequence[Any], *, fetch: bool = True) -> list[tuple[Any, ...]]:
    """Execute `sql` (`%s` placeholders) with `params`; its rows when `fetch` (a SELECT), else []."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` is a lookup through a context-local proxy
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    started = time.monotonic()
    with db.wrap_database_errors:
        cursor = _cursor(db)
        cursor.execute(sql, params, prepare=True)
        rows = cursor.fetchall() if fetch else []
    _log(db, sql, started)
    return rows


def _cursor(db: Any) -> Any:
    """A server-side-binding psycopg cursor on the connection under Django's, kept for the connection's life (one
    per thread, as Django's connections are), the connection set up for prepared statements."""
    import psycopg

    db.ensure_connection()
    raw = db.connection
    cursor = getattr(db, "jiancai_prepared_cursor", None)
    if cursor is not None and cursor.connection is raw and not cursor.closed:
        return cursor
    if raw.prepare_threshold is None:
        # Django's None turns preparation off even for prepare=True. Django's own cursors bind on the client side and
        # are never prepared whatever this says; only the statements run here are (prepare=True), not by count.
        raw.prepare_threshold = NEVER_BY_COUNT
    cursor = db.jiancai_prepared_cursor = psycopg.Cursor(raw)
    return cursor


def _log(db: Any, sql: str, started: float) -> None:
    if db.queries_logged:
        db.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


@functools.cache
def _fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    return tuple(model._meta.concrete_fields)


def columns(model: type[models.Model], alias: str) -> str:
    """The SELECT list of every concrete column of `model` under the table alias `alias`, in `load`'s order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in _fields(model))


def width(model: type[models.Model]) -> int:
    return len(_fields(model))


def load(model: type[M], values: Sequence[Any]) -> M:
    """A model instance from the values of `columns(model, …)`, converted as the ORM converts them."""
    return model.from_db(DEFAULT_DB_ALIAS, attnames(model), convert(model, [values])[0])


def convert(model: type[models.Model], rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Rows of the values of `columns(model, …)`, converted as the ORM converts them (no instance built)."""
    db = connections[DEFAULT_DB_ALIAS]
    plan = _converters(model)
    out = []
    for row in rows:
        converted = list(row)
        for i, col, converters in plan:
            value = converted[i]
            for converter in converters:
                value = converter(value, col, db)
            converted[i] = value
        out.append(converted)
    return out


@functools.cache
def attnames(model: type[models.Model]) -> list[str]:
    """The attribute names of the values of `columns(model, …)`, in order."""
    return [f.attname for f in _fields(model)]


@functools.cache
def _converters(model: type[models.Model]) -> list[tuple[int, Any, list[Any]]]:
    """(position, column, converters) of the columns that have converters (on the one database this runs on)."""
    found = []
    for i, field in enumerate(_fields(model)):
        col = field.get_col(model._meta.db_table)
        converters = [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
        if converters:
            found.append((i, col, converters))
    return found
