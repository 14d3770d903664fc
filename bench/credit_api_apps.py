# ruff: noqa: S608
# (a benchmark: the SQL comes from blacklist.selectors via bench/credit_api.py, only placeholders are added)
"""The WSGI applications bench/credit_api.py serves with gunicorn (same worker count for each).

* `platform`: the real thing, Django with `config.urls` (+ the DRF generic view below) and the platform endpoint
  `GET /api/v1/platform/credit/<uscc>/`.
* `drf_generic`: baseline (b), `GET /api/bench/drf/credit/<uscc>/`, a `RetrieveAPIView` with nested `ModelSerializer`s
  (and `GET /api/bench/drf/credit/?usccs=a,b,…`, a `ListAPIView` with the same serializer, for batches)
  over `Organization`, written the way a DRF tutorial would: the same token authentication, scope check and
  token-use audit row as the platform, the score, restrictions in force and blacklist listing read through the
  serializers (related managers, one query per relation and per restriction's district).
* `bare`: baseline (a), `GET /bare/credit/<uscc>/`, a plain WSGI callable on psycopg, no Django at request time.
  It runs the same SQL as the platform request: the token lookup (same joins, constant-time digest comparison,
  expiry / revocation / scope checks), the token-use audit (the INSERT of the queued audit row, plus the UPDATE of
  last_used_at once a minute, as `accounts.actions.record_token_use` does), the same USCC check, then the
  statement of `blacklist.selectors.credit_standing` (its SQL constant, which bench/credit_api.py hands over in
  BENCH_SQL_FILE) with the same parameters. It answers the same JSON. `POST /bare/credit/batch/` is the batch query.

`platform` and `drf_generic` are the Django application of credit_api_django.py (set-up at worker boot); `bare`
never sets Django up (it borrows the pure USCC check of `accounts.validators`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from typing import Any

# ---------------------------------------------------------------------------------------------- (a) bare WSGI

RATINGS = {"A": "A级（守信）", "B": "B级（基本守信）", "C": "C级（失信）", "D": "D级（严重失信）"}
KINDS = {
    "tender_ban": "禁止在本市参加建设工程材料招投标",
    "trade": "电商平台交易限制",
    "supply_ban": "暂停向本市建设工程供应建材",
}
LOOKUP_SQL = """
SELECT t.id, t.digest, t.scopes, t.revoked_at, t.expires_at, t.organization_id, t.name, t.prefix, t.last_used_at,
       u.id, u.is_active, u.organization_id, u.display_name, u.username, o.name
FROM accounts_apitoken t
JOIN accounts_user u ON u.id = t.user_id
JOIN accounts_organization o ON o.id = t.organization_id
WHERE t.prefix = %s LIMIT 1
"""
AUDIT_QUEUE = """
INSERT INTO audit_pendingevent (occurred_at, actor_id, actor_name, organization_id, organization_name, ip_address,
  action, target_type, target_id, target_repr, changes, reason)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
_state: dict[str, Any] = {}


def _connection() -> Any:
    import psycopg

    conn = _state.get("conn")
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["BENCH_PG_DSN"], autocommit=True)
        _state["conn"] = conn
        with open(os.environ["BENCH_SQL_FILE"], encoding="utf-8") as f:
            _state["sql"] = json.load(f)
    return conn


def _answer(start_response: Any, status: str, body: Any) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _error(start_response: Any, status: str, code: str, message: str) -> list[bytes]:
    return _answer(start_response, status, {"error": {"code": code, "message": message, "fields": []}})


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _authenticate(cur: Any, environ: dict[str, Any], start_response: Any) -> list[bytes] | None:
    """Token lookup and checks, then the token-use audit row; an error answer, or None to go on."""
    header = environ.get("HTTP_AUTHORIZATION", "").split()
    if len(header) != 2 or header[0] != "Bearer":
        return _error(start_response, "401 Unauthorized", "not_authenticated", "身份认证信息未提供。")
    parts = header[1].split("_", 2)
    if len(parts) != 3 or parts[0] != "jc":
        return _error(start_response, "401 Unauthorized", "token_invalid", "接口令牌无效")
    cur.execute(LOOKUP_SQL, [parts[1]])
    row = cur.fetchone()
    digest = hashlib.sha256(header[1].encode()).hexdigest()
    if row is None or not secrets.compare_digest(row[1], digest):
        return _error(start_response, "401 Unauthorized", "token_invalid", "接口令牌无效")
    (token_id, _, scopes, revoked_at, expires_at, token_org, token_name, prefix, last_used_at, user_id, active,
     user_org, display_name, username, org_name) = row  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    if revoked_at is not None or expires_at <= now or not active or user_org != token_org:
        return _error(start_response, "401 Unauthorized", "token_invalid", "接口令牌无效")
    # the token-use audit row, queued as accounts.actions.record_token_use / audit.actions.queue_event write it
    # (last_used_at kept to the minute, the row chained later by the platform's chaining thread or task)
    changes = {"request": f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '')}"}
    queued = [now, user_id, display_name or username, user_org, org_name or "", environ.get("REMOTE_ADDR"),
              "token.use", "accounts.apitoken", str(token_id), f"{token_name}（{prefix}…）",
              json.dumps(changes, ensure_ascii=False), ""]  # fmt: skip
    if last_used_at is not None and now - last_used_at < LAST_USED_RESOLUTION:
        cur.execute(AUDIT_QUEUE, queued)
    else:
        with cur.connection.transaction():
            cur.execute("UPDATE accounts_apitoken SET last_used_at = %s WHERE id = %s", [now, token_id])
            cur.execute(AUDIT_QUEUE, queued)
    if "credit:query" not in scopes:
        return _error(start_response, "403 Forbidden", "permission_denied", "接口令牌的权限范围不足")
    return None


