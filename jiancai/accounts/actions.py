"""Every state change of accounts, users and tokens. Each writes its audit row in its own transaction."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jiancai.audit.actions import AuditContext, diff, queue_event, record_event, snapshot
from jiancai.audit.models import AuditAction

from . import prepared
from .models import ApiToken, Organization, TokenScope, User
from .roles import Role


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str = ""


GENERIC_LOGIN_ERROR = "用户名或密码错误"


def attempt_login(*, username: str, password: str, context: AuditContext) -> LoginResult:
    """Check a password with lockout: after LOGIN_MAX_FAILURES failures the account is locked for a while."""
    now = timezone.now()
    with transaction.atomic():
        user = (
            User.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(username=username)
            .first()
        )
        if user is None:
            record_event(
                context=context,
                action=AuditAction.LOGIN_FAILURE,
                target_type="accounts.user",
                target_repr=username[:150],
                reason="用户名不存在",
            )
            return LoginResult(None, GENERIC_LOGIN_ERROR)
        ctx = _for_user(context, user)
        if user.is_locked(now):
            record_event(context=ctx, action=AuditAction.LOGIN_FAILURE, target=user, reason="账户处于锁定期")
            until = timezone.localtime(user.locked_until).strftime("%H:%M")
            return LoginResult(None, f"连续登录失败次数过多，账户已锁定，请于 {until} 后再试或联系安全管理员解锁")
        if not user.check_password(password):
            user.failed_login_count += 1
            fields = ["failed_login_count"]
            if user.failed_login_count >= settings.LOGIN_MAX_FAILURES:
                user.locked_until = now + dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
                user.failed_login_count = 0
                fields.append("locked_until")
                user.save(update_fields=fields)
                record_event(context=ctx, action=AuditAction.LOGIN_FAILURE, target=user, reason="密码错误")
                record_event(
                    context=ctx,
                    action=AuditAction.LOGIN_LOCKOUT,
                    target=user,
                    reason=f"连续{settings.LOGIN_MAX_FAILURES}次登录失败",
                    changes={"locked_until": [None, user.locked_until]},
                )
                minutes = settings.LOGIN_LOCKOUT_SECONDS // 60
                return LoginResult(None, f"连续登录失败次数过多，账户已锁定{minutes}分钟")
            user.save(update_fields=fields)
            record_event(context=ctx, action=AuditAction.LOGIN_FAILURE, target=user, reason="密码错误")
            # Same text as for an unknown username, so the answer does not reveal which usernames exist.
            return LoginResult(None, GENERIC_LOGIN_ERROR)
        if not user.is_active or user.organization_id is None:
            record_event(context=ctx, action=AuditAction.LOGIN_FAILURE, target=user, reason="账户已停用")
            return LoginResult(None, "账户已停用，请联系单位管理员")
        user.failed_login_count = 0
        user.locked_until = None
        user.last_login = now
        user.save(update_fields=["failed_login_count", "locked_until", "last_login"])
        record_event(
            context=ctx,
            action=AuditAction.LOGIN_SUCCESS,
            target=user,
            reason="密码验证通过，待动态口令" if user.requires_second_factor else "",
        )
    return LoginResult(user)


def _for_user(context: AuditContext, user: User) -> AuditContext:
    org = user.organization
    return AuditContext(
        actor_id=user.pk,
        actor_name=user.display_name or user.username,
        organization_id=org.pk if org else None,
        organization_name=org.name if org else "",
        ip_address=context.ip_address,
    )


def record_security_event(*, user: User, action: str, context: AuditContext, reason: str = "") -> None:
    record_event(context=_for_user(context, user), action=action, target=user, reason=reason)


def change_password(*, user: User, new_password: str, context: AuditContext) -> None:
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.password_changed_at = timezone.now()
        user.must_change_password = False
        user.save(update_fields=["password", "password_changed_at", "must_change_password"])
        record_event(context=context, action=AuditAction.PASSWORD_CHANGE, target=user)


def _refuse_self_administration(context: AuditContext, target: User) -> None:
    """Administrators cannot reset or edit their own account (no self-granted roles or re-enabling)."""
    if context.actor_id is not None and context.actor_id == target.pk:
        raise ValidationError("不能通过用户管理修改自己的账户，请使用“修改密码”或联系其他管理员")


# The security and audit duties watch the system administrator, who manages accounts; so no account holding one
# of them is opened, changed or reset through the web. The deployer does it on the server (provision_admin).
OVERSIGHT_ROLES = (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
OVERSIGHT_REFUSAL = (
    "安全管理员、审计管理员账户不能在平台上开设、修改或重置，须由部署人员在服务器上执行 manage.py provision_admin"
)


def _refuse_oversight_accounts(context: AuditContext, *roles: str | None) -> None:
    if context.actor_id is not None and any(r in OVERSIGHT_ROLES for r in roles):
        raise ValidationError({"role": ValidationError(OVERSIGHT_REFUSAL, code="oversight_account")})


def reset_password(*, target: User, new_password: str, context: AuditContext, reason: str = "") -> None:
    """An administrator sets a temporary password; the user must change it at the next login."""
    _refuse_self_administration(context, target)
    _refuse_oversight_accounts(context, target.role)
    validate_password(new_password, target)
    with transaction.atomic():
        target.set_password(new_password)
        target.password_changed_at = timezone.now()
        target.must_change_password = True
        target.failed_login_count = 0
        target.locked_until = None
        target.save(
            update_fields=[
                "password",
                "password_changed_at",
                "must_change_password",
                "failed_login_count",
                "locked_until",
            ]
        )
        record_event(context=context, action=AuditAction.PASSWORD_RESET, target=target, reason=reason)


def unlock_user(*, target: User, context: AuditContext, reason: str = "") -> None:
    with transaction.atomic():
        before = target.locked_until
        target.locked_until = None
        target.failed_login_count = 0
        target.save(update_fields=["locked_until", "failed_login_count"])
        record_event(
            context=context,
            action=AuditAction.UNLOCK,
            target=target,
            reason=reason,
            changes={"locked_until": [before, None]},
        )


USER_EDITABLE_FIELDS = ("display_name", "phone", "email", "role", "is_active")


def _check_role(organization: Organization, role: str) -> None:
    if role not in organization.allowed_roles():
        raise ValidationError({"role": f"角色“{role}”不适用于{organization.get_org_type_display()}"})


def create_user(
    *,
    organization: Organization,
    username: str,
    display_name: str,
    role: str,
    password: str,
    context: AuditContext,
    phone: str = "",
    email: str = "",
) -> User:
    _check_role(organization, role)
    _refuse_oversight_accounts(context, role)
    user = User(
        organization=organization,
        username=username,
        display_name=display_name,
        role=role,
        phone=phone,
        email=email,
        must_change_password=True,
        password_changed_at=timezone.now(),
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        record_event(context=context, action=AuditAction.CREATE, target=user, changes=snapshot(user))
    return user


def update_user(*, target: User, data: dict[str, Any], context: AuditContext, reason: str = "") -> User:
    _refuse_self_administration(context, target)
    _refuse_oversight_accounts(context, target.role, data.get("role"))
    if "role" in data and target.organization is not None:
        _check_role(target.organization, data["role"])
    with transaction.atomic():
        before = snapshot(target)
        fields = [f for f in USER_EDITABLE_FIELDS if f in data]
        for f in fields:
            setattr(target, f, data[f])
        target.full_clean(exclude=["password"])
        target.save(update_fields=fields)
        changes = diff(before, snapshot(target))
        if changes:
            record_event(context=context, action=AuditAction.UPDATE, target=target, changes=changes, reason=reason)
    return target


TOKEN_PREFIX = "jc"
PLATFORM_KIND = "ecommerce"  # OrganizationKind.code of e-commerce platforms (电商平台), who may hold credit:query


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    *, user: User, name: str, scopes: list[str], valid_days: int, context: AuditContext
) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its digest is stored."""
    unknown = set(scopes) - set(TokenScope.values)
    if unknown or not scopes:
        raise ValidationError({"scopes": "请选择有效的权限范围"})
    if not 1 <= valid_days <= 366:
        raise ValidationError({"valid_days": "有效天数应在1到366之间"})
    if user.organization is None:
        raise ValidationError("该用户不属于任何机构，不能签发接口令牌")
    if TokenScope.CREDIT_QUERY in scopes and not (
        user.organization.is_regulator or user.organization.kinds.filter(code=PLATFORM_KIND).exists()
    ):
        raise ValidationError({"scopes": "“电商平台信用查询”权限仅限企业类型为电商平台的机构（或监管部门）申请"})
    prefix = secrets.token_hex(5)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            organization=user.organization,
            user=user,
            name=name,
            prefix=prefix,
            digest=token_digest(secret),
            scopes=sorted(scopes),
            expires_at=timezone.now() + dt.timedelta(days=valid_days),
        )
        record_event(context=context, action=AuditAction.TOKEN_CREATE, target=token, changes=token.audit_label())
    return token, secret


