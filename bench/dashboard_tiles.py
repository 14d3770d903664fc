# ruff: noqa: S101, S108, S607, S608
# (a benchmark: asserts check each step's outcome, /tmp is its scratch space, SQL is built from constant names)
"""Benchmark: dashboard tiles (数据分析) read from the rollup tables vs the same aggregates scanning the base tables.

    .venv/bin/python bench/dashboard_tiles.py --filings 100000         # a quick check (~3 min)
    .venv/bin/python bench/dashboard_tiles.py --filings 10000000       # the goal's scale (see bench/README.md)

PostgreSQL only. See bench/README.md for what is measured. Results: a table on stdout and a JSON file under
bench/results/ (git-ignored). The database `jc_bench_analytics` (BENCH_NAME) is dropped and recreated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_NAME = os.environ.get("BENCH_NAME", "jc_bench_analytics")
PG_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_NAME}"
SEED = 42
TODAY = dt.date(2026, 6, 30)
MONTH = dt.date(2026, 6, 1)  # the month the dashboard shows
FIRST_DAY = dt.date(2023, 7, 1)  # filings are dated over the three years before TODAY
DAYS = (TODAY - FIRST_DAY).days + 1
STATEMENT_ROWS = 1_000_000  # rows per generating INSERT (one transaction each)
SHARES = {"supply": 0.4, "purchase": 0.4, "test_report": 0.2}
GOAL_MS = 50.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fresh_database(reuse: bool = False) -> None:
    import psycopg

    if not reuse:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {BENCH_NAME}")
    os.environ["DATABASE_URL"] = PG_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DB_CONN_MAX_AGE"] = "0"
    os.environ["MONITORING_AUTO"] = "0"  # the cross-checks are not part of this benchmark
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# ------------------------------------------------------------------------------------------------ the data


def seed_reference_data() -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from jiancai.accounts.models import Organization
    from jiancai.demo.generator import generate
    from jiancai.materials.models import MaterialCategory
    from jiancai.monitoring.engine import sync_rules
    from jiancai.registry.models import Project

    call_command("migrate", verbosity=0)
    generate(seed=SEED, scale=1, today=TODAY)
    sync_rules()
    with connection.cursor() as cursor:
        for table in ("filings_supply", "filings_purchase", "filings_testreport", "analytics_filingrollup",
                      "analytics_supplierrollup"):
            cursor.execute(f"DELETE FROM {table}")

    def ids(kind: str) -> list[int]:
        orgs = Organization.objects.filter(kinds__code=kind).order_by("pk")
        return list(orgs.values_list("pk", flat=True).distinct())

    categories = list(MaterialCategory.objects.order_by("pk").values_list("pk", "unit"))
    return {
        "suppliers": ids("supplier") + ids("producer"),
        "contractors": ids("contractor"),
        "labs": ids("laboratory"),
        "projects": list(Project.objects.order_by("pk").values_list("pk", flat=True)),
        "categories": [c for c, _ in categories],
        "units": [u for _, u in categories],
    }


COMMON = "NULL, 'bench', 'import', {status}, 1, {current}, md5(g::text) || md5((g + 1)::text), '', now()"
STATUS = "CASE WHEN g %% 100 = 0 THEN 'draft' WHEN g %% 100 = 1 THEN 'withdrawn' ELSE 'submitted' END"
CURRENT = "(g %% 50 <> 7)"  # 2 % earlier versions (not current)
FILING_COLUMNS = "filer_id, filed_by_id, filed_by_name, channel, status, version, is_current, content_hash, " \
    "withdrawn_reason, created_at"

INSERTS = {
    "supply": f"""
INSERT INTO filings_supply ({FILING_COLUMNS}, supply_no, project_id, contract_no, category_id, spec, batch_no,
    quantity, unit, unit_price, delivery_date, type_report_no, type_report_agency)
