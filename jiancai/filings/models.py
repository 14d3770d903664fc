"""The filings (信息源): what suppliers, contractors, laboratories, plants and builders report.

Every filing kind keeps all its versions in one table. A row is one version of the record with a natural
key (FORMATS.md); exactly one version per key is current. A correction inserts a new version and marks the
previous one not current, so history is never overwritten. `content_hash` covers the filed content, so a
resubmission of the same content is recognised and changes nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from jiancai.accounts.access import AccessScope, ScopedQuerySet
from jiancai.accounts.models import Organization
from jiancai.materials.models import MaterialCategory
from jiancai.registry.models import Project


class Channel(models.TextChoices):
    FORM = "form", "网页表单"
    API = "api", "开放接口"
    IMPORT = "import", "批量导入"


class FilingStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    WITHDRAWN = "withdrawn", "已撤回"


class FilingQuerySet(ScopedQuerySet[Any]):
    def current(self) -> FilingQuerySet:
        return self.filter(is_current=True)


class Filing(models.Model):
    """Fields every filing kind carries: who filed it, how, its status and its place in the version history."""

    filer = models.ForeignKey(Organization, verbose_name="填报单位", on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filed_by_name = models.CharField("填报人", max_length=150, blank=True)
    channel = models.CharField("填报渠道", max_length=8, choices=Channel.choices)
    status = models.CharField("状态", max_length=12, choices=FilingStatus.choices, default=FilingStatus.SUBMITTED)
    version = models.PositiveIntegerField("版本", default=1)
    is_current = models.BooleanField("当前版本", default=True)
    content_hash = models.CharField(max_length=64)
    withdrawn_reason = models.TextField("撤回原因", blank=True)
    created_at = models.DateTimeField("填报时间", auto_now_add=True)

    # The natural key fields (FORMATS.md), and the record kind name used by imports and the API.
    natural_key: ClassVar[tuple[str, ...]]
    kind: ClassVar[str]

    objects = FilingQuerySet.as_manager()

    class Meta:
        abstract = True

    def get_absolute_url(self) -> str:
        """The page of this version (filings.urls names each kind's pages `<kind>_…`)."""
        from django.urls import reverse

        return reverse(f"filings:{self.kind}_detail", args=[self.pk])

    def key_values(self) -> tuple[object, ...]:
        return tuple(getattr(self, f"{f}_id" if f in self.relation_keys() else f) for f in self.natural_key)

    @classmethod
    def relation_keys(cls) -> set[str]:
        return {f.name for f in cls._meta.concrete_fields if f.is_relation}


def _key_constraints(name: str, fields: list[str]) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(fields=fields, condition=Q(is_current=True), name=f"{name}_one_current"),
        models.UniqueConstraint(fields=[*fields, "version"], name=f"{name}_version_unique"),
    ]


class Supply(Filing):
    """建材供应信息, filed by the supplier."""

    supply_no = models.CharField("供应单号", max_length=64)
    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, related_name="supplies")
    contract_no = models.CharField("合同编号", max_length=64, db_index=True)
    category = models.ForeignKey(MaterialCategory, verbose_name="材料品类", on_delete=models.PROTECT, related_name="+")
    spec = models.CharField("规格型号", max_length=128, blank=True)
    batch_no = models.CharField("批号", max_length=64, blank=True)
    quantity = models.DecimalField("数量", max_digits=16, decimal_places=3)
    unit = models.CharField("计量单位", max_length=8)
    unit_price = models.DecimalField("单价(元)", null=True, blank=True, max_digits=14, decimal_places=2)
    delivery_date = models.DateField("供货日期")
    type_report_no = models.CharField("型式检验报告编号", max_length=64, blank=True)
    type_report_agency = models.CharField("型式检验机构", max_length=128, blank=True)

    natural_key = ("filer", "supply_no")
    kind = "supply"
    access_scope = AccessScope(owners=("filer",), district="project__district")

    class Meta:
        ordering = ["-delivery_date", "supply_no"]
        verbose_name = "供应记录"
        verbose_name_plural = "供应记录"
        constraints = _key_constraints("supply", ["filer", "supply_no"])
        indexes = [
            models.Index(fields=["project", "contract_no"]),
            models.Index(fields=["delivery_date"]),
            # A producer's batch (溯源: trace_deliveries, XC09's deliveries of a failed batch elsewhere).
            models.Index(fields=["filer", "batch_no"]),
        ]

    def __str__(self) -> str:
        return f"供应 {self.supply_no}"


