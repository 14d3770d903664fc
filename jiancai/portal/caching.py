"""Caching of the public pages (Django's cache: Redis when REDIS_URL is set, local memory otherwise).

A public page is rendered once per address (path and query string) and served from the cache for
`PORTAL_CACHE_SECONDS`. The pages show aggregates of filings that change all day; a few minutes of delay is
what a disclosure portal accepts. Notices are the exception: publishing or withdrawing one bumps the
generation number that is part of every key, so the portal shows the change at once.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

GENERATION_KEY = "portal:generation"
KEY_PREFIX = "portal:page"


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, None)
        value = cache.get(GENERATION_KEY) or 1
    return int(value)


def invalidate_portal() -> None:
    """Every cached public page is stale from now on."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, None)


def page_key(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"{KEY_PREFIX}:{generation()}:{digest}"


View = Callable[..., HttpResponse]


def cached_page(view: View) -> View:
    """Serve GET requests of `view` from the cache; only complete 200 HTML answers are stored."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "GET":
            return view(request, *args, **kwargs)
        key = page_key(request)
        stored = cache.get(key)
        if stored is not None:
            content, content_type = stored
            response = HttpResponse(content, content_type=content_type)
            response["X-Portal-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not getattr(response, "streaming", False):
            if hasattr(response, "render") and callable(response.render):
                response.render()
            cache.set(key, (response.content, response["Content-Type"]), settings.PORTAL_CACHE_SECONDS)
            response["X-Portal-Cache"] = "miss"
        return response

    return wrapper
