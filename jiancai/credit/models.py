"""Credit (诚信): behaviour records, the versioned score model, scores with their history, and the change feed.

A `BehaviourRecord` (良好/不良行为记录) is one decided fact about one enterprise: bad ones graded by severity, each
with its source (an enforcement case, a registry item verified false, an inspection, a penalty, a commendation, a
record recognised from a partner region), legal basis, points and a publication period. The score of an enterprise
is computed from its records by `credit.scoring.compute_score` under the current `ScoreModel` (regulators change
it as a new version; old versions stay); `CreditScore` holds the current result and `CreditScoreHistory` every
change. `CreditChange` is the append-only feed other apps (blacklist, open API) read by its id as a cursor.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from jiancai.accounts.access import AccessScope, Action, ScopedQuerySet
from jiancai.accounts.models import Organization
from jiancai.accounts.roles import Role

# Who may do what with credit data. Enterprises read their own records and score; the regulators' business staff
# read (a district regulator: its district's enterprises) and decide records; the system administrator reads.
CREDIT_ROLES: dict[str, frozenset[str]] = {
    Action.VIEW: frozenset({Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS, Role.SYSTEM_ADMIN}),
    Action.CHANGE: frozenset({Role.BUSINESS}),
    Action.REVOKE: frozenset({Role.BUSINESS}),
}
# The score model is shared reference data: everyone reads it, the city regulator's business staff change it.
SCORE_MODEL_ROLES: dict[str, frozenset[str]] = {
    Action.VIEW: frozenset({Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS, Role.SYSTEM_ADMIN}),
    Action.CHANGE: frozenset({Role.BUSINESS}),
}


class RecordKind(models.TextChoices):
    GOOD = "good", "良好行为"
    BAD = "bad", "不良行为"


class Severity(models.TextChoices):
    NONE = "", "—"
    A = "A", "严重"
    B = "B", "一般"
    C = "C", "轻微"


class RecordSource(models.TextChoices):
    CASE = "case", "立案查处结论"
    FALSE_REPORT = "false_report", "填报信息经核实不实"
    INSPECTION = "inspection", "监督检查发现"
    COMPLAINT = "complaint", "投诉举报查实"
    PENALTY = "penalty", "行政处罚"
    COMMENDATION = "commendation", "表彰奖励"
    PARTNER = "partner", "外地处理处罚互认"


# Sources a regulator enters by the web form (the others are created by the platform or by an import).
FORM_SOURCES = (
    RecordSource.INSPECTION,
    RecordSource.COMPLAINT,
    RecordSource.PENALTY,
    RecordSource.COMMENDATION,
    RecordSource.PARTNER,
)


class RecordStatus(models.TextChoices):
    PUBLISHED = "published", "已公布"
    REVOKED = "revoked", "已撤销"


class RecordChannel(models.TextChoices):
    FORM = "form", "页面录入"
    AUTO = "auto", "系统生成"
    IMPORT = "import", "文件导入"
    API = "api", "接口"


class BehaviourRecordQuerySet(ScopedQuerySet["BehaviourRecord"]):
    def published(self) -> BehaviourRecordQuerySet:
        return self.filter(status=RecordStatus.PUBLISHED)

    def in_publication(self, on: dt.date) -> BehaviourRecordQuerySet:
        """Published and within the publication period on the day `on` (the records that count)."""
        return self.published().filter(published_from__lte=on, published_until__gte=on)


def attachment_path(instance: BehaviourRecord, filename: str) -> str:
    return f"credit/{instance.organization_id}/{filename}"


class BehaviourRecord(models.Model):
    """良好/不良行为记录: one decided fact about one enterprise."""

    record_no = models.CharField("记录编号", max_length=24, unique=True)
    organization = models.ForeignKey(
        Organization, verbose_name="企业", on_delete=models.PROTECT, related_name="behaviour_records"
    )
    kind = models.CharField("记录类型", max_length=8, choices=RecordKind.choices)
    severity = models.CharField("不良行为等级", max_length=1, choices=Severity.choices, blank=True, default="")
    points = models.DecimalField("分值", max_digits=6, decimal_places=2)
    title = models.CharField("行为名称", max_length=200)
    legal_basis = models.CharField("认定依据", max_length=300)
    facts = models.TextField("事实")
    evidence = models.TextField("证据材料", blank=True)
    attachment = models.FileField("附件", upload_to=attachment_path, max_length=255, blank=True)
    attachment_name = models.CharField("附件文件名", max_length=255, blank=True)
    source = models.CharField("来源", max_length=16, choices=RecordSource.choices)
    source_reference = models.CharField("来源文号", max_length=100, blank=True)
    source_case = models.OneToOneField(
        "monitoring.EnforcementCase",
        verbose_name="来源案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="behaviour_record",
    )
    source_verification = models.OneToOneField(
        "registry.Verification",
        verbose_name="来源核实记录",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="behaviour_record",
    )
    # 处理处罚互认: a record recognised from a partner region keeps where it comes from; its natural key is
    # (origin_region, origin_no), so importing the same file again creates nothing.
    origin_region = models.CharField("来源地区", max_length=40, blank=True)
    origin_authority = models.CharField("原认定机关", max_length=100, blank=True)
    origin_no = models.CharField("原记录编号", max_length=64, blank=True)
    decided_on = models.DateField("认定日期")
    published_from = models.DateField("公示起始日")
    published_until = models.DateField("公示截止日")
    status = models.CharField("状态", max_length=12, choices=RecordStatus.choices, default=RecordStatus.PUBLISHED)
    revoked_reason = models.TextField("撤销理由", blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by_name = models.CharField("撤销人", max_length=150, blank=True)
    channel = models.CharField("录入方式", max_length=8, choices=RecordChannel.choices, default=RecordChannel.FORM)
    decided_by_name = models.CharField("录入机构", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_name = models.CharField("录入人", max_length=150, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = BehaviourRecordQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district", roles=CREDIT_ROLES)

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = "行为记录"
        verbose_name_plural = "行为记录"
        constraints = [
            models.UniqueConstraint(
                fields=["origin_region", "origin_no"],
                condition=Q(source="partner"),
                name="credit_partner_record_once",
            ),
            models.CheckConstraint(
                condition=Q(kind="good", severity="") | Q(kind="bad", severity__in=("A", "B", "C")),
                name="credit_severity_for_bad_only",
            ),
            models.CheckConstraint(condition=Q(points__gte=0), name="credit_points_not_negative"),
            models.CheckConstraint(
                condition=Q(published_until__gte=models.F("published_from")), name="credit_period_in_order"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "published_until"]),
            models.Index(fields=["kind", "decided_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.record_no} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("credit:record_detail", args=[self.record_no])

    @property
    def is_bad(self) -> bool:
        return self.kind == RecordKind.BAD

    def in_publication(self, on: dt.date) -> bool:
        return self.status == RecordStatus.PUBLISHED and self.published_from <= on <= self.published_until

    def publication_label(self, on: dt.date) -> str:
        if self.status == RecordStatus.REVOKED:
            return "已撤销"
        if on < self.published_from:
            return "未到公示期"
        if on > self.published_until:
            return "已过公示期"
        return "公示中"


class Rating(models.TextChoices):
    A = "A", "A级（守信）"
    B = "B", "B级（基本守信）"
    C = "C", "C级（失信）"
    D = "D", "D级（严重失信）"


class ScoreModel(models.Model):
    """One version of the scoring rules (评分模型). A change is a new version; the newest is in force."""

    version = models.PositiveIntegerField("版本", unique=True)
    base_score = models.DecimalField("基础分", max_digits=6, decimal_places=2, default=Decimal("100"))
    good_cap = models.DecimalField("良好行为加分上限", max_digits=6, decimal_places=2, default=Decimal("10"))
    threshold_a = models.DecimalField("A级最低分", max_digits=6, decimal_places=2, default=Decimal("90"))
    threshold_b = models.DecimalField("B级最低分", max_digits=6, decimal_places=2, default=Decimal("80"))
    threshold_c = models.DecimalField("C级最低分", max_digits=6, decimal_places=2, default=Decimal("70"))
    # 差别化监管: months between routine inspections for each rating.
    interval_a = models.PositiveSmallIntegerField("A级检查间隔（月）", default=12)
    interval_b = models.PositiveSmallIntegerField("B级检查间隔（月）", default=6)
    interval_c = models.PositiveSmallIntegerField("C级检查间隔（月）", default=3)
    interval_d = models.PositiveSmallIntegerField("D级检查间隔（月）", default=1)
    # Default points and publication periods (months) a new record gets unless the regulator enters others.
    points_a = models.DecimalField("严重不良行为默认扣分", max_digits=6, decimal_places=2, default=Decimal("20"))
    points_b = models.DecimalField("一般不良行为默认扣分", max_digits=6, decimal_places=2, default=Decimal("10"))
    points_c = models.DecimalField("轻微不良行为默认扣分", max_digits=6, decimal_places=2, default=Decimal("5"))
    points_good = models.DecimalField("良好行为默认加分", max_digits=6, decimal_places=2, default=Decimal("3"))
    months_a = models.PositiveSmallIntegerField("严重不良行为公示期（月）", default=36)
    months_b = models.PositiveSmallIntegerField("一般不良行为公示期（月）", default=12)
    months_c = models.PositiveSmallIntegerField("轻微不良行为公示期（月）", default=6)
    months_good = models.PositiveSmallIntegerField("良好行为公示期（月）", default=36)
    reason = models.TextField("修改原因", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_name = models.CharField("修改人", max_length=150, blank=True)
    created_at = models.DateTimeField("生效时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district=None, roles=SCORE_MODEL_ROLES, shared=True)

    # The regulator-editable settings (everything but bookkeeping), in page order.
    SETTINGS = (
        "base_score",
        "good_cap",
        "threshold_a",
        "threshold_b",
        "threshold_c",
        "interval_a",
        "interval_b",
        "interval_c",
        "interval_d",
        "points_a",
        "points_b",
        "points_c",
        "points_good",
        "months_a",
        "months_b",
        "months_c",
        "months_good",
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = "信用评分模型"
        verbose_name_plural = "信用评分模型"
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold_a__gt=models.F("threshold_b")) & Q(threshold_b__gt=models.F("threshold_c")),
                name="credit_thresholds_descending",
            )
        ]

    def __str__(self) -> str:
        return f"评分模型第{self.version}版"

    def get_absolute_url(self) -> str:
        return reverse("credit:score_model")

    def settings_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SETTINGS}

    def default_points(self, kind: str, severity: str) -> Decimal:
        if kind == RecordKind.GOOD:
            return self.points_good
        return {"A": self.points_a, "B": self.points_b, "C": self.points_c}[severity]

    def default_months(self, kind: str, severity: str) -> int:
        if kind == RecordKind.GOOD:
            return self.months_good
        return {"A": self.months_a, "B": self.months_b, "C": self.months_c}[severity]

    def interval_for(self, rating: str) -> int:
        return {"A": self.interval_a, "B": self.interval_b, "C": self.interval_c, "D": self.interval_d}[rating]


class CreditScore(models.Model):
    """The current score and rating of one enterprise, with the lines that explain it."""

    organization = models.OneToOneField(
        Organization, verbose_name="企业", on_delete=models.CASCADE, related_name="credit_score"
    )
    score = models.DecimalField("信用分", max_digits=6, decimal_places=2)
    rating = models.CharField("信用等级", max_length=1, choices=Rating.choices)
    score_model = models.ForeignKey(ScoreModel, verbose_name="评分模型", on_delete=models.PROTECT, related_name="+")
    lines: Any = models.JSONField("计分明细", default=list)
    computed_on = models.DateField("计分日期")
    computed_at = models.DateTimeField("计算时间")

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district", roles=CREDIT_ROLES)

    class Meta:
        ordering = ["organization__uscc"]
        verbose_name = "信用评分"
        verbose_name_plural = "信用评分"
        indexes = [models.Index(fields=["rating"])]

    def __str__(self) -> str:
        return f"{self.organization.name} {self.score} {self.rating}"

    def get_absolute_url(self) -> str:
        return reverse("credit:enterprise", args=[self.organization.uscc])


class CreditScoreHistory(models.Model):
    """One change of an enterprise's score or rating (never changed afterwards)."""

    organization = models.ForeignKey(
        Organization, verbose_name="企业", on_delete=models.CASCADE, related_name="credit_score_history"
    )
    score = models.DecimalField("信用分", max_digits=6, decimal_places=2)
    rating = models.CharField("信用等级", max_length=1, choices=Rating.choices)
    previous_score = models.DecimalField("原信用分", max_digits=6, decimal_places=2, null=True, blank=True)
    previous_rating = models.CharField("原信用等级", max_length=1, choices=Rating.choices, blank=True)
    score_model_version = models.PositiveIntegerField("评分模型版本")
    reason = models.CharField("变动原因", max_length=200)
    lines: Any = models.JSONField("计分明细", default=list)
    computed_on = models.DateField("计分日期")
    computed_at = models.DateTimeField("计算时间", db_index=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district", roles=CREDIT_ROLES)

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = "信用评分变动"
        verbose_name_plural = "信用评分变动"
        indexes = [models.Index(fields=["organization", "-computed_at"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.previous_score}→{self.score}"


class ChangeKind(models.TextChoices):
    RECORD = "record", "行为记录"
    SCORE = "score", "信用分"
    RATING = "rating", "信用等级"
    BLACKLIST = "blacklist", "黑名单"
    RESTRICTION = "restriction", "限制措施"
    REPAIR = "repair", "信用修复"


class CreditChange(models.Model):
    """One entry of the credit change feed. Append-only; `id` is the stable cursor readers page by."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField("变动类型", max_length=16, choices=ChangeKind.choices)
    organization = models.ForeignKey(
        Organization, verbose_name="企业", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uscc = models.CharField("统一社会信用代码", max_length=18, db_index=True)
    name = models.CharField("企业名称", max_length=200)
    summary: Any = models.JSONField("变动内容", default=dict)
    occurred_at = models.DateTimeField("发生时间", db_index=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district", roles=CREDIT_ROLES)

    class Meta:
        ordering = ["id"]
        verbose_name = "信用变动"
        verbose_name_plural = "信用变动"

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("信用变动记录不可修改")
        super().save(*args, **kwargs)