SELECT (%(suppliers)s::bigint[])[1 + (g * 7) %% %(n_suppliers)s], {COMMON.format(status=STATUS, current=CURRENT)},
    'BS' || g, (%(projects)s::bigint[])[1 + (g * 7919) %% %(n_projects)s], 'HT-' || (g %% 5000),
    (%(categories)s::bigint[])[1 + (g * 31) %% %(n_categories)s], 'HRB400E', 'B' || (g %% 1000),
    1 + (g %% 977), (%(units)s::text[])[1 + (g * 31) %% %(n_categories)s],
    CASE WHEN g %% 10 = 0 THEN NULL ELSE 100 + (g * 13) %% 900 END,
    DATE '{FIRST_DAY}' + ((g * 17) %% {DAYS})::int, '', ''
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g""",
    "purchase": f"""
INSERT INTO filings_purchase ({FILING_COLUMNS}, purchase_no, project_id, supplier_id, contract_no, category_id,
    spec, batch_no, quantity, unit, unit_price, purchase_method, arrival_date, witness_report_no, witness_lab,
    use_location, responsible_person, contact_phone)
SELECT (%(contractors)s::bigint[])[1 + (g * 5) %% %(n_contractors)s], {COMMON.format(status=STATUS, current=CURRENT)},
    'BP' || g, (%(projects)s::bigint[])[1 + (g * 7919) %% %(n_projects)s],
    (%(suppliers)s::bigint[])[1 + (g * 11) %% %(n_suppliers)s], 'HT-' || (g %% 5000),
    (%(categories)s::bigint[])[1 + (g * 37) %% %(n_categories)s], 'HRB400E', 'B' || (g %% 1000),
    1 + (g %% 613), (%(units)s::text[])[1 + (g * 37) %% %(n_categories)s],
    CASE WHEN g %% 8 = 0 THEN NULL ELSE 100 + (g * 29) %% 900 END, '',
    CASE WHEN g %% 20 = 3 THEN NULL ELSE DATE '{FIRST_DAY}' + ((g * 23) %% {DAYS})::int END, '', '', '', '', ''
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g""",
    "test_report": f"""
INSERT INTO filings_testreport ({FILING_COLUMNS}, report_no, test_kind, project_id, producer_id, category_id, spec,
    batch_no, quantity_represented, unit, sample_date, test_date, age_days, strength_mpa, result, items,
    use_location, witness, sampler)
SELECT (%(labs)s::bigint[])[1 + (g * 3) %% %(n_labs)s], {COMMON.format(status=STATUS, current=CURRENT)},
    'BR' || g, CASE WHEN g %% 25 = 0 THEN '型式检验' ELSE '见证检测' END,
    CASE WHEN g %% 25 = 0 THEN NULL ELSE (%(projects)s::bigint[])[1 + (g * 7919) %% %(n_projects)s] END,
    (%(suppliers)s::bigint[])[1 + (g * 11) %% %(n_suppliers)s],
    (%(categories)s::bigint[])[1 + (g * 41) %% %(n_categories)s], 'HRB400E', 'B' || (g %% 1000),
    1 + (g %% 97), (%(units)s::text[])[1 + (g * 41) %% %(n_categories)s], NULL,
    DATE '{FIRST_DAY}' + ((g * 19) %% {DAYS})::int, NULL, NULL,
    CASE WHEN g %% 20 = 0 THEN '不合格' ELSE '合格' END, '', '', '', ''
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g""",
}

ALERTS = """
INSERT INTO monitoring_alert (rule_id, subject_kind, subject_ref, subject_key, subject_label, project_id, district_id,
    supplier_id, contractor_id, laboratory_id, contract_no, message, evidence, parameters, status, raised_at,
    last_confirmed_at, resolved_at, times_raised, updated_at)
SELECT (%(rules)s::bigint[])[1 + g %% %(n_rules)s], 'purchase', 'bench:' || g, '{}', 'bench ' || g,
    NULL, CASE WHEN g %% 40 = 0 THEN NULL ELSE (%(districts)s::bigint[])[1 + (g * 7) %% %(n_districts)s] END,
    NULL, NULL, NULL, '', 'bench', '{}', '{}',
    (ARRAY['open','acknowledged','explanation_requested','explained','escalated','dismissed','closed','resolved'])
        [1 + (g * 3) %% 8],
    TIMESTAMPTZ '2026-06-30 12:00+08' - ((g * 7) %% 1000) * INTERVAL '1 day' - (g %% 86400) * INTERVAL '1 second',
    now(), NULL, 1, now()
