"""The audit trail: append-only, hash-chained rows that survive deletion of what they describe."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models

from jiancai.accounts.access import AUDIT_ROLES, AccessScope, ScopedQuerySet


class AuditAction(models.TextChoices):
    """Every kind of audited event, registered in one place."""

    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    VERIFY = "verify", "核实"
    EXPORT = "export", "导出"
    LOGIN_SUCCESS = "login.success", "登录成功"
    LOGIN_FAILURE = "login.failure", "登录失败"
    LOGIN_LOCKOUT = "login.lockout", "账户锁定"
    LOGOUT = "logout", "退出登录"
    OTP_FAILURE = "otp.failure", "动态口令错误"
    OTP_ENROLL = "otp.enroll", "绑定动态口令"
    PASSWORD_CHANGE = "password.change", "修改密码"
    PASSWORD_RESET = "password.reset", "重置密码"
    UNLOCK = "account.unlock", "解除锁定"
    PERMISSION_DENIED = "permission.denied", "越权访问被拒绝"
    TOKEN_CREATE = "token.create", "创建接口令牌"
    TOKEN_REVOKE = "token.revoke", "吊销接口令牌"
    TOKEN_USE = "token.use", "使用接口令牌"
    AUDIT_VERIFY = "audit.verify", "校验审计链"
    ALERT_ACKNOWLEDGE = "alert.acknowledge", "受理预警"
    ALERT_REQUEST_EXPLANATION = "alert.request_explanation", "要求企业说明"
    ALERT_EXPLAIN = "alert.explain", "企业说明预警"
    ALERT_DISMISS = "alert.dismiss", "排除预警"
    ALERT_ESCALATE = "alert.escalate", "预警立案"
    CASE_CLOSE = "case.close", "结案"
    RULE_PARAMETER = "rule.parameter", "修改规则参数"
    RULE_ENABLE = "rule.enable", "启用/停用规则"
    CREDIT_RECORD = "credit.record", "认定信用行为记录"
    CREDIT_REVOKE = "credit.revoke", "撤销信用行为记录"
    CREDIT_IMPORT = "credit.import", "导入互认信用记录"
    CREDIT_MODEL = "credit.model", "修改信用评分模型"
    BLACKLIST_PROPOSE = "blacklist.propose", "提出列入失信黑名单"
    BLACKLIST_APPROVE = "blacklist.approve", "批准列入失信黑名单"
    BLACKLIST_REJECT = "blacklist.reject", "不予列入失信黑名单"
    BLACKLIST_EXIT = "blacklist.exit", "移出失信黑名单"
    RESTRICTION_IMPOSE = "restriction.impose", "采取限制措施"
    RESTRICTION_LIFT = "restriction.lift", "解除限制措施"
    REPAIR_APPLY = "repair.apply", "申请信用修复"
    REPAIR_DECIDE = "repair.decide", "信用修复审核决定"
    NOTICE_PUBLISH = "notice.publish", "发布通报"
    NOTICE_WITHDRAW = "notice.withdraw", "撤回通报"


SECURITY_ACTIONS = (
    AuditAction.LOGIN_SUCCESS,
    AuditAction.LOGIN_FAILURE,
    AuditAction.LOGIN_LOCKOUT,
    AuditAction.LOGOUT,
    AuditAction.OTP_FAILURE,
    AuditAction.OTP_ENROLL,
    AuditAction.PASSWORD_CHANGE,
    AuditAction.PASSWORD_RESET,
    AuditAction.UNLOCK,
    AuditAction.PERMISSION_DENIED,
    AuditAction.TOKEN_CREATE,
    AuditAction.TOKEN_REVOKE,
)


class AuditEventQuerySet(ScopedQuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("审计记录不可修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计记录不可删除")


class AuditEvent(models.Model):
    seq = models.BigIntegerField("序号", unique=True)
    occurred_at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization", verbose_name="机构", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization_name = models.CharField("机构", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    # No ``choices`` on the column: apps register new AuditAction members without a migration of this table.
    action = models.CharField("操作", max_length=32, db_index=True)
    # Searched through the (target_type, target_id) index below, whose leading column it is.
    target_type = models.CharField("对象类型", max_length=64, blank=True)
    target_id = models.CharField("对象标识", max_length=64, blank=True)
    target_repr = models.CharField("对象", max_length=255, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    reason = models.TextField("原因", blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district", roles=AUDIT_ROLES)

    class Meta:
        ordering = ["-seq"]
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_action_display()} {self.target_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("审计记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计记录不可删除")

    def get_action_display(self) -> str:
        """The Chinese label of ``action`` (the raw code for a kind no longer registered)."""
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
            return self.action

    def canonical(self) -> bytes:
        return canonical_bytes({name: getattr(self, name) for name in HASHED_FIELDS})

    def compute_hash(self) -> str:
        return chain_hash({name: getattr(self, name) for name in HASHED_FIELDS})


# What a row's hash covers, in this order (its own `hash` and `id` aside).
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "organization_id",
    "organization_name",
    "ip_address",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "changes",
    "reason",
    "prev_hash",
)


def canonical_bytes(values: Mapping[str, Any]) -> bytes:
    """The canonical JSON of a row from the values of `HASHED_FIELDS` (as the ORM loads them): what its hash covers.

    A function of plain values so that `actions.chain_pending` hashes thousands of rows without building models."""
    payload = [values[name] for name in HASHED_FIELDS]
    payload[1] = payload[1].isoformat(timespec="microseconds")  # occurred_at
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(values: Mapping[str, Any]) -> str:
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), canonical_bytes(values), hashlib.sha256).hexdigest()


class PendingEvent(models.Model):
    """An audit row written in its action's transaction but not yet appended to the chain (`actions.queue_event`).

    High-volume events (every API request's `token.use`) are queued here instead of taking the chain head's lock
    in the request: the row is as durable as the request's own writes, and `actions.chain_pending` moves queued rows
    into the chain in batches, deleting each in the transaction that appends it, so none is lost or chained twice.
    """

    occurred_at = models.DateTimeField("时间")
    actor_id = models.BigIntegerField("操作人", null=True, blank=True)
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    organization_id = models.BigIntegerField("机构", null=True, blank=True)
    organization_name = models.CharField("机构", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    action = models.CharField("操作", max_length=32)
    target_type = models.CharField("对象类型", max_length=64, blank=True)
    target_id = models.CharField("对象标识", max_length=64, blank=True)
    target_repr = models.CharField("对象", max_length=255, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    reason = models.TextField("原因", blank=True)

    class Meta:
        verbose_name = "待入链审计记录"
        verbose_name_plural = "待入链审计记录"

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}（待入链）"


class AuditChainHead(models.Model):
    """One row: the last sequence number and hash. Locked to append, so the chain never forks."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "审计链头"

    def __str__(self) -> str:
        return f"审计链头 #{self.last_seq}"


class ChainVerification(models.Model):
    """The result of one run of the chain verification, shown on the audit administrator's page."""

    ran_at = models.DateTimeField("校验时间", auto_now_add=True)
    checked = models.BigIntegerField("校验条数")
    ok = models.BooleanField("结果完好")
    problems = models.JSONField("发现的问题", default=list)
    ran_by_name = models.CharField("执行人", max_length=150, blank=True)

    class Meta:
        ordering = ["-ran_at"]
        verbose_name = "审计链校验"

    def __str__(self) -> str:
        return f"{self.ran_at:%Y-%m-%d %H:%M} {'完好' if self.ok else '发现篡改'}"
