# ruff: noqa: S101, S108, S607, S608
# (a benchmark: asserts check each step's outcome, /tmp is its scratch space, SQL is built from constant names)
"""Benchmark: the cross-check rules XC01–XC20, full re-evaluation and incremental evaluation, against DuckDB
running the same SQL over the same data, in one run.

    .venv/bin/python bench/monitoring.py --scale 0.01          # 10,000 supplies + 10,000 purchases + 5,000 reports
    .venv/bin/python bench/monitoring.py --scale 1             # 1,000,000 + 1,000,000 + 500,000 (long: background)

See bench/README.md for what every step measures. Results: a table on stdout and a JSON file under bench/results/
(git-ignored). The PostgreSQL database `jc_bench_mon` (BENCH_NAME) is dropped and recreated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_NAME = os.environ.get("BENCH_NAME", "jc_bench_mon")
PG_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_NAME}"
WORK_DIR = Path(f"/tmp/{BENCH_NAME}")
TODAY = dt.date(2026, 6, 30)
SEED = 42
SUPPLIES_AT_1, PURCHASES_AT_1, REPORTS_AT_1 = 1_000_000, 1_000_000, 500_000
BATCH_SUPPLIES, BATCH_PURCHASES, BATCH_REPORTS = 4_000, 4_000, 2_000  # the incremental batch: 10,000 filings
SPAN_DAYS = 730  # the filings cover two years up to TODAY
PER_CONTRACT = 25  # supplies (and purchases) per contract
# Tables the rules read, exported to DuckDB.
TABLES = (
    "accounts_district",
    "accounts_organization",
    "registry_project",
    "registry_qualification",
    "materials_materialcategory",
    "materials_productfiling",
    "materials_catalogentry",
    "materials_usagereference",
    "filings_supply",
    "filings_purchase",
    "filings_testreport",
    "filings_tender",
    "filings_ticket",
    "filings_projectevent",
    "blacklist_blacklistentry",
    "blacklist_restriction",
    "monitoring_alert",
    "monitoring_rule",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def setup_django(reuse: bool) -> None:
    import psycopg

    if not reuse:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {BENCH_NAME}")
    os.environ["DATABASE_URL"] = PG_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DB_CONN_MAX_AGE"] = "0"
    os.environ["MONITORING_AUTO"] = "0"  # the benchmark calls the engine itself
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def execute(sql: str, params: Any = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def scalar(sql: str, params: Any = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# ------------------------------------------------------------------------------------------------ the data


def seed_reference(demo_scale: int) -> None:
    from django.core.management import call_command

    from jiancai.demo.generator import generate

    call_command("migrate", verbosity=0)
    generate(seed=SEED, scale=demo_scale, today=TODAY)  # clean data: no finding (test_ground_truth)
    # The reference arrays the generated filings index into (1-based, as PostgreSQL arrays are).
    execute(
        """
        CREATE UNLOGGED TABLE bench_ref AS SELECT
          (SELECT array_agg(o.id ORDER BY o.id) FROM accounts_organization o
             WHERE EXISTS (SELECT 1 FROM materials_productfiling f JOIN materials_materialcategory c
                           ON c.id = f.category_id WHERE f.producer_id = o.id AND c.code = 'GJ')) AS suppliers,
          (SELECT array_agg(f.type_report_no ORDER BY f.producer_id) FROM (SELECT DISTINCT ON (f.producer_id)
             f.producer_id, f.type_report_no FROM materials_productfiling f JOIN materials_materialcategory c
             ON c.id = f.category_id WHERE c.code = 'GJ' ORDER BY f.producer_id, f.filing_no) f) AS type_reports,
          (SELECT array_agg(p.id ORDER BY p.id) FROM registry_project p) AS projects,
          (SELECT array_agg(COALESCE(p.contractor_id, (SELECT min(o.id) FROM accounts_organization o
             JOIN accounts_organization_kinds ok ON ok.organization_id = o.id
             JOIN accounts_organizationkind k ON k.id = ok.organizationkind_id WHERE k.code = 'contractor'))
             ORDER BY p.id) FROM registry_project p) AS contractors,
          (SELECT array_agg(o.id ORDER BY o.id) FROM accounts_organization o
             JOIN accounts_organization_kinds ok ON ok.organization_id = o.id
             JOIN accounts_organizationkind k ON k.id = ok.organizationkind_id WHERE k.code = 'laboratory') AS labs,
          (SELECT array_agg(o.name ORDER BY o.id) FROM accounts_organization o
             JOIN accounts_organization_kinds ok ON ok.organization_id = o.id
             JOIN accounts_organizationkind k ON k.id = ok.organizationkind_id
             WHERE k.code = 'laboratory') AS lab_names,
          (SELECT id FROM materials_materialcategory WHERE code = 'GJ') AS gj,
          (SELECT id FROM materials_materialcategory WHERE code = 'XG') AS xg,
          (SELECT id FROM materials_materialcategory WHERE code = 'HNT') AS hnt,
          ARRAY['HRB400E Φ12', 'HRB400E Φ16', 'HRB400E Φ20', 'HRB400E Φ25', 'HRB500E Φ28'] AS specs
        """
    )
    n_suppliers = scalar("SELECT cardinality(suppliers) FROM bench_ref")
    n_reports = scalar("SELECT cardinality(type_reports) FROM bench_ref")
    assert n_suppliers == n_reports and n_suppliers > 0, (n_suppliers, n_reports)


# Per supply/purchase index i: contract c = i / 25 on project c % P with supplier (c*7 + c/P) % S. Supply i and
# purchase i are the two sides of one delivery. Anomalies by i % 100 (and contracts by c % 200), ~4 % of rows:
#   1 purchase filed under a contract number the supplier never used (XC02, XC03, XC12 on tendered projects)
#   2 purchase quantity 70 % of the supply's (XC03)      3 purchase price +15 % (XC04, XC13 on tendered contracts)
#   4 purchase spec the supplier never supplied (XC05)  5 supply cites an unknown type report (XC06)
#   6 supply and purchase of 型钢 (XG), which the supplier has no product filing for (XC06 other, XC07)
#   7 purchase of a spec and batch with no witness report (XC08, XC05)
#   contracts c % 200 == 7: the contractor names another supplier on every purchase (XC01 ×25, XC02 ×25)
# Test report j is the witness test of purchase 2j (which cites it): j % 50 == 9 failed (XC09), j % 100 == 11 a
# different spec than the purchase (XC10), j % 10 == 3 a 28-day C30 concrete strength test instead (not cited;
# j % 70 == 3 below strength: XC20 lots). Tenders for every contract of projects with index % 10 == 0 (XC12/XC13).

CONTRACT = "(i / 25)"
PROJECT_IX = f"({CONTRACT} % cardinality(r.projects) + 1)"
SUPPLIER_IX = f"(({CONTRACT} * 7 + {CONTRACT} / cardinality(r.projects)) % cardinality(r.suppliers) + 1)"
DAY = "(DATE '{today}' - {span} + (i::bigint * {span} / {n})::int)"


def supply_select(first: int, count: int, n: int, day: str) -> str:
    return f"""
    SELECT '', 'import', 'submitted', 1, true, md5(i::text) || md5('s' || i::text), '', now(),
           'GY' || lpad(i::text, 9, '0'), 'HT-' || {CONTRACT}, r.specs[i % 5 + 1],
           'B' || {CONTRACT} || '-' || (i % 5), (1 + i % 40)::numeric + 0.5, 't', 3800 + {CONTRACT} % 300,
           {day}, CASE WHEN i % 100 = 5 THEN 'XS-UNKNOWN-' || i WHEN i % 100 = 6 THEN ''
                       ELSE r.type_reports[{SUPPLIER_IX}] END,
           '国家建筑钢材质量检验检测中心', CASE WHEN i % 100 = 6 THEN r.xg ELSE r.gj END, NULL,
           r.suppliers[{SUPPLIER_IX}], r.projects[{PROJECT_IX}]
    FROM generate_series({first}, {first + count - 1}) i, bench_ref r"""


def purchase_select(first: int, count: int, n: int, day: str) -> str:
    return f"""
    SELECT '', 'import', 'submitted', 1, true, md5(i::text) || md5('p' || i::text), '', now(),
           'CG' || lpad(i::text, 9, '0'),
           CASE WHEN i % 100 = 1 THEN 'HT-X' || i ELSE 'HT-' || {CONTRACT} END,
           CASE WHEN i % 100 = 4 THEN 'HRB400E Φ32' WHEN i % 100 = 7 THEN 'HRB400E Φ10' ELSE r.specs[i % 5 + 1] END,
           CASE WHEN i % 100 = 7 THEN 'N' || i ELSE 'B' || {CONTRACT} || '-' || (i % 5) END,
           CASE WHEN i % 100 = 2 THEN ((1 + i % 40)::numeric + 0.5) * 0.7 ELSE (1 + i % 40)::numeric + 0.5 END, 't',
           CASE WHEN i % 100 = 3 THEN (3800 + {CONTRACT} % 300) * 1.15 ELSE 3800 + {CONTRACT} % 300 END,
           '', {day} + 1,
           CASE WHEN i % 2 = 0 AND (i / 2) % 10 <> 3 AND i / 2 < {{reports}} THEN 'WR' || lpad((i / 2)::text, 9, '0')
                ELSE '' END,
           CASE WHEN i % 2 = 0 AND (i / 2) % 10 <> 3 AND i / 2 < {{reports}}
                THEN r.lab_names[(i / 2) % cardinality(r.labs) + 1] ELSE '' END,
           '', '', '', CASE WHEN i % 100 = 6 THEN r.xg ELSE r.gj END, NULL, r.contractors[{PROJECT_IX}],
           r.projects[{PROJECT_IX}],
           CASE WHEN {CONTRACT} % 200 = 7 THEN r.suppliers[{SUPPLIER_IX} % cardinality(r.suppliers) + 1]
                ELSE r.suppliers[{SUPPLIER_IX}] END
    FROM generate_series({first}, {first + count - 1}) i, bench_ref r"""


def report_select(first: int, count: int, n: int, day: str) -> str:
    # Report j describes purchase i = 2j: the same project, supplier (producer), category, spec and batch.
    return f"""
    SELECT '', 'import', 'submitted', 1, true, md5(j::text) || md5('r' || j::text), '', now(),
           'WR' || lpad(j::text, 9, '0'), '见证检测',
           CASE WHEN j % 10 = 3 THEN 'C30' WHEN j % 100 = 11 THEN 'HRB400E Φ36'
                WHEN i % 100 = 4 THEN 'HRB400E Φ32' WHEN i % 100 = 7 THEN 'HRB400E Φ10'
                ELSE r.specs[i % 5 + 1] END,
           CASE WHEN j % 10 = 3 THEN '' WHEN i % 100 = 7 THEN 'N' || i ELSE 'B' || {CONTRACT} || '-' || (i % 5) END,
           NULL, CASE WHEN j % 10 = 3 THEN 'm³' ELSE 't' END, {day} + 2, {day} + 5,
           CASE WHEN j % 10 = 3 THEN 28 END,
           CASE WHEN j % 10 = 3 THEN (CASE WHEN j % 70 = 3 THEN 24.0 ELSE 36.0 + j % 9 END) END,
           CASE WHEN j % 50 = 9 THEN '不合格' ELSE '合格' END, '', '', '', '',
           CASE WHEN j % 10 = 3 THEN r.hnt WHEN i % 100 = 6 THEN r.xg ELSE r.gj END, NULL,
           r.labs[j % cardinality(r.labs) + 1],
           CASE WHEN {CONTRACT} % 200 = 7 THEN r.suppliers[{SUPPLIER_IX} % cardinality(r.suppliers) + 1]
                ELSE r.suppliers[{SUPPLIER_IX}] END,
           r.projects[{PROJECT_IX}]
    FROM generate_series({first}, {first + count - 1}) j, LATERAL (SELECT 2 * j AS i) x, bench_ref r"""


SUPPLY_COLS = (
    "filed_by_name, channel, status, version, is_current, content_hash, withdrawn_reason, created_at, supply_no, "
    "contract_no, spec, batch_no, quantity, unit, unit_price, delivery_date, type_report_no, type_report_agency, "
    "category_id, filed_by_id, filer_id, project_id"
)
PURCHASE_COLS = (
    "filed_by_name, channel, status, version, is_current, content_hash, withdrawn_reason, created_at, purchase_no, "
    "contract_no, spec, batch_no, quantity, unit, unit_price, purchase_method, arrival_date, witness_report_no, "
    "witness_lab, use_location, responsible_person, contact_phone, category_id, filed_by_id, filer_id, project_id, "
    "supplier_id"
)
REPORT_COLS = (
    "filed_by_name, channel, status, version, is_current, content_hash, withdrawn_reason, created_at, report_no, "
    "test_kind, spec, batch_no, quantity_represented, unit, sample_date, test_date, age_days, strength_mpa, result, "
    "items, use_location, witness, sampler, category_id, filed_by_id, filer_id, producer_id, project_id"
)


def generate_filings(n_supplies: int, n_purchases: int, n_reports: int) -> dict[str, Any]:
    """The bulk of the data, set-based: one INSERT … SELECT over generate_series per table."""
    day = DAY.format(today=TODAY.isoformat(), span=SPAN_DAYS, n=max(n_supplies, 1))
    timings: dict[str, float] = {}
    started = time.perf_counter()
    execute(f"INSERT INTO filings_supply ({SUPPLY_COLS}) {supply_select(0, n_supplies, n_supplies, day)}")
    timings["supply"] = time.perf_counter() - started
    started = time.perf_counter()
    sql = purchase_select(0, n_purchases, n_purchases, day).replace("{reports}", str(n_reports))
    execute(f"INSERT INTO filings_purchase ({PURCHASE_COLS}) {sql}")
    timings["purchase"] = time.perf_counter() - started
    started = time.perf_counter()
    execute(f"INSERT INTO filings_testreport ({REPORT_COLS}) {report_select(0, n_reports, n_reports, day)}")
    timings["test_report"] = time.perf_counter() - started
    started = time.perf_counter()
    # Tenders: every contract of the projects whose index is a multiple of 10, won by the contract's supplier.
    n_contracts = (n_supplies + PER_CONTRACT - 1) // PER_CONTRACT
    execute(
        f"""
        INSERT INTO filings_tender (filed_by_name, channel, status, version, is_current, content_hash,
            withdrawn_reason, created_at, tender_no, contract_no, awarded_price, guide_price, award_date,
            category_id, filed_by_id, filer_id, project_id, winner_id)
        SELECT '', 'import', 'submitted', 1, true, md5('t' || c::text) || md5(c::text), '', now(),
               'ZB' || lpad(c::text, 8, '0'), 'HT-' || c, 3800 + c % 300, (3800 + c % 300) * 1.02,
               DATE '{TODAY.isoformat()}' - {SPAN_DAYS} - 30
                 + (c::bigint * 25 * {SPAN_DAYS} / {max(n_supplies, 1)})::int,
               r.gj, NULL, r.contractors[c % cardinality(r.projects) + 1], r.projects[c % cardinality(r.projects) + 1],
               r.suppliers[(c * 7 + c / cardinality(r.projects)) % cardinality(r.suppliers) + 1]
        FROM generate_series(0, {n_contracts - 1}) c, bench_ref r
        WHERE (c % cardinality(r.projects)) % 10 = 0
        """
    )
    timings["tender"] = time.perf_counter() - started
    started = time.perf_counter()
    execute("ANALYZE")
    timings["analyze"] = time.perf_counter() - started
    return timings


def remove_batch(n_supplies: int, n_purchases: int, n_reports: int) -> None:
    """--reuse: delete the previous run's incremental batch (the rows past the generated series)."""
    for table, prefix, first in (
        ("filings_supply", "GY", n_supplies),
        ("filings_purchase", "CG", n_purchases),
        ("filings_testreport", "WR", max(n_reports, n_purchases // 2)),
    ):
        number = {"filings_supply": "supply_no", "filings_purchase": "purchase_no"}.get(table, "report_no")
        execute(
            f"DELETE FROM {table} WHERE {number} ~ '^{prefix}[0-9]{{9}}$' AND substr({number}, 3)::bigint >= %s",
            [first],
        )
    execute("ANALYZE")


def add_batch(n_supplies: int, n_purchases: int, n_reports: int) -> dict[str, list[int]]:
    """The incremental batch: 10,000 new filings continuing the series (the newest contracts, dated within the
    last days, so still in their grace periods, as fresh filings are). Returns the new ids per kind."""
    day = f"(DATE '{TODAY.isoformat()}' - 1 - i % 5)"
    ids: dict[str, list[int]] = {}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO filings_supply ({SUPPLY_COLS}) {supply_select(n_supplies, BATCH_SUPPLIES, 0, day)} "
            "RETURNING id"
        )
        ids["supply"] = [r[0] for r in cursor.fetchall()]
        sql = purchase_select(n_purchases, BATCH_PURCHASES, 0, day).replace("{reports}", str(n_reports + BATCH_REPORTS))
        cursor.execute(f"INSERT INTO filings_purchase ({PURCHASE_COLS}) {sql} RETURNING id")
        ids["purchase"] = [r[0] for r in cursor.fetchall()]
        # Reports j ≥ n_reports describe purchases 2j: the batch's reports test the batch's purchases where they
        # exist (n_purchases ≈ 2·n_reports at every scale).
        first = max(n_reports, n_purchases // 2)
        cursor.execute(
            f"INSERT INTO filings_testreport ({REPORT_COLS}) {report_select(first, BATCH_REPORTS, 0, day)} RETURNING id"
        )
        ids["test_report"] = [r[0] for r in cursor.fetchall()]
    return ids


# ------------------------------------------------------------------------------------------------ the runs


def rule_statements() -> list[tuple[str, str]]:
    """(rule code, SQL with its parameters inlined) of each rule's full-run query: the subjects filtered on
    `violates`, exactly what `engine._evaluate_rule` reads in a full run."""
    from django.db import connection
    from django.utils import timezone

    from jiancai.monitoring.engine import parameters_in_force, sync_rules
    from jiancai.monitoring.rules import RULES
    from jiancai.monitoring.rules.base import Context

    rules = sync_rules()
    now = timezone.now()
    out: list[tuple[str, str]] = []
    for code in sorted(RULES, key=lambda c: (RULES[c].evaluate_last, c)):
        logic = RULES[code]
        ctx = Context(params=parameters_in_force(rules[code], logic, now), today=TODAY, now=now)
        subjects = logic.subjects(ctx, None).filter(violates=True)
        parts = getattr(subjects, "parts", [subjects])  # XC15: one queryset per filing kind
        for part in parts:
            sql, params = part.query.sql_with_params()
            with connection.cursor() as cursor:
                out.append((code, connection.ops.compose_sql(sql, params)))
                del cursor
    return out


def time_pg_statements(statements: list[tuple[str, str]]) -> dict[str, Any]:
    from django.db import connection

    from jiancai.monitoring.engine import PLANNER_SETTINGS

    per_rule: dict[str, float] = {}
    rows: dict[str, int] = {}
    with connection.cursor() as cursor:
        for name, value in PLANNER_SETTINGS.items():  # as engine.evaluate runs them
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
        for code, sql in statements:
            started = time.perf_counter()
            cursor.execute(sql)
            fetched = cursor.fetchall()
            per_rule[code] = per_rule.get(code, 0.0) + time.perf_counter() - started
            rows[code] = rows.get(code, 0) + len(fetched)
    return {"seconds": sum(per_rule.values()), "per_rule": per_rule, "rows": rows}


def export_to_duckdb(path: Path) -> dict[str, Any]:
    """COPY every table the rules read to CSV and load it into a DuckDB file with the same names and types."""
    import duckdb
    import psycopg

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    duck = duckdb.connect(str(path))
    with psycopg.connect(PG_URL.replace("postgres://", "postgresql://")) as pg:
        for table in TABLES:
            columns = pg.execute(
                "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
                "WHERE table_name = %s ORDER BY ordinal_position",
                [table],
            ).fetchall()
            defs = ", ".join(f'"{name}" {duck_type(kind, prec, scale)}' for name, kind, prec, scale in columns)
            duck.execute(f'CREATE TABLE "{table}" ({defs})')
            csv_path = WORK_DIR / f"{table}.csv"
            # NULL as \N: an empty string must stay an empty string (spec = '' is a condition of several rules).
            sql = f"COPY \"{table}\" TO STDOUT (FORMAT csv, NULL '\\N')"
            with csv_path.open("wb") as fh, pg.cursor().copy(sql) as copy:
                for chunk in copy:
                    fh.write(chunk)
            duck.execute(
                f"COPY \"{table}\" FROM '{csv_path}' (FORMAT csv, HEADER false, QUOTE '\"', ESCAPE '\"', "
                "DELIMITER ',', NULL '\\N', AUTO_DETECT false)"
            )
            csv_path.unlink()
    duck.execute("SET TimeZone = 'Asia/Shanghai'")
    duck.close()
    return {"seconds": time.perf_counter() - started}


def duck_type(kind: str, precision: int | None, scale: int | None) -> str:
    if kind == "numeric":
        return f"DECIMAL({precision or 38}, {scale or 0})" if precision else "DECIMAL(38, 6)"
    return {
        "bigint": "BIGINT",
        "integer": "INTEGER",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp with time zone": "TIMESTAMPTZ",
        "double precision": "DOUBLE",
        "uuid": "UUID",
        "jsonb": "JSON",
    }.get(kind, "VARCHAR")


def time_duckdb(path: Path, statements: list[tuple[str, str]], threads: int) -> dict[str, Any]:
    import duckdb

    duck = duckdb.connect(str(path), read_only=True)
    duck.execute(f"SET threads = {threads}")
    duck.execute("SET TimeZone = 'Asia/Shanghai'")
    per_rule: dict[str, float] = {}
    rows: dict[str, int] = {}
    errors: dict[str, str] = {}
    for code, sql in statements:
        started = time.perf_counter()
        try:
            fetched = duck.execute(duck_sql(sql)).fetchall()
        except duckdb.Error as exc:
            errors[code] = str(exc).splitlines()[0][:300]
            continue
        per_rule[code] = per_rule.get(code, 0.0) + time.perf_counter() - started
        rows[code] = rows.get(code, 0) + len(fetched)
    duck.close()
    return {"seconds": sum(per_rule.values()), "per_rule": per_rule, "rows": rows, "errors": errors}


def duck_sql(sql: str) -> str:
    """The PostgreSQL statement as DuckDB reads it: only spellings DuckDB lacks are rewritten (Django rounds a float
    through `numeric(1000, 15)`; DuckDB's DECIMAL stops at 38 digits)."""
    return sql.replace("::numeric(1000, 15)", "::DECIMAL(38, 15)")


def full_run() -> dict[str, Any]:
    from jiancai.monitoring.engine import evaluate

    started = time.perf_counter()
    result = evaluate(today=TODAY)
    seconds = time.perf_counter() - started
    total = result.total
    return {
        "seconds": seconds,
        "findings": total.findings,
        "raised": total.raised,
        "resolved": total.resolved,
        "refreshed": total.refreshed,
        "per_rule": {c: {"seconds": o.seconds, "findings": o.findings} for c, o in result.per_rule.items()},
    }


def incremental_run(ids: dict[str, list[int]]) -> dict[str, Any]:
    from jiancai.filings.models import FILING_MODELS
    from jiancai.monitoring.engine import evaluate
    from jiancai.monitoring.receivers import scope_for
    from jiancai.monitoring.rules.base import Scope

    started = time.perf_counter()
    scope = Scope()
    for kind, kind_ids in ids.items():
        scope.merge(scope_for(FILING_MODELS[kind], kind, kind_ids))
    scoped = time.perf_counter() - started
    result = evaluate(scope, today=TODAY)
    seconds = time.perf_counter() - started
    total = result.total
    return {
        "seconds": seconds,
        "scope_seconds": scoped,
        "scope": {"records": scope.size, "projects": len(scope.projects), "contracts": len(scope.contract_nos)},
        "findings": total.findings,
        "raised": total.raised,
        "resolved": total.resolved,
        "per_rule": {c: {"seconds": o.seconds, "findings": o.findings} for c, o in result.per_rule.items()},
    }


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
        info["loadavg"] = os.getloadavg()
    except (OSError, ValueError):
        pass
    info["db_version"] = scalar("SELECT version()")
    info["git"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    import duckdb

    info["duckdb"] = duckdb.__version__
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scale", type=float, default=0.01, help="1 = 1,000,000 supplies and purchases, 500,000 reports"
    )
    parser.add_argument("--duck-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument(
        "--duckdb-only", action="store_true", help="with --reuse: only the statements on PostgreSQL and on DuckDB"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database of an earlier run of the same scale (its alerts too), drop only its batch",
    )
    args = parser.parse_args()
    n_supplies = int(SUPPLIES_AT_1 * args.scale)
    n_purchases = int(PURCHASES_AT_1 * args.scale)
    n_reports = int(REPORTS_AT_1 * args.scale)
    demo_scale = max(2, round(50 * args.scale))  # 40 projects per demo scale: 2,000 at scale 1
    setup_django(args.reuse)
    out: dict[str, Any] = {"scale": args.scale, "demo_scale": demo_scale, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    out["reuse"] = args.reuse
    if args.reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # indexes added since the data was generated
        log("reusing the generated data; removing the previous incremental batch")
        remove_batch(n_supplies, n_purchases, n_reports)
    else:
        log(f"demo data at scale {demo_scale}")
        seed_reference(demo_scale)
        log(f"generating {n_supplies} supplies, {n_purchases} purchases, {n_reports} reports")
        out["generate"] = generate_filings(n_supplies, n_purchases, n_reports)
    out["rows"] = {
        t: scalar(f"SELECT count(*) FROM {t}")
        for t in ("filings_supply", "filings_purchase", "filings_testreport", "filings_tender", "registry_project")
    }
    log(f"rows: {out['rows']}")
    out["machine"] = machine()

    if args.duckdb_only:
        statements = rule_statements()
        out["pg_sql"] = time_pg_statements(statements)
        duck_path = WORK_DIR / "bench.duckdb"
        out["duckdb_load"] = export_to_duckdb(duck_path)
        out["duckdb"] = time_duckdb(duck_path, statements, args.duck_threads)
        out["duckdb"]["same_rows"] = out["duckdb"]["rows"] == out["pg_sql"]["rows"]
        duck_path.unlink(missing_ok=True)
        print(f"same SQL on PostgreSQL: {out['pg_sql']['seconds']:.2f} s, DuckDB {out['duckdb']['seconds']:.2f} s, "
              f"same rows: {out['duckdb']['same_rows']}, errors: {out['duckdb']['errors']}")  # fmt: skip
        for code in sorted(out["pg_sql"]["per_rule"]):
            print(f"{code}  {out['pg_sql']['per_rule'][code]:8.2f}  {out['duckdb']['per_rule'].get(code, 0):8.2f}  "
                  f"{out['pg_sql']['rows'][code]:8d}  {out['duckdb']['rows'].get(code)}")  # fmt: skip
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"monitoring-duckdb-{args.scale:g}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return

    execute("CHECKPOINT")
    log("full run 1 (raises every alert)")
    out["full_first"] = full_run()
    log(f"  {out['full_first']['seconds']:.2f} s, {out['full_first']['raised']} raised")
    execute("ANALYZE")
    execute("CHECKPOINT")
    log("full run 2 (steady state: the nightly job)")
    out["full"] = full_run()
    log(f"  {out['full']['seconds']:.2f} s, raised {out['full']['raised']}, resolved {out['full']['resolved']}")
    assert out["full"]["raised"] == out["full"]["resolved"] == out["full"]["refreshed"] == 0, out["full"]

    statements = rule_statements()
    out["pg_sql"] = time_pg_statements(statements)
    log(f"the same SQL on PostgreSQL (queries only): {out['pg_sql']['seconds']:.2f} s")
    if not args.skip_duckdb:
        duck_path = WORK_DIR / "bench.duckdb"
        out["duckdb_load"] = export_to_duckdb(duck_path)
        log(f"exported to DuckDB in {out['duckdb_load']['seconds']:.1f} s (not timed)")
        out["duckdb"] = time_duckdb(duck_path, statements, args.duck_threads)
        out["duckdb"]["same_rows"] = out["duckdb"]["rows"] == out["pg_sql"]["rows"]
        log(f"DuckDB: {out['duckdb']['seconds']:.2f} s, errors: {out['duckdb']['errors']}, "
            f"same rows as PostgreSQL: {out['duckdb']['same_rows']}")  # fmt: skip
        duck_path.unlink(missing_ok=True)

    log("incremental: a batch of 10,000 new filings")
    ids = add_batch(n_supplies, n_purchases, n_reports)
    execute("CHECKPOINT")
    out["incremental"] = incremental_run(ids)
    log(f"  {out['incremental']['seconds']:.2f} s (scope {out['incremental']['scope_seconds']:.2f} s)")
    # Identical results: a full run after the incremental one changes nothing.
    out["full_after"] = full_run()
    after = out["full_after"]
    out["identical"] = after["raised"] == after["resolved"] == after["refreshed"] == 0
    log(f"full run after the batch: {after['seconds']:.2f} s, identical: {out['identical']} ({after})")

    report(out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"monitoring-{args.scale:g}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    log(f"written {path}")


def report(out: dict[str, Any]) -> None:
    full, inc = out["full"]["seconds"], out["incremental"]["seconds"]
    print(f"\nscale {out['scale']}: {out['rows']}")
    print(f"full run 1 (raising): {out['full_first']['seconds']:.2f} s   full run 2 (steady): {full:.2f} s")
    print(f"same SQL on PostgreSQL: {out['pg_sql']['seconds']:.2f} s")
    if "duckdb" in out:
        duck = out["duckdb"]["seconds"]
        print(f"DuckDB: {duck:.2f} s  → full/DuckDB = {full / duck:.2f} × (goal ≤ 3), "
              f"PG SQL/DuckDB = {out['pg_sql']['seconds'] / duck:.2f} ×")  # fmt: skip
    print(f"incremental (10,000 filings): {inc:.2f} s → full/incremental = {full / inc:.1f} (goal ≥ 30)")
    print(f"identical results after the batch: {out['identical']}")
    print("\nrule   full s  findings   pg-sql s  duck s  incr s")
    for code in sorted(out["full"]["per_rule"]):
        f = out["full"]["per_rule"][code]
        d = out.get("duckdb", {}).get("per_rule", {}).get(code)
        i = out["incremental"]["per_rule"].get(code, {}).get("seconds")
        print(f"{code}  {f['seconds']:7.2f}  {f['findings']:8d}  {out['pg_sql']['per_rule'].get(code, 0):8.2f}  "
              f"{d if d is None else round(d, 2)!s:>6}  {i if i is None else round(i, 2)!s:>6}")  # fmt: skip


if __name__ == "__main__":
    main()
