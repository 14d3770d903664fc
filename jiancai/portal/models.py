"""The public disclosure portal (信息公示) owns one model: the notice (通报) regulators write and publish.

Everything else the portal shows is read from the lower apps (materials, filings, registry, credit, blacklist).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.db import models
from django.db.models import Q
from django.urls import reverse

from jiancai.accounts.access import AccessScope, Action, ScopedQuerySet
from jiancai.accounts.models import District, Organization
from jiancai.accounts.roles import Role

# Regulators' business staff write and publish notices; a district regulator only for its own district.
NOTICE_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: frozenset({str(Role.BUSINESS)}),
    Action.CHANGE: frozenset({str(Role.BUSINESS)}),
}


class NoticeCategory(models.TextChoices):
    QUALITY = "质量通报", "质量通报"
    CREDIT = "诚信通报", "诚信通报"
    ENFORCEMENT = "执法检查", "执法检查"
    PRICE = "价格信息", "价格信息"
    POLICY = "政策公告", "政策公告"
    OTHER = "其他", "其他"


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class NoticeQuerySet(ScopedQuerySet["Notice"]):
    def published(self) -> NoticeQuerySet:
        return self.filter(status=NoticeStatus.PUBLISHED)


class Notice(models.Model):
    """A notice (通报) of a regulator: written as a draft, published to the portal, possibly withdrawn."""

    public_id = models.UUIDField("公开标识", default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文")
    category = models.CharField("类别", max_length=8, choices=NoticeCategory.choices)
    district = models.ForeignKey(
        District,
        verbose_name="所属区",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="为空表示全市",
    )
    organization = models.ForeignKey(
        Organization, verbose_name="发布机构", on_delete=models.PROTECT, related_name="notices"
    )
    status = models.CharField("状态", max_length=12, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_reason = models.TextField("撤回原因", blank=True)
    created_by_name = models.CharField("撰写人", max_length=150, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = NoticeQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="district", roles=NOTICE_ROLES)
    audit_exclude: tuple[str, ...] = ("created_at", "updated_at", "version", "public_id")

    class Meta:
        ordering = ["-published_at", "-created_at", "-id"]
        verbose_name = "通报"
        verbose_name_plural = "通报"
        indexes = [models.Index(fields=["status", "-published_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False), name="notice_published_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("disclosure:notice_detail", args=[self.public_id])

    def get_public_url(self) -> str:
        return reverse("portal:notice_detail", args=[self.public_id])

    @property
    def district_label(self) -> str:
        return self.district.name if self.district is not None else "全市"
