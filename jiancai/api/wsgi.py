"""The WSGI application: Django's handler for the web pages, and a second one with a shorter middleware stack for
the API under `/api/`.

Every API request authenticates with a bearer token (`accounts.api_auth`): it has no session, no CSRF cookie, no
messages and no second factor to check, so the web stack's session, CSRF, authentication, OTP, message and
session-policy middleware only cost it time (about a tenth of an open-API credit query). `ApiHandler` runs
`settings.API_MIDDLEWARE` instead of `settings.MIDDLEWARE`: the security headers, host validation and
clickjacking header stay. Both handlers share the URLconf, so an API view is the same view whichever handler
serves it; Django's test client always uses the web stack (`SessionPolicyMiddleware` lets `/api/` paths through
there).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import Any

import django
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

API_PREFIX = "/api/"


class ApiHandler(WSGIHandler):
    """Django's WSGI handler with `settings.API_MIDDLEWARE` (synchronous middleware only)."""

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise NotImplementedError("ApiHandler serves WSGI only")
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(settings.API_MIDDLEWARE):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class Application:
    """Sends `/api/…` to `ApiHandler`, everything else to Django's `WSGIHandler`."""

    def __init__(self) -> None:
        self.web = WSGIHandler()
        self.api = ApiHandler()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = self.api if environ.get("PATH_INFO", "").startswith(API_PREFIX) else self.web
        return handler(environ, start_response)


def get_wsgi_application() -> Application:
    """Like `django.core.wsgi.get_wsgi_application`, with the API's own handler.

    The objects alive once the application is built (settings, apps, models, URLconfs, views, schema classes: about
    140,000) live as long as the server process; they are frozen out of the garbage collector (`gc.freeze`), so a
    full collection no longer walks them: in a server process one took about 50 ms (every few thousand requests, a
    pause for the requests of that process) and takes under 1 ms (docs/benchmarks.md).
    """
    django.setup(set_prefix=False)
    application = Application()
    gc.freeze()
    return application
