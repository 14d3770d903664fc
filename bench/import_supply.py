# ruff: noqa: S101, S108, S607, S608
# (a benchmark: asserts check each step's outcome, /tmp is its scratch space, SQL is built from constant names)
"""Benchmark: bulk import of supply records (供应记录) against raw COPY and Django bulk_create, in one run.

    .venv/bin/python bench/import_supply.py --rows 100000 --db postgres [--xlsx] [--skip-platform]
    .venv/bin/python bench/import_supply.py --rows 50000 --db postgres --profile

See bench/README.md for what every step measures. Results: a table on stdout and a JSON file under
bench/results/ (git-ignored). Never run against a database you care about: the PostgreSQL database
`jiancai_bench` (or the SQLite file /tmp/jiancai_bench.sqlite3) is dropped and recreated.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import hashlib
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# BENCH_NAME lets two checkouts on one machine run the benchmark side by side (database, SQLite file, work dir).
BENCH_NAME = os.environ.get("BENCH_NAME", "jiancai_bench")
PG_DB = BENCH_NAME
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
SQLITE_PATH = Path(f"/tmp/{BENCH_NAME}.sqlite3")
WORK_DIR = Path(f"/tmp/{BENCH_NAME}")

SEED = 42
CHUNK = 5000  # rows per transaction in the bulk_create baseline (= imports.CHUNK_ROWS)
BATCH = 2000  # bulk_create batch_size (= actions.WRITE_BATCH)
REBAR_SPECS = ("HRB400E Φ12", "HRB400E Φ16", "HRB400E Φ20", "HRB400E Φ25", "HRB500E Φ28")
AGENCIES = ("国家建筑工程质量检验检测中心", "北京市建设工程质量第一检测所", "")
FIRST_DAY = dt.date(2024, 1, 1)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------- database set-up


def fresh_database(db: str) -> None:
    """Drop and recreate the bench database, then point Django at it (before django.setup())."""
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
        os.environ["DATABASE_URL"] = PG_URL
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["IMPORT_MAX_BYTES"] = str(10 * 1024**3)  # a 1,000,000-row CSV is larger than the 200 MB default
    os.environ["DB_CONN_MAX_AGE"] = "0"
    # The cross-checks that filings trigger are measured by bench/monitoring.py, not here.
    os.environ["MONITORING_AUTO"] = "0"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed_reference_data() -> dict[str, Any]:
    """Migrate, generate the demo data at scale 1, and empty filings_supply (every step starts from 0 rows)."""
    from django.core.management import call_command
    from django.db import connection

    from jiancai.accounts.models import Organization
    from jiancai.demo.generator import generate
    from jiancai.materials.models import MaterialCategory
    from jiancai.registry.models import Project

    call_command("migrate", verbosity=0)
    generate(seed=SEED, scale=1, today=dt.date(2026, 6, 30))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM filings_supply")
    suppliers = list(
        Organization.objects.filter(kinds__code="supplier").order_by("uscc").values_list("uscc", "id").distinct()
    )
    projects = list(Project.objects.order_by("project_code").values_list("project_code", "id"))
    category = MaterialCategory.objects.get(code="GJ")
    assert category.unit == "t", category.unit
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SHOW autovacuum")
            autovacuum = cursor.fetchone()[0]
        log(f"autovacuum is {autovacuum}")
    return {"suppliers": suppliers, "projects": projects, "category": (category.code, category.id)}


# ------------------------------------------------------------------------------------------------ the data


def supply_rows(n: int, ref: dict[str, Any]) -> Any:
    """N valid supply rows (FORMATS.md order), deterministic: quantity > 0, unit t for 钢筋, past dates."""
    suppliers, projects = ref["suppliers"], ref["projects"]
    for i in range(n):
        uscc = suppliers[i % len(suppliers)][0]
        code = projects[(i * 7919) % len(projects)][0]
        day = FIRST_DAY + dt.timedelta(days=i % 700)
        yield (
            f"BS{i:09d}",  # 供应单号
            uscc,  # 供应企业统一社会信用代码
            code,  # 项目编号
            f"HT-{code}-GJ",  # 合同编号
            "GJ",  # 材料品类
            REBAR_SPECS[i % len(REBAR_SPECS)],  # 规格型号
            f"GJ{day:%y%m%d}{i % 1000:03d}",  # 批号
            f"{(i % 977) + 1}.{i % 1000:03d}",  # 数量
            "t",  # 计量单位
            f"{3800 + i % 700}.00",  # 单价(元)
            day.isoformat(),  # 供货日期
            f"XS-{i % 5000:05d}" if i % 3 else "",  # 型式检验报告编号
            AGENCIES[i % len(AGENCIES)],  # 型式检验机构
        )


def headers() -> list[str]:
    from jiancai.filings.schemas import SCHEMAS

    return [f.header for f in SCHEMAS["supply"].fields]


def write_csv(path: Path, n: int, ref: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # with BOM, as Excel's "CSV UTF-8" writes
        writer = csv.writer(fh)
        writer.writerow(headers())
        writer.writerows(supply_rows(n, ref))


def write_xlsx(path: Path, n: int, ref: dict[str, Any]) -> None:
    """The same rows as a workbook a user would have: numbers as numbers, dates as dates, codes as text."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("供应记录")
    sheet.append(headers())
    for row in supply_rows(n, ref):
        cells: list[Any] = list(row)
        cells[7] = float(row[7])
        cells[9] = int(float(row[9]))
        cells[10] = dt.date.fromisoformat(row[10])
        cells[11] = row[11] or None
        cells[12] = row[12] or None
        sheet.append(cells)
    workbook.save(path)


