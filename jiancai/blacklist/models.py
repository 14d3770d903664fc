"""The construction-materials quality blacklist (建材质量失信黑名单), restrictions (限制措施), credit repair (信用修复).

* `BlacklistEntry`: a regulator proposes an enterprise on stated grounds, legal basis and evidence; another regulator
  (the city commission's business staff, never the proposer: the two-person rule, also a database constraint)
  approves it, which publishes it, or rejects it. A published entry runs from `published_on` to `ends_on`; it is
  exited by an approved credit repair or when its period ends. After exit the entry stays published for
  `PUBLIC_YEARS` years (`public_until`), as the bad record it is.
* `Restriction`: a measure against an enterprise (no tendering in the city, e-commerce trade restriction, …), in the
  whole city or one district, from `starts_on` to `ends_on`. It lifts itself when due: every query is by date (a
  restriction past its end is never active), and `manage.py lift_restrictions` / the beat task records the lifting.
* `RepairApplication`: the enterprise applies with a statement and attachments; a regulator approves (the entry
  exits, its restrictions lift) or rejects with a reason; the decision is published with the entry.

Visibility: published entries and their restrictions are public to every logged-in user; the enterprise sees its
own entries in every status; regulators see all (a district regulator its district's). See `visible_to`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from jiancai.accounts.access import AccessScope, Action, ScopedQuerySet, restrict, role_allows
from jiancai.accounts.models import District, Organization
from jiancai.accounts.roles import Role

PUBLIC_YEARS = 3  # an exited entry stays published this long (the bad record's publication period)


def _roles(*roles: Role) -> frozenset[str]:
    return frozenset(str(r) for r in roles)


# Everyone in a business role reads published entries; the enterprise applies for repair (CHANGE); regulators'
# business staff propose, decide, impose and lift (VERIFY).
BLACKLIST_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS, Role.SYSTEM_ADMIN),
    Action.CHANGE: _roles(Role.ORG_ADMIN, Role.STAFF),
    Action.VERIFY: _roles(Role.BUSINESS),
}
REPAIR_ROLES: Mapping[str, frozenset[str]] = {
    Action.VIEW: _roles(Role.ORG_ADMIN, Role.STAFF, Role.BUSINESS),
    Action.CHANGE: _roles(Role.ORG_ADMIN, Role.STAFF),
    Action.VERIFY: _roles(Role.BUSINESS),
}


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


class EntryStatus(models.TextChoices):
    PROPOSED = "proposed", "待审批"
    PUBLISHED = "published", "已列入并公布"
    REJECTED = "rejected", "不予列入"
    EXITED = "exited", "已移出"


class ExitReason(models.TextChoices):
    REPAIR = "repair", "信用修复"
    PERIOD_END = "period_end", "期满移出"


PUBLISHED_STATUSES = (EntryStatus.PUBLISHED, EntryStatus.EXITED)


def listed_on(day: Any, prefix: str = "") -> Q:
    """Entries that had the enterprise on the blacklist on `day` (a date or an expression such as OuterRef)."""
    p = prefix
    return (
        Q(**{f"{p}status__in": PUBLISHED_STATUSES, f"{p}published_on__lte": day})
        & (Q(**{f"{p}ends_on__isnull": True}) | Q(**{f"{p}ends_on__gte": day}))
        & (Q(**{f"{p}exited_on__isnull": True}) | Q(**{f"{p}exited_on__gt": day}))
    )


class BlacklistQuerySet(ScopedQuerySet["BlacklistEntry"]):
    def published(self, on: dt.date | None = None) -> BlacklistQuerySet:
        """Entries the public sees on `on` (today): listed ones, and exited ones within their publication period."""
        on = on or dt.date.today()
        return self.filter(Q(status=EntryStatus.PUBLISHED) | Q(status=EntryStatus.EXITED, public_until__gte=on))

    def listed(self, on: dt.date) -> BlacklistQuerySet:
        """Entries that have their enterprise on the blacklist on `on`."""
        return self.filter(listed_on(on))

    def visible_to(self, user: Any, action: str = Action.VIEW) -> models.QuerySet[BlacklistEntry]:
        scoped = restrict(self, user, action)
        if action != Action.VIEW or not role_allows(user, BlacklistEntry, Action.VIEW):
            return scoped
        return scoped | self.published()


class BlacklistEntry(models.Model):
    """One enterprise's entry on the blacklist, from proposal to exit."""

    entry_no = models.CharField("名单编号", max_length=20, unique=True)
    enterprise = models.ForeignKey(
        Organization, verbose_name="失信企业", on_delete=models.PROTECT, related_name="blacklist_entries"
    )
    grounds = models.TextField("列入事由")
    legal_basis = models.CharField("法律政策依据", max_length=255)
    evidence = models.TextField("证据材料")
    period_months = models.PositiveSmallIntegerField("列入期限（月）")
    status = models.CharField("状态", max_length=12, choices=EntryStatus.choices, default=EntryStatus.PROPOSED)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposer_name = models.CharField("提出人", max_length=150)
    proposer_org_name = models.CharField("提出单位", max_length=200)
    proposed_at = models.DateTimeField("提出时间")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approver_name = models.CharField("审批人", max_length=150, blank=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    published_on = models.DateField("公布（生效）日期", null=True, blank=True, db_index=True)
    ends_on = models.DateField("列入期满日期", null=True, blank=True)
    exited_on = models.DateField("移出日期", null=True, blank=True)
    exit_reason = models.CharField("移出原因", max_length=12, choices=ExitReason.choices, blank=True)
    public_until = models.DateField("公示截止日期", null=True, blank=True)
    # The bad behaviour record (credit) the listing made; kept published until `public_until` after exit.
    behaviour_record = models.ForeignKey(
        "credit.BehaviourRecord",
        verbose_name="不良行为记录",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = BlacklistQuerySet.as_manager()
    access_scope = AccessScope(owners=("enterprise",), district="enterprise__district", roles=BLACKLIST_ROLES)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = "建材质量失信黑名单"
        verbose_name_plural = "建材质量失信黑名单"
        constraints = [
            # The two-person rule: whoever decides on a proposal is not the one who proposed it.
            models.CheckConstraint(
                condition=Q(approver__isnull=True) | ~Q(approver=F("proposer")), name="blacklist_two_person_rule"
            ),
            models.CheckConstraint(
                condition=Q(status=EntryStatus.PROPOSED) | Q(decided_at__isnull=False),
                name="blacklist_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=PUBLISHED_STATUSES) | Q(published_on__isnull=False),
                name="blacklist_published_has_date",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("published_on")),
                name="blacklist_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(status__in=(EntryStatus.PROPOSED, EntryStatus.PUBLISHED)),
                name="blacklist_one_open_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_no} {self.enterprise.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("blacklist:entry_detail", args=[self.entry_no])

    @property
    def is_public(self) -> bool:
        return self.status == EntryStatus.PUBLISHED or (
            self.status == EntryStatus.EXITED and self.public_until is not None and self.public_until >= dt.date.today()
        )

    def is_listed_on(self, day: dt.date) -> bool:
        return (
            self.status in PUBLISHED_STATUSES
            and self.published_on is not None
            and self.published_on <= day
            and (self.ends_on is None or day <= self.ends_on)
            and (self.exited_on is None or day < self.exited_on)
        )


class RestrictionKind(models.TextChoices):
    TENDER_BAN = "tender_ban", "禁止在本市参加建设工程材料招投标"
    TRADE = "trade", "电商平台交易限制"
    SUPPLY_BAN = "supply_ban", "暂停向本市建设工程供应建材"


# The filings each kind of restriction forbids (XC15): a tender won, a supply / purchase / ready-mix delivery.
RESTRICTED_FILINGS: dict[str, frozenset[str]] = {
    RestrictionKind.TENDER_BAN: frozenset({"tender"}),
    RestrictionKind.TRADE: frozenset({"supply", "purchase", "ticket"}),
    RestrictionKind.SUPPLY_BAN: frozenset({"supply", "purchase", "ticket", "tender"}),
}


class LiftReason(models.TextChoices):
    PERIOD_END = "period_end", "期满自动解除"
    REPAIR = "repair", "信用修复解除"
    REVOKED = "revoked", "撤销（自始无效）"


def in_force_on(day: Any, prefix: str = "") -> Q:
    """Restrictions in force on `day` (a date or an expression): started, not ended, not lifted before it."""
    p = prefix
    return Q(**{f"{p}starts_on__lte": day, f"{p}ends_on__gte": day}) & (
        Q(**{f"{p}lifted_on__isnull": True}) | Q(**{f"{p}lifted_on__gt": day})
    )


class RestrictionQuerySet(ScopedQuerySet["Restriction"]):
    def in_force(self, on: dt.date) -> RestrictionQuerySet:
        return self.filter(in_force_on(on))

    def due_to_lift(self, today: dt.date) -> RestrictionQuerySet:
        """Past their end and not yet recorded as lifted."""
        return self.filter(lifted_on__isnull=True, ends_on__lt=today)

    def published(self) -> RestrictionQuerySet:
        return self.filter(Q(entry__isnull=True) | Q(entry__status__in=PUBLISHED_STATUSES))

    def visible_to(self, user: Any, action: str = Action.VIEW) -> models.QuerySet[Restriction]:
        scoped = restrict(self, user, action)
        if action != Action.VIEW or not role_allows(user, Restriction, Action.VIEW):
            return scoped
        return scoped | self.published()


class Restriction(models.Model):
    """A restriction on an enterprise for a period, in the city or one district."""

    restriction_no = models.CharField("措施编号", max_length=20, unique=True)
    enterprise = models.ForeignKey(
        Organization, verbose_name="受限企业", on_delete=models.PROTECT, related_name="restrictions"
    )
    entry = models.ForeignKey(
        BlacklistEntry,
        verbose_name="黑名单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restrictions",
    )
    kind = models.CharField("限制措施", max_length=16, choices=RestrictionKind.choices)
    district = models.ForeignKey(
        District, verbose_name="限制区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField("开始日期", db_index=True)
    ends_on = models.DateField("结束日期", db_index=True)
    basis = models.CharField("依据", max_length=255)
    imposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="决定人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    imposed_by_name = models.CharField("决定人", max_length=150)
    imposed_at = models.DateTimeField("决定时间")
    lifted_on = models.DateField("解除日期", null=True, blank=True)
    lift_reason = models.CharField("解除原因", max_length=12, choices=LiftReason.choices, blank=True)
    lifted_at = models.DateTimeField("解除记录时间", null=True, blank=True)
    lifted_by_name = models.CharField("解除人", max_length=150, blank=True)
    notified_at = models.DateTimeField("已通知相关项目", null=True, blank=True)

    objects = RestrictionQuerySet.as_manager()
    access_scope = AccessScope(owners=("enterprise",), district="enterprise__district", roles=BLACKLIST_ROLES)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = "限制措施"
        verbose_name_plural = "限制措施"
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="restriction_ends_after_start"),
            models.CheckConstraint(
                condition=Q(lifted_on__isnull=True) | Q(lifted_on__gte=F("starts_on")),
                name="restriction_lifted_after_start",
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.restriction_no} {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("blacklist:restriction_detail", args=[self.restriction_no])

    def is_in_force(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on and (self.lifted_on is None or day < self.lifted_on)

    def state(self, today: dt.date | None = None) -> str:
        today = today or dt.date.today()
        if self.lift_reason == LiftReason.REVOKED:
            return "已撤销"
        if self.is_in_force(today):
            return "执行中"
        if today < self.starts_on and (self.lifted_on is None or self.lifted_on > self.starts_on):
            return "未开始"
        return "已解除"

    @property
    def scope_text(self) -> str:
        return self.district.name if self.district is not None else "全市"


class RepairStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "准予修复"
    REJECTED = "rejected", "不予修复"


class RepairApplication(models.Model):
    """信用修复申请: the enterprise's statement and evidence, and the regulator's published decision."""

    application_no = models.CharField("申请编号", max_length=20, unique=True)
    entry = models.ForeignKey(
        BlacklistEntry, verbose_name="黑名单", on_delete=models.PROTECT, related_name="repair_applications"
    )
    applicant = models.ForeignKey(
        Organization, verbose_name="申请企业", on_delete=models.PROTECT, related_name="repair_applications"
    )
    statement = models.TextField("整改及修复说明")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by_name = models.CharField("申请人", max_length=150)
    submitted_at = models.DateTimeField("申请时间")
    status = models.CharField("状态", max_length=12, choices=RepairStatus.choices, default=RepairStatus.SUBMITTED)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewer_name = models.CharField("审核人", max_length=150, blank=True)
    decision_reason = models.TextField("审核意见", blank=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("applicant",), district="applicant__district", roles=REPAIR_ROLES)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = "信用修复申请"
        verbose_name_plural = "信用修复申请"
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status=RepairStatus.SUBMITTED), name="repair_one_pending_per_entry"
            ),
            models.CheckConstraint(
                condition=Q(status=RepairStatus.SUBMITTED) | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="repair_decision_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"信用修复申请 {self.application_no}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("blacklist:repair_detail", args=[self.application_no])


def repair_attachment_path(instance: RepairAttachment, filename: str) -> str:
    return f"repairs/{instance.application_id}/{filename}"


class RepairAttachment(models.Model):
    """Evidence of a repair application (rectification reports, test reports, penalty receipts…)."""

    application = models.ForeignKey(
        RepairApplication, verbose_name="修复申请", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("附件", upload_to=repair_attachment_path, max_length=255)
    original_name = models.CharField("文件名", max_length=255)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = "修复证明材料"
        verbose_name_plural = "修复证明材料"

    def __str__(self) -> str:
        return self.original_name
