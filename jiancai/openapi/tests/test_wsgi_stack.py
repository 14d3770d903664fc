"""The platform's WSGI application (`config.wsgi` → `jiancai.api.wsgi`): `/api/` requests go through the API's own
middleware stack (settings.API_MIDDLEWARE), every other path through the web stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from jiancai.accounts.models import User
from jiancai.accounts.tests.factories import issue_token
from jiancai.accounts.tests.personas import World
from jiancai.api.wsgi import Application

STAMP = "jiancai.openapi.tests.test_wsgi_stack.Stamp"
UNUSED = "jiancai.openapi.tests.test_wsgi_stack.Unused"


class Stamp:
    """A middleware that says which stack served the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Stack"] = "api"
        return response


class Unused:
    """A middleware that declines to be used (as Django lets a middleware do at start-up)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        raise MiddlewareNotUsed


def serve(app: Callable[..., Any], request: Any) -> tuple[int, dict[str, list[str]], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), headers

    body = b"".join(app(request.environ, start_response))
    headers: dict[str, list[str]] = {}
    for name, value in answer["headers"]:
        headers.setdefault(name.lower(), []).append(value.strip())
    return answer["status"], headers, body


@pytest.fixture
def secret(world: World, platform_admin: User) -> str:
    return issue_token(platform_admin, ["credit:query"])[1]


def test_api_requests_take_the_api_stack(world: World, secret: str, settings: Any, wsgi_in_test: None) -> None:
    settings.API_MIDDLEWARE = [*settings.API_MIDDLEWARE, STAMP, UNUSED]
    app = Application()
    request = RequestFactory().get(f"/api/v1/platform/credit/{world.a.uscc}/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    status, headers, body = serve(app, request)
    assert status == 200
    assert json.loads(body)["uscc"] == world.a.uscc
    assert headers["x-stack"] == ["api"]
    # What the API stack keeps: the security headers.
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["x-frame-options"] == ["DENY"]
    assert "referrer-policy" in headers
    # What it leaves out: no session or CSRF cookie, no Vary: Cookie.
    assert "set-cookie" not in headers
    assert "Cookie" not in ",".join(headers.get("vary", []))


def test_web_pages_keep_the_web_stack(world: World, settings: Any, wsgi_in_test: None) -> None:
    settings.API_MIDDLEWARE = [*settings.API_MIDDLEWARE, STAMP]
    app = Application()
    status, headers, body = serve(app, RequestFactory().get("/login/"))
    assert status == 200
    assert "x-stack" not in headers
    assert any(c.startswith("csrftoken=") for c in headers["set-cookie"])  # the CSRF layer ran
    # A form post without the CSRF token is refused by the web stack.
    status, _, _ = serve(app, RequestFactory().post("/login/", {"username": "x", "password": "y"}))
    assert status == 403


def test_the_api_stack_validates_the_host(world: World, secret: str, wsgi_in_test: None) -> None:
    request = RequestFactory().get(
        f"/api/v1/platform/credit/{world.a.uscc}/", HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="evil.example"
    )
    status, _, _ = serve(Application(), request)
    assert status == 400


def test_the_same_view_answers_on_both_stacks(world: World, secret: str, wsgi_in_test: None) -> None:
    app = Application()
    path = f"/api/v1/platform/credit/{world.a.uscc}/"
    api = serve(app, RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}"))
    web = serve(app.web, RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}"))
    assert (api[0], json.loads(api[2])) == (web[0], json.loads(web[2]))
    bad = serve(app, RequestFactory().get(path, HTTP_AUTHORIZATION="Bearer jc_nope_nope"))
    assert bad[0] == 401 and json.loads(bad[2])["error"]["code"] == "token_invalid"


def test_the_application_freezes_its_start_up_objects_out_of_the_collector() -> None:
    """What exists once the application is built lives as long as the server: a full collection must not walk it."""
    import gc

    from jiancai.api.wsgi import get_wsgi_application

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    get_wsgi_application()
    try:
        assert gc.get_freeze_count() > 10_000  # Django, the apps, models, URLconfs and views of this process
    finally:
        gc.unfreeze()