# ------------------------------------------------------------------------------------------------- helpers


def count_supply(table: str = "filings_supply") -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


def clear_supply() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE filings_supply RESTART IDENTITY")
        else:
            cursor.execute("DELETE FROM filings_supply")
    settle()


def settle() -> None:
    """Write out dirty pages between steps so one step's checkpoint is not billed to the next."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def index_list(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name = %s ORDER BY name", [table])
        return [r[0] or "(automatic)" for r in cursor.fetchall()]


# ---------------------------------------------------------------------------------------------------- steps


class AutoAnalyze:
    """What autovacuum's default analyze would do (ANALYZE after 50 + 10 % of the rows changed), for a server
    where autovacuum is off. Called after every import chunk; its ANALYZE time is billed to the import."""

    def __init__(self) -> None:
        self.analyzed_at = 0
        self.count = 0
        self.seconds = 0.0

    def __call__(self, report: Any) -> None:
        from django.db import connection

        if report.created - self.analyzed_at > 50 + 0.1 * self.analyzed_at:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE filings_supply")
            self.seconds += time.perf_counter() - started
            self.count += 1
            self.analyzed_at = report.created


def step_platform(path: Path, n: int, autoanalyze: bool = False) -> dict[str, Any]:
    """imports.run_import with actor=None: the import_records command path (validation, versions, audit)."""
    from jiancai.audit.actions import AuditContext
    from jiancai.filings.imports import run_import

    clear_supply()
    analyze = AutoAnalyze() if autoanalyze else None
    started = time.perf_counter()
    report = run_import("supply", path, context=AuditContext(actor_name="基准测试"), actor=None, on_progress=analyze)
    seconds = time.perf_counter() - started
    assert not report.file_error, report.file_error
    assert report.created == n and report.refused == 0, report.summary_text()
    assert count_supply() == n
    result = {"seconds": seconds, "format": report.file_format, "summary": report.summary_text()}
    if analyze is not None:
        result.update(analyze_runs=analyze.count, analyze_seconds=analyze.seconds)
    return result


def step_bulk_create(path: Path, n: int, ref: dict[str, Any]) -> dict[str, Any]:
    """Read the CSV, build Supply objects with pre-resolved ids, bulk_create(batch_size=2000) per 5000 rows."""
    from django.db import transaction

    from jiancai.filings.models import Channel, Supply

    clear_supply()
    orgs = dict(ref["suppliers"])
    projects = dict(ref["projects"])
    categories = {ref["category"][0]: ref["category"][1]}
    build = write = 0.0
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        while True:
            t0 = time.perf_counter()
            objs = []
            for cells in reader:
                objs.append(
                    Supply(
                        supply_no=cells[0],
                        filer_id=orgs[cells[1]],
                        project_id=projects[cells[2]],
                        contract_no=cells[3],
                        category_id=categories[cells[4]],
                        spec=cells[5],
                        batch_no=cells[6],
                        quantity=Decimal(cells[7]),
                        unit=cells[8],
                        unit_price=Decimal(cells[9]) if cells[9] else None,
                        delivery_date=dt.date.fromisoformat(cells[10]),
                        type_report_no=cells[11],
                        type_report_agency=cells[12],
                        content_hash=hashlib.sha256(",".join(cells).encode()).hexdigest(),
                        channel=Channel.IMPORT,
                        filed_by_name="基准测试",
                    )
                )
                if len(objs) >= CHUNK:
                    break
            t1 = time.perf_counter()
            build += t1 - t0
            if not objs:
                break
            with transaction.atomic():
                Supply.objects.bulk_create(objs, batch_size=BATCH)
            write += time.perf_counter() - t1
    seconds = time.perf_counter() - started
    assert count_supply() == n
    return {"seconds": seconds, "build_seconds": build, "bulk_create_seconds": write}


STAGE_COLUMNS = (
    "supply_no, supplier_uscc, project_code, contract_no, category, spec, batch_no, quantity, unit, unit_price, "
    "delivery_date, type_report_no, type_report_agency"
)


def _copy_file(cursor: Any, sql: str, path: Path) -> None:
    with path.open("rb") as fh, cursor.copy(sql) as copy:
        while data := fh.read(1024 * 1024):
            copy.write(data)


def create_identical_table(cursor: Any) -> None:
    """bench_supply: `LIKE filings_supply INCLUDING ALL` (columns, defaults, identity, checks, unique constraints
    and indexes) plus the same foreign keys, which LIKE does not copy; recreated from the catalog, DEFERRABLE
    INITIALLY DEFERRED as the platform's are, so the baseline pays the same foreign-key checks at commit."""
    cursor.execute("DROP TABLE IF EXISTS bench_supply_stage, bench_supply")
    cursor.execute("CREATE TABLE bench_supply (LIKE filings_supply INCLUDING ALL)")
    cursor.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'filings_supply'::regclass AND contype = 'f' ORDER BY conname"
    )
    for number, (definition,) in enumerate(cursor.fetchall()):
        cursor.execute(f"ALTER TABLE bench_supply ADD CONSTRAINT bench_supply_fk_{number} {definition}")