FROM generate_series(1::bigint, %(count)s::bigint) AS g"""


def generate_filings(total: int, ref: dict[str, Any]) -> dict[str, float]:
    from django.db import connection, transaction

    params: dict[str, Any] = {}
    for name in ("suppliers", "contractors", "labs", "projects", "categories"):
        params[name], params[f"n_{name}"] = ref[name], len(ref[name])
    params["units"] = ref["units"]
    seconds: dict[str, float] = {}
    for kind, share in SHARES.items():
        rows = int(total * share)
        started = time.perf_counter()
        for first in range(1, rows + 1, STATEMENT_ROWS):
            last = min(rows, first + STATEMENT_ROWS - 1)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(INSERTS[kind], {**params, "first": first, "last": last})
            log(f"{kind}: {last:,} / {rows:,} rows")
        seconds[kind] = time.perf_counter() - started
    return seconds


def generate_alerts(count: int) -> None:
    from django.db import connection

    from jiancai.accounts.models import District
    from jiancai.monitoring.models import Rule

    rules = list(Rule.objects.order_by("pk").values_list("pk", flat=True))
    districts = list(District.objects.order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            ALERTS,
            {"rules": rules, "n_rules": len(rules), "districts": districts, "n_districts": len(districts),
             "count": count},
        )


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def table_sizes() -> dict[str, int]:
    from django.db import connection

    sizes = {}
    with connection.cursor() as cursor:
        for table in ("filings_supply", "filings_purchase", "filings_testreport", "monitoring_alert",
                      "analytics_filingrollup", "analytics_supplierrollup", "analytics_alertrollup"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            sizes[table] = int(cursor.fetchone()[0])
    return sizes


# -------------------------------------------------------------------------------------------- measuring


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """First (cold-ish) call, then the median and max of `repeat` more calls, in milliseconds."""
    started = time.perf_counter()
    fn()
    first = (time.perf_counter() - started) * 1000
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return {"first_ms": round(first, 2), "median_ms": round(statistics.median(runs), 2), "max_ms": round(max(runs), 2)}


def tile_functions(user: Any, district: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each dashboard tile: (from the rollups — the real selector, base-table scan — the same aggregates)."""

    from jiancai.accounts.access import restrict
    from jiancai.accounts.models import District
    from jiancai.analytics import rollups, selectors
    from jiancai.analytics.models import AlertRollup, FilingRollup
    from jiancai.filings.models import FILING_MODELS
    from jiancai.materials.models import MaterialCategory
    from jiancai.monitoring.models import Alert

    months = selectors.last_months(MONTH)
    start, end = months[0], selectors.month_end(MONTH)
    filings = selectors._scoped(FilingRollup.objects.all(), user, district)
    window = filings.filter(month__gte=start, month__lte=MONTH)
    alerts = selectors._scoped(AlertRollup.objects.all(), user, district)
    categories = {c.pk: c for c in MaterialCategory.objects.all()}
    districts = {d.pk: d for d in District.objects.all()}

    def base(kind: str, first: dt.date, last: dt.date) -> Any:
        model = FILING_MODELS[kind]
        spec = rollups.SPECS[kind]
        field = f"{spec.date}__date" if kind == "ticket" else spec.date
        qs = restrict(rollups.counted(model), user).filter(**{f"{field}__gte": first, f"{field}__lte": last})
        return qs.filter(project__district=district) if district is not None else qs

    def scan(kinds: tuple[str, ...], first: dt.date, last: dt.date) -> list[Any]:
        return [list(rollups.filing_groups(FILING_MODELS[k], base(k, first, last))) for k in kinds]

    def scan_suppliers() -> list[Any]:
        return [list(rollups.supplier_groups(FILING_MODELS[k], base(k, start, end))) for k in ("supply", "purchase")]

    def scan_alerts() -> list[Any]:
        qs = restrict(Alert.objects.all(), user)
        return list(rollups.alert_groups(qs.filter(district=district) if district is not None else qs))

    def scan_tiles() -> list[Any]:
        counts = [base(k, MONTH, end).count() for k in ("supply", "purchase", "test_report", "ticket")]
        standing = restrict(Alert.objects.all(), user).filter(status__in=selectors.STANDING_STATUSES)
        counts.append((standing.filter(district=district) if district else standing).count())
        return counts

    all_kinds = tuple(rollups.SPECS)
    tiles: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        "概况数字": (lambda: selectors._tiles(user, window, alerts, district, MONTH), scan_tiles),
        "填报量按月": (lambda: selectors._volumes(window, district, months), lambda: scan(all_kinds, start, end)),
        "未结预警按规则": (lambda: selectors._alerts_by_rule(alerts, district), scan_alerts),
        "预警状态": (lambda: selectors._alerts_by_status(alerts, district), scan_alerts),
        "价格指数": (
            lambda: selectors._price_index(window, categories, district, months),
            lambda: scan(("purchase",), start, end),
        ),
        "供需对比": (
            lambda: selectors._supply_demand(window, categories, district, months),
            lambda: scan(("supply", "purchase"), start, end),
        ),
        "检测合格率": (
            lambda: selectors._pass_rates(window, categories, district, months),
            lambda: scan(("test_report",), start, end),
        ),
        "活跃供应企业": (lambda: selectors._suppliers(user, district, months), scan_suppliers),
        # The last 30 days from the alert table (to the second, as the list filters), the rest from the rollup.
        "未结预警时长": (lambda: selectors._alert_ages(user, alerts, district), lambda: None),
    }
    if district is None:
        tiles["各区填报量"] = (
            lambda: selectors._by_district(window, districts, MONTH),
            lambda: scan(all_kinds, MONTH, end),
        )
        tiles["各区未结预警"] = (lambda: selectors._alerts_by_district(alerts, districts), scan_alerts)
    tiles["整个看板"] = (lambda: selectors.dashboard(user, district, MONTH, "bench"), lambda: None)
    return tiles