class PurchaseMethod(models.TextChoices):
    OPEN_TENDER = "公开招标", "公开招标"
    INVITED_TENDER = "邀请招标", "邀请招标"
    INQUIRY = "询价", "询价"
    NEGOTIATION = "竞争性谈判", "竞争性谈判"
    DIRECT = "直接采购", "直接采购"
    ECOMMERCE = "电商平台", "电商平台"


class Purchase(Filing):
    """建材采购使用信息, filed by the contractor."""

    purchase_no = models.CharField("采购单号", max_length=64)
    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, related_name="purchases")
    supplier = models.ForeignKey(Organization, verbose_name="供应企业", on_delete=models.PROTECT, related_name="+")
    contract_no = models.CharField("合同编号", max_length=64, db_index=True)
    category = models.ForeignKey(MaterialCategory, verbose_name="材料品类", on_delete=models.PROTECT, related_name="+")
    spec = models.CharField("规格型号", max_length=128, blank=True)
    batch_no = models.CharField("批号", max_length=64, blank=True)
    quantity = models.DecimalField("数量", max_digits=16, decimal_places=3)
    unit = models.CharField("计量单位", max_length=8)
    unit_price = models.DecimalField("单价(元)", null=True, blank=True, max_digits=14, decimal_places=2)
    purchase_method = models.CharField("采购方式", max_length=8, choices=PurchaseMethod.choices, blank=True)
    arrival_date = models.DateField("进场日期", null=True, blank=True)
    witness_report_no = models.CharField("见证检测报告编号", max_length=64, blank=True)
    witness_lab = models.CharField("见证检测机构", max_length=128, blank=True)
    use_location = models.CharField("拟使用部位", max_length=128, blank=True)
    responsible_person = models.CharField("材料员", max_length=32, blank=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)

    natural_key = ("filer", "purchase_no")
    kind = "purchase"
    access_scope = AccessScope(owners=("filer", "supplier"), district="project__district", editors=("filer",))

    class Meta:
        ordering = ["-arrival_date", "purchase_no"]
        verbose_name = "采购记录"
        verbose_name_plural = "采购记录"
        constraints = _key_constraints("purchase", ["filer", "purchase_no"])
        indexes = [
            models.Index(fields=["project", "contract_no"]),
            models.Index(fields=["supplier"]),
            models.Index(fields=["witness_report_no"]),  # purchases citing a report (XC10 as reports arrive)
        ]

    def __str__(self) -> str:
        return f"采购 {self.purchase_no}"


class TestKind(models.TextChoices):
    WITNESS = "见证检测", "见证检测"
    SAMPLING = "政府抽检", "政府抽检"
    ROUTINE = "日常检测", "日常检测"
    TYPE = "型式检验", "型式检验"


class TestResult(models.TextChoices):
    PASS = "合格", "合格"
    FAIL = "不合格", "不合格"


