"""Rate limits per API token: DRF throttles counting in Django's cache (Redis when REDIS_URL is set, else local
memory).

A fixed-window counter per token and window (one `incr`, and an `add` for a window's first request: constant cost
per request; DRF's SimpleRateThrottle keeps a list of every request time in the window, which costs more the higher
the limit). The rates are settings (`OPENAPI_RATE`, `OPENAPI_BATCH_RATE`, "<n>/<s|min|hour|day>", from environment
variables of the same names), read on every request. Beyond the limit the answer is HTTP 429 with a Retry-After
header (seconds to the next window) and a Chinese message (`api.PlatformView.throttled`). With the local-memory cache
each server process counts for itself; Redis gives one limit across processes.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from jiancai.accounts.models import ApiToken

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"1200/min" → (1200, 60). The period is named by its first letter, as in DRF."""
    num, period = rate.split("/")
    return int(num), PERIODS[period.strip()[0]]


class PlatformTokenThrottle(BaseThrottle):
    """Every open-API request of one token."""

    scope = "platform"
    setting = "OPENAPI_RATE"

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        rate: str | None = getattr(settings, self.setting, None)
        if not rate:
            return True
        limit, period = parse_rate(rate)
        token = request.auth
        ident = f"t{token.prefix}" if isinstance(token, ApiToken) else f"ip{self.get_ident(request)}"
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{period}:{window}"
        try:
            count = cache.incr(key)  # one cache operation for every request but a window's first
        except ValueError:  # the window's first request (or its key expired): start it, unless another just did
            count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
        if count > limit:
            self.retry_after = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return self.retry_after


class PlatformBatchThrottle(PlatformTokenThrottle):
    """Batch queries of one token (each asks for up to 1,000 enterprises), on top of the per-token limit."""

    scope = "platform_batch"
    setting = "OPENAPI_BATCH_RATE"