def measure_refresh(rows: int, spread_months: int, tag: str) -> dict[str, Any]:
    """Rollup refresh after a batch of `rows` new supplies dated over `spread_months` months (the import path)."""
    from django.db import connection, transaction

    from jiancai.analytics import rollups
    from jiancai.filings.models import Supply

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM filings_supply")
        first_id = cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO filings_supply (filer_id, filed_by_id, filed_by_name, channel, status, version, is_current,
                content_hash, withdrawn_reason, created_at, supply_no, project_id, contract_no, category_id, spec,
                batch_no, quantity, unit, unit_price, delivery_date, type_report_no, type_report_agency)
            SELECT s.filer_id, NULL, 'bench', 'import', 'submitted', 1, true, s.content_hash, '', now(),
                %s || '-' || g, s.project_id, s.contract_no, s.category_id, s.spec, s.batch_no, s.quantity,
                s.unit, s.unit_price, DATE %s + (g %% %s) * 31, '', ''
            FROM generate_series(1, %s) g, LATERAL (SELECT * FROM filings_supply WHERE id = %s + g) s
            RETURNING id""",
            [tag, MONTH.replace(day=2) - dt.timedelta(days=31 * (spread_months - 1)), spread_months, rows, first_id],
        )
        ids = [r[0] for r in cursor.fetchall()]
    started = time.perf_counter()
    rollups.refresh_filings(Supply, ids)
    seconds = time.perf_counter() - started
    return {"rows": len(ids), "months": spread_months, "seconds": round(seconds, 3)}


def verify(user: Any) -> None:
    """The rollups after the run equal a rebuild (the incremental refresh above kept them right)."""
    from jiancai.analytics import rollups
    from jiancai.analytics.models import FilingRollup

    def rows() -> set[tuple[Any, ...]]:
        return set(FilingRollup.objects.values_list("kind", "month", "district_id", "category_id", "unit", "records"))

    before = rows()
    rollups.rebuild()
    assert rows() == before, "incremental refresh differs from a rebuild"


WIDE_CATEGORIES, WIDE_SUPPLIERS = 60, 500


def wide_rollups(repeat: int) -> None:
    """The tiles' cost follows the rollup rows, not the filings: fill the rollups as a large city would have them
    (every month × district × category × kind; every month × district × supplier) and time the rollup side."""
    from django.db import connection, transaction

    from jiancai.accounts.models import District, Organization, User
    from jiancai.accounts.roles import OrgType, Role
    from jiancai.materials.models import MaterialCategory

    with transaction.atomic():
        have = MaterialCategory.objects.count()
        MaterialCategory.objects.bulk_create(
            MaterialCategory(code=f"W{i:03d}", name=f"宽测品类{i:03d}", unit="t")
            for i in range(have, WIDE_CATEGORIES)
        )
        have = Organization.objects.filter(name__startswith="宽测供应").count()
        Organization.objects.bulk_create(
            Organization(uscc=f"91W{i:015d}", name=f"宽测供应企业{i:04d}") for i in range(have, WIDE_SUPPLIERS)
        )
        categories = list(MaterialCategory.objects.values_list("pk", "unit"))
        suppliers = list(Organization.objects.filter(name__startswith="宽测供应").values_list("pk", flat=True))
        districts = list(District.objects.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE analytics_filingrollup, analytics_supplierrollup")
            cursor.execute(
                """INSERT INTO analytics_filingrollup (kind, month, district_id, category_id, unit, records, quantity,
                    priced_quantity, amount, failed)
                SELECT k, m::date, d, c.id, c.unit, 10 + (d + c.id) %% 50, 1000, 900, 900 * (300 + c.id), 1
                FROM unnest(ARRAY['supply', 'purchase', 'test_report']) k,
                     generate_series(DATE '2023-07-01', DATE '2026-06-01', INTERVAL '1 month') m,
                     unnest(%s::int[]) d,
                     (SELECT unnest(%s::int[]) AS id, unnest(%s::text[]) AS unit) c""",
                [districts, [c for c, _ in categories], [u for _, u in categories]],
            )
            cursor.execute(
                """INSERT INTO analytics_supplierrollup (kind, month, district_id, organization_id, records)
                SELECT k, m::date, d, o, 1 + (o + d) %% 20
                FROM unnest(ARRAY['supply', 'purchase']) k,
                     generate_series(DATE '2023-07-01', DATE '2026-06-01', INTERVAL '1 month') m,
                     unnest(%s::int[]) d, unnest(%s::int[]) o""",
                [[*districts, -1], suppliers],  # -1: the whole city's rows (analytics.models.CITY_DISTRICT)
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE analytics_filingrollup")
        cursor.execute("VACUUM ANALYZE analytics_supplierrollup")
    sizes = table_sizes()
    log(f"wide rollups: {sizes['analytics_filingrollup']:,} filing, {sizes['analytics_supplierrollup']:,} supplier")
    city = User.objects.get(username="city_business")
    district_user = (
        User.objects.filter(role=Role.BUSINESS, organization__org_type=OrgType.DISTRICT_REGULATOR)
        .select_related("organization__district")
        .order_by("username")
        .first()
    )
    assert district_user is not None
    result: dict[str, Any] = {"sizes": sizes, "tiles": {}}
    for label, user, district in (("全市", city, None), ("区", district_user, district_user.organization.district)):
        for name, (from_rollup, _) in tile_functions(user, district).items():
            result["tiles"][f"{label}/{name}"] = timed(from_rollup, repeat)
            t = result["tiles"][f"{label}/{name}"]
            print(f"{label:6} {name:14} median {t['median_ms']:>8.1f} ms  max {t['max_ms']:>8.1f} ms")
    result["machine"] = machine()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"dashboard_tiles_wide_{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"machine: {result['machine']}\nresults: {out}")


def machine() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
    load = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return {
        "nproc": os.cpu_count(),
        "load_avg": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "postgres": version,
        "shared_buffers": buffers,
        "work_mem": work_mem,
        "commit": commit.stdout.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filings", type=int, default=100_000, help="filings to generate (supply/purchase/test)")
    parser.add_argument("--alerts", type=int, default=None, help="alerts to generate (default: filings / 50)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--refresh-only", action="store_true", help="reuse the database of an earlier run: only the refresh timings"
    )
    parser.add_argument(
        "--wide-rollups",
        action="store_true",
        help="reuse the database of an earlier run, replace the rollups by synthetic ones of a large city "
        "(60 categories, 16 districts, 500 suppliers, 36 months) and time the tiles from the rollups only",
    )
    args = parser.parse_args()
    alerts = args.alerts if args.alerts is not None else args.filings // 50

    fresh_database(reuse=args.refresh_only or args.wide_rollups)
    if args.wide_rollups:
        wide_rollups(args.repeat)
        return
    if args.refresh_only:
        tag = f"R{int(time.time())}"
        for rows, months in ((5000, 1), (5000, 12), (1, 1)):
            log(f"refresh: {measure_refresh(rows, months, f'{tag}-{months}-{rows}')}")
        verify(None)
        log("verified: the refreshed rollups equal a rebuild")
        return
    from django.core.management import call_command
    from django.utils import timezone

    from jiancai.accounts.models import User
    from jiancai.accounts.roles import OrgType, Role

    result: dict[str, Any] = {"filings": args.filings, "alerts": alerts, "started": timezone.now().isoformat()}
    log("reference data (demo generator, scale 1)")
    ref = seed_reference_data()
    log(f"generating {args.filings:,} filings with INSERT … SELECT generate_series")
    result["generate_seconds"] = generate_filings(args.filings, ref)
    log(f"generating {alerts:,} alerts")
    generate_alerts(alerts)
    log("VACUUM ANALYZE")
    started = time.perf_counter()
    analyze()
    result["analyze_seconds"] = round(time.perf_counter() - started, 1)
    log("manage.py rebuild_rollups")
    started = time.perf_counter()
    call_command("rebuild_rollups", stdout=open(os.devnull, "w"))  # noqa: SIM115
    result["rebuild_seconds"] = round(time.perf_counter() - started, 1)
    analyze()
    result["sizes"] = table_sizes()
    log(f"sizes: {result['sizes']}, rebuild {result['rebuild_seconds']} s")

    city = User.objects.get(role=Role.BUSINESS, organization__org_type=OrgType.CITY_REGULATOR, username="city_business")
    district_user = (
        User.objects.filter(role=Role.BUSINESS, organization__org_type=OrgType.DISTRICT_REGULATOR)
        .select_related("organization__district")
        .order_by("username")
        .first()
    )
    assert district_user is not None
    result["tiles"] = {}
    rows = []
    for label, user, district in (("全市", city, None), ("区", district_user, district_user.organization.district)):
        log(f"measuring tiles ({label})")
        for name, (from_rollup, from_base) in tile_functions(user, district).items():
            rollup_t = timed(from_rollup, args.repeat)
            base_t = timed(from_base, max(1, args.repeat // 3)) if name not in ("整个看板", "未结预警时长") else None
            result["tiles"][f"{label}/{name}"] = {"rollup": rollup_t, "base": base_t}
            rows.append((label, name, rollup_t, base_t))
            log(f"  {name}: rollup {rollup_t['median_ms']} ms, base {base_t['median_ms'] if base_t else '-'} ms")

    log("refresh after a 5,000-row import batch")
    result["refresh"] = [
        measure_refresh(5000, 1, "NEWA"), measure_refresh(5000, 12, "NEWB"), measure_refresh(1, 1, "NEWC")
    ]
    log("verifying incremental == rebuild")
    verify(city)
    result["verified"] = True
    result["machine"] = machine()
    result["finished"] = timezone.now().isoformat()

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"dashboard_tiles_{args.filings}_{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\n{args.filings:,} filings, {alerts:,} alerts; rebuild_rollups {result['rebuild_seconds']} s")
    header = f"{'region':6} {'tile':14} {'rollup median ms':>17} {'max':>8} {'base median ms':>15} {'ratio':>8}"
    print(f"{header} goal<{GOAL_MS}")
    for label, name, r, b in rows:
        ratio = f"{b['median_ms'] / r['median_ms']:.0f}×" if b else ""
        met = "met" if r["median_ms"] < GOAL_MS else "NOT met"
        base_ms = f"{b['median_ms']:.1f}" if b else "-"
        print(f"{label:6} {name:14} {r['median_ms']:>17.1f} {r['max_ms']:>8.1f} {base_ms:>15} {ratio:>8} {met}")
    for r in result["refresh"]:
        print(f"refresh after {r['rows']} new supplies over {r['months']} month(s): {r['seconds']} s")
    print(f"machine: {result['machine']}")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