class TestReport(Filing):
    """建材检测信息, filed by the laboratory."""

    report_no = models.CharField("报告编号", max_length=64)
    test_kind = models.CharField("检测类别", max_length=8, choices=TestKind.choices)
    project = models.ForeignKey(
        Project, verbose_name="项目", on_delete=models.PROTECT, related_name="test_reports", null=True, blank=True
    )
    producer = models.ForeignKey(
        Organization, verbose_name="生产企业", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    category = models.ForeignKey(MaterialCategory, verbose_name="材料品类", on_delete=models.PROTECT, related_name="+")
    spec = models.CharField("规格型号", max_length=128, blank=True)
    batch_no = models.CharField("批号", max_length=64, blank=True, db_index=True)
    quantity_represented = models.DecimalField("代表数量", null=True, blank=True, max_digits=16, decimal_places=3)
    unit = models.CharField("计量单位", max_length=8, blank=True)
    sample_date = models.DateField("取样日期", null=True, blank=True)
    test_date = models.DateField("检测日期")
    age_days = models.PositiveSmallIntegerField("龄期(天)", null=True, blank=True)
    strength_mpa = models.DecimalField("强度代表值(MPa)", max_digits=6, decimal_places=1, null=True, blank=True)
    result = models.CharField("检测结果", max_length=4, choices=TestResult.choices)
    items = models.TextField("检测项目", blank=True)
    use_location = models.CharField("拟使用部位", max_length=128, blank=True)
    witness = models.CharField("见证人", max_length=32, blank=True)
    sampler = models.CharField("取样人", max_length=32, blank=True)

    natural_key = ("filer", "report_no")
    kind = "test_report"
    access_scope = AccessScope(owners=("filer", "producer"), district="project__district", editors=("filer",))

    class Meta:
        ordering = ["-test_date", "report_no"]
        verbose_name = "检测报告"
        verbose_name_plural = "检测报告"
        constraints = _key_constraints("test_report", ["filer", "report_no"])
        indexes = [
            models.Index(fields=["project", "category"]),
            models.Index(fields=["producer", "batch_no"]),
            models.Index(fields=["report_no"]),  # the report a purchase cites (XC10), report verification
        ]

    def __str__(self) -> str:
        return f"检测报告 {self.report_no}"


class Tender(Filing):
    """建材招投标信息, filed by the builder of the project."""

    tender_no = models.CharField("招标编号", max_length=64)
    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, related_name="tenders")
    category = models.ForeignKey(MaterialCategory, verbose_name="材料品类", on_delete=models.PROTECT, related_name="+")
    winner = models.ForeignKey(Organization, verbose_name="中标企业", on_delete=models.PROTECT, related_name="+")
    contract_no = models.CharField("合同编号", max_length=64, db_index=True)
    awarded_price = models.DecimalField("中标单价(元)", max_digits=14, decimal_places=2)
    guide_price = models.DecimalField("市场指导价(元)", null=True, blank=True, max_digits=14, decimal_places=2)
    award_date = models.DateField("中标日期")

    natural_key = ("tender_no",)
    kind = "tender"
    access_scope = AccessScope(owners=("filer", "winner"), district="project__district", editors=("filer",))

    class Meta:
        ordering = ["-award_date", "tender_no"]
        verbose_name = "招投标结果"
        verbose_name_plural = "招投标结果"
        constraints = _key_constraints("tender", ["tender_no"])
        # The tenders of a purchase's project and category (XC12, XC13: several lookups per purchase).
        indexes = [models.Index(fields=["project", "category"])]

    def __str__(self) -> str:
        return f"招标 {self.tender_no}"


class Ticket(Filing):
    """预拌混凝土发货单, filed by the ready-mix plant."""

    ticket_no = models.CharField("发货单号", max_length=64)
    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, related_name="tickets")
    contract_no = models.CharField("合同编号", max_length=64, blank=True)
    grade = models.CharField("强度等级", max_length=16)
    volume = models.DecimalField("方量(m³)", max_digits=8, decimal_places=2)
    departed_at = models.DateTimeField("出站时间")
    arrived_at = models.DateTimeField("到场时间", null=True, blank=True)
    discharged_at = models.DateTimeField("卸料完成时间", null=True, blank=True)
    vehicle_plate = models.CharField("车牌号", max_length=16, blank=True)
    water_added = models.DecimalField("现场加水(L)", max_digits=8, decimal_places=1, null=True, blank=True)
    pour_location = models.CharField("浇筑部位", max_length=128, blank=True)

    natural_key = ("filer", "ticket_no")
    kind = "ticket"
    access_scope = AccessScope(owners=("filer",), district="project__district")

    class Meta:
        ordering = ["-departed_at", "ticket_no"]
        verbose_name = "预拌混凝土发货单"
        verbose_name_plural = "预拌混凝土发货单"
        constraints = _key_constraints("ticket", ["filer", "ticket_no"])
        indexes = [models.Index(fields=["project", "grade"])]

    def __str__(self) -> str:
        return f"发货单 {self.ticket_no}"