def step_copy_file(path: Path, n: int) -> dict[str, Any]:
    """(a) The same CSV file, COPY'd verbatim into a text staging table, then set-based into an identical table.

    bench_supply is an identical table (`create_identical_table`: columns, constraints, indexes and foreign
    keys). The INSERT ... SELECT resolves USCC, project code and category
    by joins, casts quantity/price/date, and computes a SHA-256 content hash, so its output rows are the ones the
    platform stores. It checks nothing else: a bad row would fail the whole load (or vanish in a join).
    """
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        create_identical_table(cursor)
        cursor.execute(f"CREATE UNLOGGED TABLE bench_supply_stage ({STAGE_COLUMNS.replace(',', ' text,')} text)")
    settle()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor
        _copy_file(raw, f"COPY bench_supply_stage ({STAGE_COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)", path)
        copied = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO bench_supply (filer_id, filed_by_id, filed_by_name, channel, status, version, is_current,
                content_hash, withdrawn_reason, created_at, supply_no, project_id, contract_no, category_id, spec,
                batch_no, quantity, unit, unit_price, delivery_date, type_report_no, type_report_agency)
            SELECT o.id, NULL, '基准测试', 'import', 'submitted', 1, true,
                encode(sha256(convert_to(concat_ws(',', s.supply_no, s.supplier_uscc, s.project_code, s.contract_no,
                    s.category, s.spec, s.batch_no, s.quantity, s.unit, s.unit_price, s.delivery_date,
                    s.type_report_no, s.type_report_agency), 'UTF8')), 'hex'),
                '', now(), s.supply_no, p.id, s.contract_no, c.id, coalesce(s.spec, ''), coalesce(s.batch_no, ''),
                s.quantity::numeric(16, 3), s.unit, nullif(s.unit_price, '')::numeric(14, 2), s.delivery_date::date,
                coalesce(s.type_report_no, ''), coalesce(s.type_report_agency, '')
            FROM bench_supply_stage s
            JOIN accounts_organization o ON o.uscc = s.supplier_uscc
            JOIN registry_project p ON p.project_code = s.project_code
            JOIN materials_materialcategory c ON c.code = s.category
            """
        )
    seconds = time.perf_counter() - started
    assert count_supply("bench_supply") == n
    return {"seconds": seconds, "copy_seconds": copied - started, "insert_select_seconds": seconds - (copied - started)}


TEXT_NOT_NULL = "filed_by_name, withdrawn_reason, spec, batch_no, type_report_no, type_report_agency"


def step_copy_resolved(path: Path, n: int, ref: dict[str, Any]) -> dict[str, Any]:
    """(a') The pure write floor: COPY FROM STDIN of the already-resolved rows into an identical, empty table.

    The COPY text (ids instead of USCCs/codes, the content hash) is prepared before the clock starts.
    """
    from django.db import connection, transaction

    orgs = dict(ref["suppliers"])
    projects = dict(ref["projects"])
    category_id = ref["category"][1]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    now = dt.datetime.now(dt.UTC).isoformat()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for c in reader:
            digest = hashlib.sha256(",".join(c).encode()).hexdigest()
            writer.writerow(
                [orgs[c[1]], "", "基准测试", "import", "submitted", 1, "t", digest, "", now, c[0], projects[c[2]],
                 c[3], category_id, c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12]]
            )  # fmt: skip
    data = buffer.getvalue().encode()
    del buffer
    columns = (
        "filer_id, filed_by_id, filed_by_name, channel, status, version, is_current, content_hash, withdrawn_reason, "
        "created_at, supply_no, project_id, contract_no, category_id, spec, batch_no, quantity, unit, unit_price, "
        "delivery_date, type_report_no, type_report_agency"
    )
    with connection.cursor() as cursor:
        create_identical_table(cursor)
    settle()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"COPY bench_supply ({columns}) FROM STDIN (FORMAT csv, FORCE_NOT_NULL ({TEXT_NOT_NULL}))"
        with cursor.cursor.copy(sql) as cp:
            for start in range(0, len(data), 1024 * 1024):
                cp.write(data[start : start + 1024 * 1024])
    seconds = time.perf_counter() - started
    assert count_supply("bench_supply") == n
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_supply")
    return {"seconds": seconds, "bytes": len(data)}


# ----------------------------------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    from django.db import connection

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "db": connection.vendor,
    }
    try:
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
        info["cpu"] = next(
            (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
             if ln.startswith("model name")), "")  # fmt: skip
    except (OSError, ValueError):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        info["db_version"] = cursor.fetchone()[0]
    try:
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        pass
    return info


def print_table(n: int, steps: dict[str, dict[str, Any]]) -> None:
    platform_s = steps.get("platform_csv", {}).get("seconds")
    print(f"\n{n:,} supply rows, {os.environ['DATABASE_URL'].split(':')[0]}")
    print(f"{'step':<22}{'seconds':>10}{'rows/s':>12}{'platform speed ÷ this':>24}")
    for name, step in steps.items():
        seconds = step["seconds"]
        ratio = f"{seconds / platform_s:.2f}×" if platform_s else "-"
        print(f"{name:<22}{seconds:>10.2f}{n / seconds:>12,.0f}{ratio:>24}")
        step["rows_per_second"] = n / seconds
        if platform_s and name != "platform_csv":
            step["platform_speed_ratio"] = seconds / platform_s  # > 1: the platform is faster than this step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--xlsx", action="store_true", help="also import the same rows from an XLSX file")
    parser.add_argument("--skip-platform", action="store_true", help="only the baselines (and --xlsx is ignored)")
    parser.add_argument("--platform-only", action="store_true", help="no baselines")
    parser.add_argument(
        "--autoanalyze", action="store_true", help="PostgreSQL: ANALYZE filings_supply as autovacuum would (see docs)"
    )
    parser.add_argument("--profile", action="store_true", help="only the platform CSV import, under cProfile")
    args = parser.parse_args()
    n = args.rows

    fresh_database(args.db)
    log(f"database {os.environ['DATABASE_URL']} created; migrating and seeding")
    ref = seed_reference_data()
    log(f"{len(ref['suppliers'])} supplier enterprises, {len(ref['projects'])} projects")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    csv_path = WORK_DIR / f"supply_{n}.csv"
    write_csv(csv_path, n, ref)
    log(f"CSV written: {csv_path} ({csv_path.stat().st_size / 1024**2:.1f} MB)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")

    if args.profile:
        profiler = cProfile.Profile()
        from jiancai.audit.actions import AuditContext
        from jiancai.filings.imports import run_import

        settle()
        started = time.perf_counter()
        profiler.enable()
        report = run_import("supply", csv_path, context=AuditContext(actor_name="基准测试"), actor=None)
        profiler.disable()
        seconds = time.perf_counter() - started
        assert report.created == n, report.summary_text()
        out = RESULTS / f"profile_{args.db}_{n}_{stamp}.pstats"
        profiler.dump_stats(out)
        print(f"{n:,} rows in {seconds:.2f} s under cProfile ({n / seconds:,.0f} rows/s); stats in {out}")
        stats = pstats.Stats(str(out))
        stats.strip_dirs().sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        return

    steps: dict[str, dict[str, Any]] = {}
    if not args.skip_platform:
        log("platform import (CSV)")
        steps["platform_csv"] = step_platform(csv_path, n, args.autoanalyze and args.db == "postgres")
    if args.db == "postgres" and not args.platform_only:
        log("COPY file -> staging -> identical table")
        steps["copy_file_to_table"] = step_copy_file(csv_path, n)
        log("COPY of resolved rows into identical table")
        steps["copy_resolved"] = step_copy_resolved(csv_path, n, ref)
    if not args.platform_only:
        log("bulk_create")
        steps["bulk_create"] = step_bulk_create(csv_path, n, ref)
    if args.xlsx and not args.skip_platform:
        xlsx_path = WORK_DIR / f"supply_{n}.xlsx"
        started = time.perf_counter()
        write_xlsx(xlsx_path, n, ref)
        log(f"XLSX written in {time.perf_counter() - started:.1f} s ({xlsx_path.stat().st_size / 1024**2:.1f} MB)")
        log("platform import (XLSX)")
        steps["platform_xlsx"] = step_platform(xlsx_path, n, args.autoanalyze and args.db == "postgres")
    indexes = index_list("filings_supply")
    print_table(n, steps)
    result = {
        "rows": n,
        "db": args.db,
        "options": {k: v for k, v in vars(args).items() if k not in ("rows", "db")},
        "started": stamp,
        "machine": machine(),
        "csv_bytes": csv_path.stat().st_size,
        "filings_supply_indexes": indexes,
        "steps": steps,
    }
    pl = steps.get("platform_csv", {}).get("seconds")
    if pl and "bulk_create" in steps:
        goals = {}
        if "copy_file_to_table" in steps:
            goals["speed_vs_copy_file (goal >= 0.7)"] = steps["copy_file_to_table"]["seconds"] / pl
            goals["speed_vs_copy_resolved (goal >= 0.7)"] = steps["copy_resolved"]["seconds"] / pl
        goals["speed_vs_bulk_create (goal >= 4)"] = steps["bulk_create"]["seconds"] / pl
        if "platform_xlsx" in steps:
            goals["xlsx_time_over_csv_time (goal <= 3)"] = steps["platform_xlsx"]["seconds"] / pl
        result["goals"] = goals
        for name, value in goals.items():
            print(f"{name:<42}{value:.3f}")
    out = RESULTS / f"import_supply_{args.db}_{n}_{stamp}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\nresult: {out}")


if __name__ == "__main__":
    main()