def _standing(cur: Any, codes: list[str]) -> dict[str, dict[str, Any]]:
    """The selector's statement (its SQL constant, handed over in BENCH_SQL_FILE), the same parameters."""
    sql = _state["sql"]
    today = dt.date.today()
    published = sql["published"]
    cur.execute(
        sql["standing"].format(codes=", ".join(["%s"] * len(codes))),
        [*published, today, today, today, today, today, today, *published, "enterprise", *codes],
    )
    found: dict[str, dict[str, Any]] = {}
    for code, name, score, rating, computed_on, entry_no, listed_on, listed_until, *restriction in cur.fetchall():
        item = found.get(code)
        if item is None:
            item = found[code] = {
                "uscc": code,
                "found": True,
                "error": None,
                "name": name,
                "credit": None
                if score is None
                else {
                    "score": f"{score:.2f}",
                    "rating": rating,
                    "rating_label": RATINGS.get(rating, rating),
                    "computed_on": _day(computed_on),
                },  # fmt: skip
                "restricted": False,
                "restrictions": [],
                "blacklist": {
                    "listed": entry_no is not None,
                    "entry_no": entry_no,
                    "listed_on": _day(listed_on),
                    "listed_until": _day(listed_until),
                },
            }
        no, kind, district, starts_on, ends_on = restriction
        if no is not None:
            item["restricted"] = True
            item["restrictions"].append(
                {
                    "restriction_no": no,
                    "kind": kind,
                    "kind_label": KINDS.get(kind, kind),
                    "area": district or "全市",
                    "starts_on": starts_on.isoformat(),
                    "ends_on": ends_on.isoformat(),
                }
            )
    return found


def _missing(code: str, error: tuple[str, str] | None = None) -> dict[str, Any]:
    err_code, message = error or ("not_found", "未找到该统一社会信用代码对应的企业（未在本市企业库登记）")
    return {"uscc": code, "found": False, "error": {"code": err_code, "message": message}, "name": None,
            "credit": None, "restricted": False, "restrictions": [], "blacklist": None}  # fmt: skip


def _uscc_error(code: str) -> tuple[str, str] | None:
    from django.core.exceptions import ValidationError

    from jiancai.accounts.validators import validate_uscc  # a pure function (no Django set-up needed)

    try:
        validate_uscc(code)
    except ValidationError as exc:
        return exc.code or "invalid_uscc", exc.messages[0]
    return None


def bare(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    conn = _connection()
    path = environ.get("PATH_INFO", "")
    with conn.cursor() as cur:
        refused = _authenticate(cur, environ, start_response)
        if refused is not None:
            return refused
        if path == "/bare/credit/batch/" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                raw = json.loads(environ["wsgi.input"].read(length)).get("usccs")
            except (ValueError, AttributeError):
                raw = None
            if not isinstance(raw, list) or not raw or len(raw) > 1000 or not all(isinstance(v, str) for v in raw):
                message = "usccs 应为1–1000个统一社会信用代码"
                return _error(start_response, "400 Bad Request", "validation_error", message)
            codes = list(dict.fromkeys(v.strip().upper() for v in raw))
            errors = {c: _uscc_error(c) for c in codes}
            found = _standing(cur, [c for c in codes if errors[c] is None])
            results = [found.get(c) or _missing(c, errors[c]) for c in codes]
            return _answer(start_response, "200 OK", {"count": len(results), "found": len(found), "results": results})
        if not path.startswith("/bare/credit/"):
            return _error(start_response, "404 Not Found", "not_found", "记录不存在")
        code = path[len("/bare/credit/") :].strip("/").upper()
        error = _uscc_error(code)
        if error is not None:
            return _error(start_response, "400 Bad Request", "validation_error", error[1])
        item = _standing(cur, [code]).get(code)
        if item is None:
            return _error(start_response, "404 Not Found", "not_found", "未找到该统一社会信用代码对应的企业")
        return _answer(start_response, "200 OK", item)