def revoke_token(*, token: ApiToken, context: AuditContext, reason: str = "") -> None:
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_event(context=context, action=AuditAction.TOKEN_REVOKE, target=token, reason=reason)


def find_token(secret: str) -> ApiToken | None:
    """The token whose secret this is, with its user and its organization loaded; the user's organization too when
    it is the token's (it always is for a token that authenticates; otherwise it loads when first used)."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    rows = prepared.run(_token_sql(), [parts[1]])
    if not rows:
        return None
    # The row is the token's columns, then the user's, then the token's organization's: cut it at those widths.
    row = rows[0]
    token_end = prepared.width(ApiToken)
    user_end = token_end + prepared.width(User)
    token = prepared.load(ApiToken, row[:token_end])
    if not secrets.compare_digest(token.digest, token_digest(secret)):
        return None
    token.user = prepared.load(User, row[token_end:user_end])
    token.organization = prepared.load(Organization, row[user_end:])
    if token.user.organization_id == token.organization_id:
        token.user.organization = token.organization
    return token


@functools.cache
def _token_sql() -> str:
    """One prepared statement per API request instead of the ORM's select_related (compiled anew each time); the
    same rows as `ApiToken.objects.select_related("user", "organization").filter(prefix=…)`."""
    # Only names from the models' metadata are formatted in; the prefix is a parameter.
    return (
        f"SELECT {prepared.columns(ApiToken, 't')}, {prepared.columns(User, 'u')}, "  # noqa: S608
        f"{prepared.columns(Organization, 'o')} "
        f"FROM {ApiToken._meta.db_table} t "
        f"JOIN {User._meta.db_table} u ON u.id = t.user_id "
        f"JOIN {Organization._meta.db_table} o ON o.id = t.organization_id "
        "WHERE t.prefix = %s"
    )


# `ApiToken.last_used_at` is kept to the minute: rewriting it on every request would make all requests with one token
# queue on its row lock. Each use is in the audit trail, to the microsecond.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def record_token_use(*, token: ApiToken, context: AuditContext, method: str, path: str) -> None:
    """Audit one API request made with `token` (queued for the chain: `audit.actions.queue_event`)."""
    now = timezone.now()
    changes = {"request": f"{method} {path}"}
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        queue_event(context=context, action=AuditAction.TOKEN_USE, target=token, changes=changes)
        return
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        queue_event(context=context, action=AuditAction.TOKEN_USE, target=token, changes=changes)
