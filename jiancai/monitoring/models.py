"""Backend monitoring (后台监控): the cross-check rules, their dated parameters, and the alerts they raise.

A rule's logic is code (`monitoring.rules`); its code, title, basis and parameter values are rows, so city
regulators change parameters in the web interface. A parameter change is a new `RuleParameter` row (dated, never
overwritten), and every alert keeps the parameter values it was raised or last confirmed under.

An `Alert` is one rule's finding about one subject (a supply, a purchase, a contract, a project, …), keyed by the
subject's natural key (`subject_ref`): it is raised once, its evidence is refreshed while the finding stands, it
resolves itself when the data is corrected and reopens if the finding comes back. Every step, automatic or by a
person, is an `AlertEvent`; nothing in an alert's history is overwritten.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from jiancai.accounts.access import ALERT_ROLES, RULE_ROLES, WARNING_ROLES, AccessScope, ScopedQuerySet
from jiancai.accounts.models import District, Organization
from jiancai.registry.models import Project


class SubjectKind(models.TextChoices):
    SUPPLY = "supply", "供应记录"
    PURCHASE = "purchase", "采购记录"
    CONTRACT = "contract", "合同"
    TEST_REPORT = "test_report", "检测报告"
    TICKET = "ticket", "发货单"
    PROJECT = "project", "工程项目"
    PROJECT_CATEGORY = "project_category", "项目×材料品类"
    PROJECT_GRADE = "project_grade", "项目×强度等级"


class Rule(models.Model):
    """One cross-check rule (比对规则). Rows are kept in step with `monitoring.rules.RULES` by `sync_rules`."""

    code = models.CharField("规则编号", max_length=8, unique=True)
    title = models.CharField("规则名称", max_length=100)
    basis = models.TextField("政策依据", blank=True)
    subject_kind = models.CharField("比对对象", max_length=20, choices=SubjectKind.choices)
    applies_to = models.CharField("适用记录", max_length=100, blank=True)
    description = models.TextField("规则说明", blank=True)
    enabled = models.BooleanField("启用", default=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district=None, roles=RULE_ROLES, shared=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "比对规则"
        verbose_name_plural = "比对规则"

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("monitoring:rule_detail", args=[self.code])


class RuleParameter(models.Model):
    """One dated value of one rule parameter. The newest row at or before a moment is the value in force."""

    rule = models.ForeignKey(Rule, verbose_name="规则", on_delete=models.PROTECT, related_name="parameter_values")
    name = models.CharField("参数", max_length=40)
    value = models.DecimalField("取值", max_digits=14, decimal_places=4)
    effective_from = models.DateTimeField("生效时间", db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_by_name = models.CharField("修改人", max_length=150, blank=True)
    reason = models.TextField("修改原因", blank=True)

    class Meta:
        ordering = ["rule", "name", "-effective_from", "-id"]
        verbose_name = "规则参数"
        verbose_name_plural = "规则参数"
        indexes = [models.Index(fields=["rule", "name", "-effective_from"])]

    def __str__(self) -> str:
        return f"{self.rule.code}.{self.name}={self.value}"


class AlertStatus(models.TextChoices):
    OPEN = "open", "待处理"
    ACKNOWLEDGED = "acknowledged", "已受理"
    EXPLANATION_REQUESTED = "explanation_requested", "待企业说明"
    EXPLAINED = "explained", "企业已说明"
    ESCALATED = "escalated", "已立案"
    DISMISSED = "dismissed", "已排除"
    CLOSED = "closed", "已结案"
    RESOLVED = "resolved", "已自动消除"


# Statuses in which the finding is still being worked (an auto-resolution or a reopen applies to these).
ACTIVE_STATUSES = (
    AlertStatus.OPEN,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.EXPLANATION_REQUESTED,
    AlertStatus.EXPLAINED,
)


class AlertQuerySet(ScopedQuerySet["Alert"]):
    def active(self) -> AlertQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def open_findings(self) -> AlertQuerySet:
        """Alerts whose finding stands: everything but resolved, dismissed and closed."""
        return self.exclude(status__in=(AlertStatus.RESOLVED, AlertStatus.DISMISSED, AlertStatus.CLOSED))


class Alert(models.Model):
    """One rule's finding about one subject, with the evidence an accused enterprise can check."""

    rule = models.ForeignKey(Rule, verbose_name="规则", on_delete=models.PROTECT, related_name="alerts")
    subject_kind = models.CharField("比对对象", max_length=20, choices=SubjectKind.choices)
    # The subject's natural key (FORMATS.md): `subject_key` as named fields for exports and the API,
    # `subject_ref` as one canonical string, unique per rule.
    subject_ref = models.CharField("对象标识", max_length=255)
    subject_key = models.JSONField("对象主键", default=dict)
    subject_label = models.CharField("对象", max_length=255)
    project = models.ForeignKey(
        Project, verbose_name="项目", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    district = models.ForeignKey(
        District, verbose_name="所在区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The enterprises concerned (besides the project's builder and supervisor, reached through `project`).
    supplier = models.ForeignKey(
        Organization, verbose_name="供应企业", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contractor = models.ForeignKey(
        Organization, verbose_name="施工单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    laboratory = models.ForeignKey(
        Organization, verbose_name="检测机构", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contract_no = models.CharField("合同编号", max_length=64, blank=True)
    message = models.TextField("比对结果")
    evidence = models.JSONField("证据", default=dict)
    parameters = models.JSONField("参数取值", default=dict)
    status = models.CharField("状态", max_length=24, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    raised_at = models.DateTimeField("首次预警时间", db_index=True)
    last_confirmed_at = models.DateTimeField("证据更新时间")
    resolved_at = models.DateTimeField("消除时间", null=True, blank=True)
    times_raised = models.PositiveIntegerField("预警次数", default=1)
    updated_at = models.DateTimeField("最后更新", auto_now=True)

    objects = AlertQuerySet.as_manager()
    access_scope = AccessScope(
        owners=("supplier", "contractor", "laboratory", "project__builder", "project__supervisor"),
        district="district",
        roles=ALERT_ROLES,
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = "预警"
        verbose_name_plural = "预警"
        constraints = [models.UniqueConstraint(fields=["rule", "subject_ref"], name="alert_one_per_subject")]
        indexes = [
            models.Index(fields=["status", "rule"]),
            models.Index(fields=["district", "status"]),
            models.Index(fields=["project", "rule"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} {self.subject_label}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("monitoring:alert_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AlertEventKind(models.TextChoices):
    RAISED = "raised", "系统预警"
    EVIDENCE = "evidence", "证据更新"
    RESOLVED = "resolved", "数据更正后自动消除"
    REOPENED = "reopened", "再次出现"
    ACKNOWLEDGED = "acknowledged", "受理"
    EXPLANATION_REQUESTED = "explanation_requested", "要求企业说明"
    EXPLAINED = "explained", "企业说明"
    DISMISSED = "dismissed", "排除"
    ESCALATED = "escalated", "立案查处"
    CASE_CLOSED = "case_closed", "结案"
    NOTE = "note", "备注"


class AlertEvent(models.Model):
    """One step in an alert's history, by the system or by a person. Never changed afterwards."""

    alert = models.ForeignKey(Alert, verbose_name="预警", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事项", max_length=24, choices=AlertEventKind.choices)
    status_after = models.CharField("处理后状态", max_length=24, choices=AlertStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    organization_name = models.CharField("单位", max_length=200, blank=True)
    note = models.TextField("说明", blank=True)
    message = models.TextField("当时的比对结果", blank=True)
    parameters = models.JSONField("当时的参数取值", default=dict, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "预警处理记录"
        verbose_name_plural = "预警处理记录"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: AlertAttachment, filename: str) -> str:
    return f"alerts/{instance.event.alert_id}/{instance.event_id}/{filename}"


class AlertAttachment(models.Model):
    """A file an enterprise (or regulator) attached to an alert event, e.g. the delivery notes of an explanation."""

    event = models.ForeignKey(AlertEvent, verbose_name="处理记录", on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("附件", upload_to=attachment_path, max_length=255)
    original_name = models.CharField("文件名", max_length=255)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.original_name


class CaseOutcome(models.TextChoices):
    PENDING = "", "办理中"
    CONFIRMED = "confirmed", "违法违规属实"
    NOT_CONFIRMED = "not_confirmed", "经查不属实"


class EnforcementCase(models.Model):
    """立案查处: an escalated alert becomes a case; its recorded outcome feeds credit (behaviour records)."""

    case_no = models.CharField("案件编号", max_length=32, unique=True)
    alert = models.OneToOneField(Alert, verbose_name="来源预警", on_delete=models.PROTECT, related_name="case")
    respondent = models.ForeignKey(
        Organization, verbose_name="当事企业", on_delete=models.PROTECT, related_name="enforcement_cases"
    )
    district = models.ForeignKey(
        District, verbose_name="所在区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="立案人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_by_name = models.CharField("立案人", max_length=150)
    opened_at = models.DateTimeField("立案时间", auto_now_add=True)
    grounds = models.TextField("立案理由")
    outcome = models.CharField("处理结果", max_length=16, choices=CaseOutcome.choices, blank=True, default="")
    finding = models.TextField("查处结论", blank=True)
    penalty = models.TextField("处理处罚", blank=True)
    legal_basis = models.CharField("法律依据", max_length=200, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    closed_by_name = models.CharField("结案人", max_length=150, blank=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("respondent",), district="district", roles=ALERT_ROLES)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = "立案查处"
        verbose_name_plural = "立案查处"
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="") | Q(closed_at__isnull=False), name="case_outcome_needs_closing"
            )
        ]

    def __str__(self) -> str:
        return f"案件 {self.case_no}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("monitoring:case_detail", args=[self.case_no])

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class EvaluationRun(models.Model):
    """One evaluation of the rules: full (命令/定时任务) or incremental (filings arriving)."""

    class Mode(models.TextChoices):
        FULL = "full", "全量"
        INCREMENTAL = "incremental", "增量"
        DUE = "due", "宽限期到期"

    mode = models.CharField("方式", max_length=12, choices=Mode.choices)
    rules = models.CharField("规则", max_length=200)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    scope_size = models.PositiveIntegerField("触发记录数", default=0)
    raised = models.PositiveIntegerField("新增预警", default=0)
    reopened = models.PositiveIntegerField("再次出现", default=0)
    refreshed = models.PositiveIntegerField("证据更新", default=0)
    resolved = models.PositiveIntegerField("自动消除", default=0)
    detail: Any = models.JSONField("各规则耗时", default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "比对运行"
        verbose_name_plural = "比对运行"

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.started_at:%Y-%m-%d %H:%M:%S}"


class WarningKind(models.TextChoices):
    QUALITY = "quality", "质量预警"
    SUPPLY_DEMAND = "supply_demand", "供需预警"
    PRICE = "price", "价格预警"
    CREDIT = "credit", "信用预警"


class WarningTopic(models.TextChoices):
    CATEGORY_FAILURES = "category_failures", "品类不合格率偏高"
    PRODUCER_FAILURES = "producer_failures", "生产企业不合格率偏高"
    SHORTAGE = "shortage", "供应能力不足"
    OVERCAPACITY = "overcapacity", "产能过剩"
    PRICE_MOVEMENT = "price_movement", "均价波动"
    PRICE_OUTLIER = "price_outlier", "异常价格"
    CREDIT_FALL = "credit_fall", "企业信用下降"
    CATEGORY_CREDIT_FALL = "category_credit_fall", "品类供应企业信用下降"


class EarlyWarning(models.Model):
    """One aggregate warning (预警) of one period, with the figures it was computed from.

    `monitoring.warnings.compute_warnings(period)` replaces a period's warnings as a whole, so they always
    match the filings as they are now; each carries the thresholds it was computed under.
    """

    kind = models.CharField("预警类型", max_length=16, choices=WarningKind.choices)
    topic = models.CharField("预警事项", max_length=20, choices=WarningTopic.choices)
    period = models.DateField("期间（月）", db_index=True)
    category = models.ForeignKey(
        "materials.MaterialCategory",
        verbose_name="材料品类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    spec = models.CharField("规格型号", max_length=128, blank=True)
    district = models.ForeignKey(
        District, verbose_name="区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, verbose_name="企业", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField("指标值", max_digits=18, decimal_places=4)
    threshold = models.DecimalField("阈值", max_digits=18, decimal_places=4, null=True, blank=True)
    message = models.TextField("预警内容")
    evidence = models.JSONField("依据", default=dict)
    computed_at = models.DateTimeField("计算时间")

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=(), district="district", roles=WARNING_ROLES)

    class Meta:
        ordering = ["-period", "kind", "topic", "id"]
        verbose_name = "预警分析"
        verbose_name_plural = "预警分析"
        indexes = [models.Index(fields=["period", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period:%Y-%m} {self.message[:30]}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("warnings:detail", args=[self.pk])
