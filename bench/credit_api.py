# ruff: noqa: S101, S108, S311, S603, S607, S608, S310
# (a benchmark: asserts check each step's outcome, /tmp is its scratch space, it runs its own servers and wrk,
# SQL is built from constant names, and it only fetches http://127.0.0.1)
"""Benchmark: the platform credit query (GET /api/v1/platform/credit/<uscc>/) under load, side by side with
(a) a bare WSGI application running the same SQL and (b) a DRF generic view with ModelSerializers, in one run.

    .venv/bin/python bench/credit_api.py --enterprises 20000 --duration 30 --workers 4 --connections 64

The three applications are served at once by gunicorn (sync workers, the same number for each) on 127.0.0.1 and loaded
one at a time by wrk (Debian package `wrk`) with 64 connections, in interleaved rounds (a 5 s warm-up, then the
measured run); the medians over the rounds are reported. The requests cycle through
1,000 USCCs of the generated enterprises (about 10 % restricted, 3 % blacklisted, 5 % unscored) with a valid
`credit:query` token. See bench/README.md. Results: a table on stdout and a JSON file under bench/results/.
It destroys data: the PostgreSQL database `jc_bench_openapi` (BENCH_NAME) is dropped and recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
BENCH_NAME = os.environ.get("BENCH_NAME", "jc_bench_openapi")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DSN = f"postgresql://postgres@127.0.0.1:5432/{BENCH_NAME}"
WORK = Path(f"/tmp/{BENCH_NAME}")
AUDIT_KEY = "bench-audit-key"
SEED = 42
TARGETS = {  # name: gunicorn application
    "platform": "credit_api_django:application",
    "bare_wsgi": "credit_api_apps:bare",
    "drf_generic": "credit_api_django:application",  # the same Django application, the /api/bench/drf/ routes
}
# scenario -> target -> (method, path); {u}: one USCC, {csv}: the batch's USCCs comma-separated; POST sends the batch
ROUTES = {
    "single": {
        "platform": ("GET", "/api/v1/platform/credit/{u}/"),
        "bare_wsgi": ("GET", "/bare/credit/{u}/"),
        "drf_generic": ("GET", "/api/bench/drf/credit/{u}/"),
    },
    "batch": {
        "platform": ("POST", "/api/v1/platform/credit/batch/"),
        "bare_wsgi": ("POST", "/bare/credit/batch/"),
        "drf_generic": ("GET", "/api/bench/drf/credit/?usccs={csv}"),
    },
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": PG_DSN.replace("postgresql://", "postgres://"),
        "BENCH_PG_DSN": PG_DSN,
        "BENCH_SQL_FILE": str(WORK / "standing_sql.json"),
        "AUDIT_HMAC_KEY": AUDIT_KEY,
        "DJANGO_SETTINGS_MODULE": "credit_api_settings",
        "OPENAPI_RATE": "1000000000/s",  # the throttle runs (cache add + incr per request) but never refuses
        "OPENAPI_BATCH_RATE": "1000000000/s",
        "MONITORING_AUTO": "0",
        "PYTHONPATH": f"{BENCH}:{ROOT}",
    }


# ------------------------------------------------------------------------------------------------ set-up


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_NAME}"')


def setup_django() -> None:
    os.environ.update({k: v for k, v in server_env().items() if k != "PYTHONPATH"})
    sys.path[:0] = [str(BENCH), str(ROOT)]
    import django

    django.setup()


def make_uscc(n: int) -> str:
    from jiancai.accounts.validators import uscc_check_char

    first17 = f"9111010{n:010d}"
    return first17 + uscc_check_char(first17)


def seed(enterprises: int) -> dict[str, Any]:
    """Enterprises with scores, restrictions and listings (bulk-inserted: seeding is not a user's change), an
    e-commerce platform with its administrator and a `credit:query` token."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from jiancai.accounts.actions import issue_token
    from jiancai.accounts.models import District, Organization, OrganizationKind, User
    from jiancai.accounts.roles import OrgType, Role
    from jiancai.audit.actions import SYSTEM
    from jiancai.blacklist.models import BlacklistEntry, EntryStatus, Restriction, RestrictionKind
    from jiancai.credit.actions import current_score_model
    from jiancai.credit.models import CreditScore

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    today = timezone.localdate()
    now = timezone.now()
    districts = list(District.objects.all())
    orgs = [
        Organization(
            uscc=make_uscc(i + 1),
            name=f"北京基准建材有限公司{i + 1:05d}",
            org_type=OrgType.ENTERPRISE,
            district=rng.choice(districts),
        )
        for i in range(enterprises)
    ]
    Organization.objects.bulk_create(orgs, batch_size=2000)
    orgs = list(Organization.objects.filter(name__startswith="北京基准建材").order_by("pk"))
    model = current_score_model()
    scores = []
    for org in orgs:
        if rng.random() < 0.05:
            continue
        score = Decimal(rng.randint(4000, 10000)) / 100
        rating = "A" if score >= 90 else "B" if score >= 75 else "C" if score >= 60 else "D"
        scores.append(
            CreditScore(
                organization=org, score=score, rating=rating, score_model=model, lines=[], computed_on=today,
                computed_at=now,
            )  # fmt: skip
        )
    CreditScore.objects.bulk_create(scores, batch_size=2000)
    entries, restrictions = [], []
    kinds = list(RestrictionKind.values)
    for i, org in enumerate(orgs):
        if rng.random() < 0.03:
            entries.append(
                BlacklistEntry(
                    entry_no=f"HMD-2026-{i:06d}", enterprise=org, grounds="抽检不合格且拒不整改", legal_basis="条例",
                    evidence="抽检报告", period_months=12, status=EntryStatus.PUBLISHED, proposer_name="甲",
                    proposer_org_name="市住建委", proposed_at=now, approver_name="乙", decided_at=now,
                    published_on=today - dt.timedelta(days=30), ends_on=today + dt.timedelta(days=335),
                )  # fmt: skip
            )
        if rng.random() < 0.10:
            for j in range(rng.choice((1, 1, 2))):
                restrictions.append(
                    Restriction(
                        restriction_no=f"XZ-2026-{i:06d}{j}", enterprise=org, kind=rng.choice(kinds),
                        district=rng.choice([None, *districts[:3]]), starts_on=today - dt.timedelta(days=10),
                        ends_on=today + dt.timedelta(days=100), basis="管理办法", imposed_by_name="甲",
                        imposed_at=now,
                    )  # fmt: skip
                )
        if rng.random() < 0.05:  # ended: never answered
            restrictions.append(
                Restriction(
                    restriction_no=f"XZ-2025-{i:06d}", enterprise=org, kind=rng.choice(kinds), district=None,
                    starts_on=today - dt.timedelta(days=400), ends_on=today - dt.timedelta(days=30), basis="管理办法",
                    imposed_by_name="甲", imposed_at=now,
                )  # fmt: skip
            )
    BlacklistEntry.objects.bulk_create(entries, batch_size=2000)
    Restriction.objects.bulk_create(restrictions, batch_size=2000)
    platform_org = Organization.objects.create(
        uscc=make_uscc(enterprises + 10), name="京建材网络科技有限公司", org_type=OrgType.ENTERPRISE,
        district=districts[0],
    )  # fmt: skip
    platform_org.kinds.set([OrganizationKind.objects.get(code="ecommerce")])
    user = User.objects.create(
        username="platform_admin", display_name="钱平台", organization=platform_org, role=Role.ORG_ADMIN
    )
    _, secret = issue_token(user=user, name="基准测试", scopes=["credit:query"], valid_days=30, context=SYSTEM)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    restricted = {r.enterprise.uscc for r in restrictions if r.ends_on >= today}
    listed = {e.enterprise.uscc for e in entries}
    sample = rng.sample([o.uscc for o in orgs], min(1000, len(orgs)))
    log(f"seeded {len(orgs)} enterprises, {len(scores)} scores, {len(entries)} listed, {len(restrictions)} restr.")
    return {
        "secret": secret,
        "sample": sample,
        "probe": next(u for u in sample if u in restricted and u in listed) if restricted & listed & set(sample)
        else next(u for u in sample if u in restricted),
        "counts": {"enterprises": len(orgs), "scores": len(scores), "listed": len(entries),
                   "restrictions": len(restrictions)},
    }  # fmt: skip


def standing_sql(probe: str) -> dict[str, Any]:
    """The selector's statement for the bare application; checks that Django runs exactly this one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiancai.blacklist import selectors
    from jiancai.blacklist.models import PUBLISHED_STATUSES

    with CaptureQueriesContext(connection) as ctx:
        selectors.credit_standing([probe])
    assert len(ctx.captured_queries) == 1, ctx.captured_queries
    first_lines = selectors._STANDING_SQL.strip().splitlines()[:2]
    assert ctx.captured_queries[0]["sql"].strip().splitlines()[:2] == first_lines, ctx.captured_queries
    return {"standing": selectors._STANDING_SQL, "published": [str(s) for s in PUBLISHED_STATUSES]}


# -------------------------------------------------------------------------------------------- load runs


def requests_for(scenario: str, target: str, seeded: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, body) of the requests wrk cycles through."""
    method, path = ROUTES[scenario][target]
    if scenario == "single":
        return [(method, path.format(u=u), "") for u in seeded["sample"]]
    return [
        (method, path.format(csv=",".join(b)), json.dumps({"usccs": b}) if method == "POST" else "")
        for b in seeded["batches"]
    ]


def wrk_script(scenario: str, target: str, seeded: dict[str, Any]) -> Path:
    script = WORK / f"wrk_{scenario}_{target}.lua"
    rows = ",\n".join(
        f'{{"{m}", [[{p}]], [[{b}]]}}' for m, p, b in requests_for(scenario, target, seeded)
    )
    script.write_text(
        f"local reqs = {{\n{rows}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  local r = reqs[(i % #reqs) + 1]\n"
        f'  local headers = {{["Authorization"] = "Bearer {seeded["secret"]}",\n'
        '                   ["Content-Type"] = "application/json"}\n'
        '  if r[3] == "" then return wrk.format(r[1], r[2], headers) end\n'
        "  return wrk.format(r[1], r[2], headers, r[3])\n"
        "end\n"
    )
    return script


def fetch(url: str, secret: str, method: str = "GET", body: str = "") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body.encode() or None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def start_server(app: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--log-level", os.environ.get("BENCH_GUNICORN_LOG", "warning"),
        "--backlog", "2048", "--timeout", "300", app,
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=server_env())


def wait_ready(url: str, secret: str) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            status, _ = fetch(url, secret)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server at {url} did not answer")


@contextlib.contextmanager
def servers(names: list[str], ports: dict[str, int], seeded: dict[str, Any], workers: int) -> Iterator[None]:
    started = {name: start_server(TARGETS[name], ports[name], workers) for name in names}
    try:
        for name in names:
            wait_ready(f"http://127.0.0.1:{ports[name]}{ROUTES['single'][name][1].format(u=seeded['probe'])}",
                       seeded["secret"])  # fmt: skip
        yield
    finally:
        for server in started.values():
            server.terminate()
        for server in started.values():
            server.wait(60)


def parse_wrk(text: str) -> dict[str, Any]:
    def ms(value: str) -> float:
        number = float(re.match(r"[\d.]+", value).group())  # type: ignore[union-attr]
        return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[re.sub(r"[\d.]", "", value)]

    out: dict[str, Any] = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        out[f"p{pct}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", text)
    out["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    out["socket_errors"] = m.group(1).strip() if m else ""
    m = re.search(r"timeout (\d+)", out["socket_errors"])
    out["timeouts"] = int(m.group(1)) if m else 0
    return out


def chain_queued() -> None:
    """Chain the token-use rows the previous run queued, then vacuum the queue table (not timed).

    The bare application queues the same rows as the platform but has no chaining thread, and its backlog must not be
    billed to the platform's next run. The queue table has a row inserted and deleted per request; in production
    autovacuum clears the deleted rows every minute, but a machine's PostgreSQL may run without it (`autovacuum` is
    off on the one docs/benchmarks.md was measured on): then every run's deleted rows stay, the chaining read steps
    over them, and the platform's tail latency grows run after run for a reason production does not have."""
    from django.db import connection

    from jiancai.audit.actions import chain_pending
    from jiancai.audit.models import PendingEvent

    chain_pending()
    with connection.cursor() as cur:
        cur.execute(f"VACUUM {connection.ops.quote_name(PendingEvent._meta.db_table)}")
    connection.close()


def autovacuum_setting() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW autovacuum")
        return str(cur.fetchone()[0])


def load(
    scenario: str,
    name: str,
    port: int,
    seeded: dict[str, Any],
    args: argparse.Namespace,
    round_no: int,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    chain_queued()
    script = wrk_script(scenario, name, seeded)
    wrk = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--latency", "-s", str(script), base]
    subprocess.run([*wrk[:1], "-d", f"{args.warmup}s", *wrk[1:]], check=True, capture_output=True)
    run = subprocess.run(
        [*wrk[:1], "-d", f"{args.duration}s", "--timeout", "10s", *wrk[1:]], check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    (WORK / f"wrk_{scenario}_{name}_{round_no}.txt").write_text(run.stdout)
    result = parse_wrk(run.stdout)
    result["loadavg_1min"] = os.getloadavg()[0]
    log(
        f"round {round_no} {scenario} {name}: {result['requests_per_s']:.1f} req/s, p99 {result['p99_ms']} ms, "
        f"non-2xx {result['non_2xx']}, load {result['loadavg_1min']:.2f}"
    )
    return result


async def _paced(
    port: int, requests: list[tuple[str, str, str]], secret: str, rate: float, connections: int, duration: float
) -> dict[str, Any]:
    """Open-loop load: requests arrive at random (Poisson) times at `rate` per second whatever the answers' speed, at
    most `connections` at a time (one connection per request, as the sync workers close it). A request's latency runs
    from its scheduled arrival to the end of its answer, so waiting for a free connection counts (no coordinated
    omission)."""
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(connections)
    rng = random.Random(SEED)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def one(method: str, path: str, body: str, arrival: float) -> None:
        data = body.encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {secret}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        async with slots:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head.encode() + data)
            await writer.drain()
            answer = await reader.read()
            latencies.append(loop.time() - arrival)
            writer.close()
        status = int(answer[9:12]) if len(answer) >= 12 else 0
        statuses[status] = statuses.get(status, 0) + 1

    tasks = []
    start = arrival = loop.time()
    i = 0
    while arrival - start < duration:
        arrival += rng.expovariate(rate)
        await asyncio.sleep(max(0.0, arrival - loop.time()))
        method, path, body = requests[i % len(requests)]
        tasks.append(asyncio.create_task(one(method, path, body, arrival)))
        i += 1
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "offered_per_s": rate,
        "requests_per_s": len(ordered) / elapsed,
        "requests": len(ordered),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": ordered[-1] * 1000,
        "non_2xx": sum(n for status, n in statuses.items() if not 200 <= status < 300),
        "timeouts": 0,
        "loadavg_1min": os.getloadavg()[0],
    }


def paced_load(
    scenario: str, name: str, port: int, seeded: dict[str, Any], args: argparse.Namespace, rate: float
) -> dict[str, Any]:
    chain_queued()
    requests = requests_for(scenario, name, seeded)
    secret = seeded["secret"]
    asyncio.run(_paced(port, requests, secret, rate, args.connections, args.warmup))  # warm-up
    result = asyncio.run(_paced(port, requests, secret, rate, args.connections, args.duration))
    log(
        f"paced {scenario} {name}: {rate:.0f} offered, {result['requests_per_s']:.1f} req/s, p99"
        f" {result['p99_ms']:.1f} ms, non-2xx {result['non_2xx']}, load {result['loadavg_1min']:.2f}"
    )
    return result


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def breakdown(seeded: dict[str, Any], repeat: int) -> dict[str, float]:
    """Milliseconds per call, in this process, one at a time (no server, no wrk): where a platform request goes."""
    import credit_api_apps
    import credit_api_django
    from django.db import connection

    from jiancai.accounts.actions import find_token, record_token_use
    from jiancai.audit.actions import SYSTEM
    from jiancai.blacklist.selectors import credit_standing

    probe, secret = seeded["probe"], seeded["secret"]
    token = find_token(secret)
    assert token is not None
    environ = {
        "PATH_INFO": f"/bare/credit/{probe}/", "HTTP_AUTHORIZATION": f"Bearer {secret}", "REMOTE_ADDR": "127.0.0.1"
    }

    batch = seeded["batches"][0]
    body = json.dumps({"usccs": batch}).encode()

    def call(app: Any, path: str, query: str = "", post: bool = False) -> None:
        """One request through a WSGI application, as gunicorn would make it (the body read and closed)."""
        request = {
            **environ, "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "POST" if post else "GET",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body if post else b""), "CONTENT_LENGTH": str(len(body)) if post else "0",
            "CONTENT_TYPE": "application/json",
        }  # fmt: skip
        answer = app(request, lambda status, headers: None)
        b"".join(answer)
        getattr(answer, "close", lambda: None)()

    platform, bare = credit_api_django.application, credit_api_apps.bare

    from django.utils import timezone

    token.last_used_at = timezone.now()  # the common case: used within the minute, so only the queued audit row
    steps = {
        "platform request": lambda: call(platform, f"/api/v1/platform/credit/{probe}/"),
        "drf_generic request": lambda: call(platform, f"/api/bench/drf/credit/{probe}/"),
        "bare_wsgi request": lambda: call(bare, f"/bare/credit/{probe}/"),
        f"platform batch request ({len(batch)} USCCs)": lambda: call(
            platform, "/api/v1/platform/credit/batch/", post=True
        ),
        f"drf_generic list request ({len(batch)} USCCs)": lambda: call(
            platform, "/api/bench/drf/credit/", query="usccs=" + ",".join(batch)
        ),
        f"bare_wsgi batch request ({len(batch)} USCCs)": lambda: call(bare, "/bare/credit/batch/", post=True),
        "  accounts.actions.find_token": lambda: find_token(secret),
        "  accounts.actions.record_token_use (queued audit row)": lambda: record_token_use(
            token=token, context=SYSTEM, method="GET", path="/x"
        ),
        "  blacklist.selectors.credit_standing": lambda: credit_standing([probe]),
    }
    out = {}
    for label, step in steps.items():
        calls = repeat if "USCCs" not in label else max(5, repeat // 10)  # batches: fewer calls
        for _ in range(min(20, calls)):
            step()
        started, cpu_started = time.perf_counter(), time.thread_time()
        for _ in range(calls):
            step()
        out[label] = (time.perf_counter() - started) / calls * 1000
        # this thread's CPU time only: the Python side of a call, hardly affected by other load on the machine (the
        # database server's work and the waits are not in it)
        out[f"{label} [CPU]"] = (time.thread_time() - cpu_started) / calls * 1000
        log(f"{label}: {out[label]:.2f} ms, CPU {out[f'{label} [CPU]']:.2f} ms")
    connection.close()
    return out


def same_facts(body: dict[str, Any]) -> dict[str, Any]:
    """What every answer must agree on, whatever its shape."""
    credit = body.get("credit") or {}
    return {
        "uscc": body["uscc"],
        "score": str(credit.get("score")),
        "rating": credit.get("rating"),
        "restrictions": sorted(r["restriction_no"] for r in body["restrictions"]),
        "listed": body["blacklist"]["listed"],
        "entry_no": body["blacklist"]["entry_no"],
    }


def check_answers(scenario: str, ports: dict[str, int], seeded: dict[str, Any]) -> list[dict[str, Any]]:
    """Every application answers the first request of the scenario with status 200 and the same facts."""
    facts: dict[str, list[dict[str, Any]]] = {}
    for name, port in ports.items():
        method, path, body = requests_for(scenario, name, seeded)[0]
        status, answer = fetch(f"http://127.0.0.1:{port}{path}", seeded["secret"], method, body)
        assert status == 200, (scenario, name, status, answer)
        items = [answer] if scenario == "single" else answer if isinstance(answer, list) else answer["results"]
        facts[name] = sorted((same_facts(i) for i in items if i.get("found", True)), key=lambda f: f["uscc"])
    assert len({json.dumps(f, sort_keys=True) for f in facts.values()}) == 1, facts
    return list(facts.values())[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=20000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="USCCs per batch request")
    parser.add_argument("--repeat", type=int, default=200, help="calls per in-process step timing (0: skip)")
    parser.add_argument(
        "--paced",
        type=float,
        default=0.5,
        help="after the rounds, offer this fraction of the platform's median throughput to every application, open"
        " loop with at most --connections at a time (see _paced), and report the latency at that rate (0: skip)",
    )
    parser.add_argument("--scenarios", nargs="*", choices=list(ROUTES), default=list(ROUTES))
    parser.add_argument("--only", nargs="*", choices=list(TARGETS), default=list(TARGETS))
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    log(f"fresh database {BENCH_NAME}")
    fresh_database()
    setup_django()
    seeded = seed(args.enterprises)
    rng = random.Random(SEED + 1)
    seeded["batches"] = [rng.sample(seeded["sample"], args.batch) for _ in range(20)]
    (WORK / "standing_sql.json").write_text(json.dumps(standing_sql(seeded["probe"]), ensure_ascii=False, indent=1))
    ports = {name: 18600 + i for i, name in enumerate(args.only)}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {sc: {name: [] for name in args.only} for sc in args.scenarios}
    facts = {}
    if args.rounds:
        with servers(args.only, ports, seeded, args.workers):
            for scenario in args.scenarios:
                facts[scenario] = check_answers(scenario, ports, seeded)
    # Rounds interleave the targets, so that a burst of load from elsewhere on the machine hits all of them. Each run
    # has its server started afresh and stopped after it: a sync worker keeps serving requests wrk has given up on
    # (timeouts), which would otherwise load the machine during the next run.
    for round_no in range(1, args.rounds + 1):
        for scenario in args.scenarios:
            for name in args.only:
                with servers([name], ports, seeded, args.workers):
                    runs[scenario][name].append(load(scenario, name, ports[name], seeded, args, round_no))
    results = {
        scenario: {
            name: {
                "requests_per_s": median([r["requests_per_s"] for r in rs]),
                "p50_ms": median([r["p50_ms"] for r in rs]),
                "p90_ms": median([r["p90_ms"] for r in rs]),
                "p99_ms": median([r["p99_ms"] for r in rs]),
                "non_2xx": sum(r["non_2xx"] for r in rs),
                "timeouts": sum(r["timeouts"] for r in rs),
                "rounds": rs,
                # platform ÷ this application within each round (the runs of a round are minutes apart, so a burst of
                # load from elsewhere on the machine skews a round's ratio less than the ratio of two medians)
                "round_ratios": [
                    p["requests_per_s"] / r["requests_per_s"] if r["requests_per_s"] else None
                    for p, r in zip(runs[scenario].get("platform", []), rs, strict=False)
                ],
            }
            for name, rs in by_name.items()
        }
        for scenario, by_name in runs.items()
    }
    # Latency at a given offered rate: the same rate for every application, a fraction of the platform's throughput.
    paced: dict[str, dict[str, Any]] = {}
    if args.rounds and args.paced:
        for scenario in args.scenarios:
            platform_rps = results[scenario].get("platform", {}).get("requests_per_s") or 0
            if not platform_rps:
                continue
            rate = args.paced * platform_rps
            paced[scenario] = {"offered_per_s": rate}
            for name in args.only:
                capacity = results[scenario][name]["requests_per_s"] or 0
                if capacity < rate:  # it would only queue (for minutes): its latency at this rate is unbounded
                    log(f"paced {scenario} {name}: not run, its throughput {capacity:.1f} is below {rate:.0f}")
                    continue
                with servers([name], ports, seeded, args.workers):
                    paced[scenario][name] = paced_load(scenario, name, ports[name], seeded, args, rate)
    steps_ms = breakdown(seeded, args.repeat) if args.repeat else {}
    load_avg = os.getloadavg()
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "seeded": seeded["counts"],
        "machine": {
            "nproc": os.cpu_count(),
            "loadavg_after": load_avg,
            "postgresql_autovacuum": autovacuum_setting(),
            "python": platform.python_version(),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     cwd=ROOT).stdout.strip(),
        },  # fmt: skip
        "results": results,
        "paced": paced,
        "probe_facts": facts,
        "in_process_ms": steps_ms,
    }
    for scenario, by_name in results.items() if args.rounds else ():
        what = "one USCC per request" if scenario == "single" else f"{args.batch} USCCs per request"
        print(f"\n{scenario} ({what}), medians of {args.rounds} interleaved rounds")
        print(
            f"{'target':<12} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'timeouts':>8}"
            "  platform/target  (median of the rounds' ratios; each round's)"
        )
        platform_rps = by_name.get("platform", {}).get("requests_per_s")
        for name, r in by_name.items():
            ratio = f"{platform_rps / r['requests_per_s']:.2f}" if platform_rps and r["requests_per_s"] else "-"
            ratios = [x for x in r["round_ratios"] if x is not None]
            per_round = (
                f"  ({median(ratios):.2f}; {' / '.join(f'{x:.2f}' for x in ratios)})" if ratios else ""
            )
            print(
                f"{name:<12} {r['requests_per_s']:>9.1f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} {r['p99_ms']:>8.2f}"
                f" {r['non_2xx']:>8} {r['timeouts']:>8}  {ratio}{per_round}"
            )
    for scenario, by_name in paced.items():
        print(
            f"\n{scenario}, paced: {by_name['offered_per_s']:.0f} requests/s offered ({args.paced:.0%} of the"
            f" platform's median throughput), {args.connections} connections"
        )
        print(f"{'target':<12} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'timeouts':>8}")
        for name, r in by_name.items():
            if name == "offered_per_s":
                continue
            print(
                f"{name:<12} {r['requests_per_s']:>9.1f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} {r['p99_ms']:>8.2f}"
                f" {r['non_2xx']:>8} {r['timeouts']:>8}"
            )
    print(f"\nload average after the run: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    for label, ms in steps_ms.items():
        print(f"in process, per call: {label:<52} {ms:8.2f} ms")
    out = RESULTS / f"credit_api_{time.strftime('%Y%m%d_%H%M%S')}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    log(f"results in {out}")


if __name__ == "__main__":
    main()
