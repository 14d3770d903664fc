"""Session policy: idle timeout, absolute limit, second factor for regulators, password expiry; and the
audit row of every permission denial on a web page."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction

from .context import audit_context

SESSION_STARTED = "jiancai_started_at"
SESSION_SEEN = "jiancai_seen_at"

# Paths a half-logged-in user may reach (second factor, forced password change, static files, API).
OPEN_PREFIXES = ("/static/", "/api/", "/login/", "/logout/")


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):  # token requests: no session to police (and no lazy user to load)
            return self.get_response(request)
        user = request.user
        if user.is_authenticated:
            now = int(time.time())
            started = request.session.get(SESSION_STARTED, now)
            seen = request.session.get(SESSION_SEEN, now)
            if now - seen > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "会话已超时，请重新登录")
                return redirect(f"{reverse('accounts:login')}?next={request.path}")
            request.session[SESSION_STARTED] = started
            request.session[SESSION_SEEN] = now
            redirect_to = self._pending_step(request)
            if redirect_to and not request.path.startswith(OPEN_PREFIXES) and request.path != redirect_to:
                return redirect(redirect_to)
        return self.get_response(request)

    @staticmethod
    def _pending_step(request: HttpRequest) -> str | None:
        user = request.user
        if user.requires_second_factor and not user.is_verified():  # type: ignore[union-attr]
            return reverse("accounts:otp")
        if user.password_expired():  # type: ignore[union-attr]
            return reverse("accounts:password_change")
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            record_event(
                context=audit_context(request),
                action=AuditAction.PERMISSION_DENIED,
                target_type="page",
                target_repr=f"{request.method} {request.path}"[:255],
                reason=str(exception)[:500],
            )
        return None
