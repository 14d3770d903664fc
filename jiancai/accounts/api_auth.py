"""DRF authentication by per-organization API token (`Authorization: Bearer jc_<prefix>_<secret>`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from .actions import find_token, record_token_use
from .context import client_ip, context_for
from .models import ApiToken


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization 头格式应为：Bearer <令牌>", code="token_malformed")
        token = find_token(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("接口令牌无效", code="token_invalid")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("接口令牌已吊销", code="token_revoked")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("接口令牌已过期", code="token_expired")
        user = token.user
        if not user.is_active or user.organization_id != token.organization_id:
            raise exceptions.AuthenticationFailed("签发该令牌的用户已停用", code="token_user_inactive")
        context = context_for(user, client_ip(request._request))
        record_token_use(token=token, context=context, method=request.method or "", path=request.get_full_path())
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenScopes(permissions.BasePermission):
    """Reads need the view's `read_scope`, writes its `write_scope`."""

    message = "接口令牌的权限范围不足"

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        safe = request.method in permissions.SAFE_METHODS
        needed = getattr(view, "read_scope" if safe else "write_scope", None)
        return needed is not None and token.has_scopes([needed])


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "jiancai.accounts.api_auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "机构接口令牌：jc_<前缀>_<密钥>"}