class ProjectEventKind(models.TextChoices):
    START = "开工", "开工"
    ENERGY_DESIGN = "节能设计审查备案", "节能设计审查备案"
    ENERGY_ACCEPTANCE = "节能专项验收备案", "节能专项验收备案"
    COMPLETION = "竣工验收备案", "竣工验收备案"


class ProjectEvent(Filing):
    """工程节点, filed by the builder."""

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, related_name="events")
    event = models.CharField("节点", max_length=16, choices=ProjectEventKind.choices)
    date = models.DateField("日期")
    document_no = models.CharField("文号", max_length=64, blank=True)

    natural_key = ("project", "event")
    kind = "project_event"
    access_scope = AccessScope(owners=("filer",), district="project__district")

    class Meta:
        ordering = ["-date"]
        verbose_name = "工程节点"
        verbose_name_plural = "工程节点"
        constraints = _key_constraints("project_event", ["project", "event"])

    def __str__(self) -> str:
        return f"{self.event} {self.date}"


# Not pytest test classes, whatever their names say.
TestKind.__test__ = False  # type: ignore[attr-defined]
TestResult.__test__ = False  # type: ignore[attr-defined]
TestReport.__test__ = False  # type: ignore[attr-defined]

FILING_MODELS: dict[str, type[Filing]] = {
    m.kind: m for m in (Supply, Purchase, TestReport, Tender, Ticket, ProjectEvent)
}


# Every record kind a file can carry: the filings above and the registry records (filings.registry_imports).
IMPORT_KIND_CHOICES = [(m.kind, str(m._meta.verbose_name)) for m in FILING_MODELS.values()] + [
    ("enterprise", "企业"),
    ("qualification", "资质证书"),
    ("capacity", "产能"),
    ("project", "工程项目"),
    ("product_filing", "产品供应备案"),
    ("catalog_entry", "推广限制禁止目录"),
]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "处理中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ImportJob(models.Model):
    """One uploaded bulk-import file (批量导入) and what became of its rows (see filings.imports).

    The file is kept under settings.IMPORT_DIR; its bad rows are in the error CSV next to it (all of them) and
    in `errors` (the first imports.ERRORS_KEPT, for the page).
    """

    kind = models.CharField("记录类型", max_length=16, choices=IMPORT_KIND_CHOICES)
    original_name = models.CharField("文件名", max_length=255)
    stored_name = models.CharField("存储文件", max_length=255)
    file_size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    file_format = models.CharField("文件格式", max_length=8, blank=True)
    encoding = models.CharField("文件编码", max_length=16, blank=True)
    organization = models.ForeignKey(Organization, verbose_name="导入单位", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_by_name = models.CharField("导入人", max_length=150, blank=True)
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    status = models.CharField("状态", max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    rows_expected = models.PositiveIntegerField("预计行数", null=True, blank=True)
    rows_seen = models.PositiveIntegerField("已处理行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    refused_count = models.PositiveIntegerField("拒绝", default=0)
    error_total = models.PositiveIntegerField("错误条数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    warnings = models.JSONField("提示", default=list, blank=True)
    message = models.TextField("文件级错误", blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    updated_at = models.DateTimeField("最后更新", auto_now=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "批量导入"
        verbose_name_plural = "批量导入"
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"批量导入 {self.original_name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("imports:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def progress_percent(self) -> int | None:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.rows_expected:
            return None
        return min(99, self.rows_seen * 100 // self.rows_expected)
