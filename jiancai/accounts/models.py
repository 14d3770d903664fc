"""Organizations (enterprises and regulators), their users and roles, and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .access import ORGANIZATION_ROLES, TOKEN_ROLES, USER_ROLES, AccessScope, ScopedQuerySet
from .roles import ENTERPRISE_ROLES, REGULATOR_ROLES, OrgType, Role
from .validators import validate_uscc

if TYPE_CHECKING:
    from collections.abc import Iterable


class District(models.Model):
    """A district of the platform's region (seeded with Beijing's 16 districts)."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=32, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区"
        verbose_name_plural = "行政区"

    def __str__(self) -> str:
        return self.name


class OrganizationKind(models.Model):
    """An enterprise kind of FORMATS.md (生产企业 … 电商平台)."""

    code = models.CharField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=32, unique=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort"]
        verbose_name = "企业类型"
        verbose_name_plural = "企业类型"

    def __str__(self) -> str:
        return self.name


class Verdict(models.TextChoices):
    PENDING = "pending", "待核实"
    CONFIRMED = "confirmed", "属实"
    FALSE = "false", "不实"


class SelfReported(models.Model):
    """Data an enterprise reports about itself, which a regulator verifies (see registry.actions)."""

    verification_status = models.CharField(
        "核实状态", max_length=16, choices=Verdict.choices, default=Verdict.PENDING, db_index=True
    )
    verification_reason = models.TextField("核实意见", blank=True)
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    verified_by_name = models.CharField("核实人", max_length=150, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = models.PositiveIntegerField("版本", default=1)

    VERIFICATION_FIELDS = ("verification_status", "verification_reason", "verified_at", "verified_by_name")
    # Bookkeeping left out of audit snapshots (verification has its own audit row; see registry.actions).
    audit_exclude: tuple[str, ...] = (
        "created_at",
        "updated_at",
        "verification_reason",
        "verified_at",
        "verified_by_name",
        "version",
    )

    class Meta:
        abstract = True


class OrganizationQuerySet(ScopedQuerySet["Organization"]):
    def enterprises(self) -> OrganizationQuerySet:
        return self.filter(org_type=OrgType.ENTERPRISE)


class Organization(SelfReported):
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    name = models.CharField("企业名称", max_length=200, db_index=True)
    org_type = models.CharField("机构类别", max_length=20, choices=OrgType.choices, default=OrgType.ENTERPRISE)
    kinds = models.ManyToManyField(OrganizationKind, verbose_name="企业类型", blank=True, related_name="organizations")
    # Null only for the city regulator, whose jurisdiction is the whole region.
    district = models.ForeignKey(
        District, verbose_name="所在区", on_delete=models.PROTECT, related_name="organizations", null=True, blank=True
    )
    legal_representative = models.CharField("法定代表人", max_length=64, blank=True)
    address = models.CharField("注册地址", max_length=255, blank=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)

    objects = OrganizationQuerySet.as_manager()
    access_scope = AccessScope(owners=("pk",), district="district", roles=ORGANIZATION_ROLES)

    class Meta:
        ordering = ["uscc"]
        verbose_name = "企业"
        verbose_name_plural = "企业"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:enterprise_detail", args=[self.uscc])

    @property
    def is_regulator(self) -> bool:
        return self.org_type != OrgType.ENTERPRISE

    @property
    def is_city_regulator(self) -> bool:
        return self.org_type == OrgType.CITY_REGULATOR

    def allowed_roles(self) -> tuple[Role, ...]:
        return REGULATOR_ROLES if self.is_regulator else ENTERPRISE_ROLES

    def kind_names(self) -> list[str]:
        return [k.name for k in self.kinds.all()]


class UserQuerySet(ScopedQuerySet["User"]):
    pass


class JiancaiUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    organization = models.ForeignKey(
        Organization, verbose_name="所属机构", on_delete=models.PROTECT, related_name="users", null=True
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.STAFF)
    display_name = models.CharField("姓名", max_length=64)
    phone = models.CharField("手机号", max_length=32, blank=True)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    failed_login_count = models.PositiveSmallIntegerField("连续登录失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    objects = JiancaiUserManager()  # type: ignore[misc]
    access_scope = AccessScope(owners=("organization",), district="organization__district", roles=USER_ROLES)
    audit_exclude = ("password", "last_login", "failed_login_count")

    class Meta:
        ordering = ["username"]
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return f"{self.display_name}（{self.username}）" if self.display_name else self.username

    @property
    def is_regulator(self) -> bool:
        return self.organization is not None and self.organization.is_regulator

    @property
    def requires_second_factor(self) -> bool:
        return self.is_regulator

    def get_absolute_url(self) -> str:
        return reverse("accounts:user_detail", args=[self.pk])

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())

    def password_expired(self, now: dt.datetime | None = None) -> bool:
        if self.must_change_password:
            return True
        if self.password_changed_at is None:
            return False
        max_age = dt.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)
        return (now or timezone.now()) - self.password_changed_at > max_age


class TokenScope(models.TextChoices):
    REGISTRY_READ = "registry:read", "读取三库数据"
    REGISTRY_WRITE = "registry:write", "维护三库数据"
    FILINGS_READ = "filings:read", "读取填报信息"
    FILINGS_WRITE = "filings:write", "填报信息"
    ALERTS_READ = "alerts:read", "读取预警"
    ALERTS_WRITE = "alerts:write", "答复预警（企业说明）"
    CREDIT_READ = "credit:read", "读取信用记录"
    CREDIT_WRITE = "credit:write", "报送外地互认信用记录"
    CREDIT_QUERY = "credit:query", "电商平台信用查询（信用分、限制措施、黑名单及变动）"


class ApiTokenQuerySet(ScopedQuerySet["ApiToken"]):
    def active(self, now: dt.datetime | None = None) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ApiToken(models.Model):
    """A per-organization API token. Only a SHA-256 digest of the secret is stored."""

    organization = models.ForeignKey(
        Organization, verbose_name="所属机构", on_delete=models.CASCADE, related_name="api_tokens"
    )
    user = models.ForeignKey(User, verbose_name="签发人", on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField("令牌名称", max_length=64)
    prefix = models.CharField("令牌前缀", max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField("权限范围", default=list)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("有效期至")
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district", roles=TOKEN_ROLES)
    audit_exclude = ("digest", "last_used_at")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    def scope_labels(self) -> list[str]:
        labels = dict(TokenScope.choices)
        return [labels.get(s, s) for s in self.scopes]

    def has_scopes(self, required: Iterable[str]) -> bool:
        return set(required) <= set(self.scopes)

    @property
    def status_label(self) -> str:
        if self.revoked_at:
            return "已吊销"
        if self.expires_at <= timezone.now():
            return "已过期"
        return "有效"

    def audit_label(self) -> dict[str, Any]:
        return {"name": self.name, "prefix": self.prefix, "scopes": self.scopes}
