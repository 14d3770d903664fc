"""The three registries (三库): enterprises (accounts.Organization plus qualifications and capacity),
personnel and projects; and the verdicts regulators give on self-reported items."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from jiancai.accounts.access import AccessScope, ScopedQuerySet
from jiancai.accounts.models import District, Organization, SelfReported, Verdict

from .protected import decrypt_text


class QualificationStatus(models.TextChoices):
    VALID = "有效", "有效"
    SUSPENDED = "暂扣", "暂扣"
    REVOKED = "撤销", "撤销"
    CANCELLED = "注销", "注销"


class Qualification(SelfReported):
    organization = models.ForeignKey(
        Organization, verbose_name="企业", on_delete=models.PROTECT, related_name="qualifications"
    )
    certificate_no = models.CharField("证书编号", max_length=64, unique=True)
    qualification_type = models.CharField("资质类别", max_length=64)
    grade = models.CharField("资质等级", max_length=32, blank=True)
    issued_on = models.DateField("发证日期")
    valid_until = models.DateField("有效期至")
    status = models.CharField(
        "状态", max_length=8, choices=QualificationStatus.choices, default=QualificationStatus.VALID
    )

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district")

    class Meta:
        ordering = ["organization__uscc", "certificate_no"]
        verbose_name = "资质证书"
        verbose_name_plural = "资质证书"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("issued_on")), name="qualification_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.qualification_type} {self.certificate_no}"

    def clean(self) -> None:
        if self.issued_on and self.valid_until and self.valid_until < self.issued_on:
            raise ValidationError({"valid_until": ValidationError("有效期至不能早于发证日期", code="date_order")})

    def get_absolute_url(self) -> str:
        return reverse("registry:qualification_detail", args=[self.pk])


# The base material catalog of FORMATS.md; the materials app (a later layer) will own the editable catalog.
MATERIAL_CATEGORIES = (
    ("GJ", "钢筋", "t"),
    ("XG", "型钢及钢结构构件", "t"),
    ("SN", "水泥", "t"),
    ("HNT", "预拌混凝土", "m³"),
    ("SJ", "预拌砂浆", "t"),
    ("SS", "砂石", "t"),
    ("QT", "墙体材料", "m³"),
    ("FS", "防水材料", "m²"),
    ("BW", "保温材料", "m³"),
    ("MC", "门窗", "樘"),
    ("GC", "管材管件", "m"),
    ("TL", "建筑涂料", "t"),
    ("YZ", "预制构件", "m³"),
    ("DL", "电线电缆", "m"),
)
CATEGORY_CHOICES = [(code, name) for code, name, _ in MATERIAL_CATEGORIES]
CATEGORY_UNITS = {code: unit for code, _, unit in MATERIAL_CATEGORIES}


class Capacity(SelfReported):
    public_id = models.UUIDField("标识", default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, verbose_name="企业", on_delete=models.PROTECT, related_name="capacities"
    )
    category = models.CharField("材料品类", max_length=8, choices=CATEGORY_CHOICES)
    annual_capacity = models.DecimalField(
        "年产能", max_digits=16, decimal_places=3, validators=[MinValueValidator(0, "年产能不能为负数")]
    )
    unit = models.CharField("计量单位", max_length=8)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district")

    class Meta:
        ordering = ["organization__uscc", "category"]
        verbose_name = "产能"
        verbose_name_plural = "产能"
        constraints = [models.UniqueConstraint(fields=["organization", "category"], name="capacity_one_per_category")]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_category_display()} {self.annual_capacity}{self.unit}"

    def clean(self) -> None:
        expected = CATEGORY_UNITS.get(self.category)
        if expected and self.unit != expected:
            raise ValidationError(
                {"unit": ValidationError(f"该材料品类的计量单位应为 {expected}", code="unit_mismatch")}
            )

    def get_absolute_url(self) -> str:
        return reverse("registry:capacity_detail", args=[self.pk])


class PersonRole(models.TextChoices):
    MATERIAL_CLERK = "材料员", "材料员"
    WITNESS = "见证人", "见证人"
    SAMPLER = "取样员", "取样员"
    PROJECT_MANAGER = "项目经理", "项目经理"
    TESTER = "检测员", "检测员"
    QUALITY_INSPECTOR = "质量员", "质量员"
    CHIEF_SUPERVISOR = "总监理工程师", "总监理工程师"
    SUPERVISOR_ENGINEER = "监理工程师", "监理工程师"
    TECHNICAL_LEAD = "技术负责人", "技术负责人"
    OTHER = "其他", "其他"


class Person(SelfReported):
    public_id = models.UUIDField("标识", default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, verbose_name="所属企业", on_delete=models.PROTECT, related_name="persons"
    )
    name = models.CharField("姓名", max_length=64, db_index=True)
    # The ID number is stored encrypted; the digest (keyed) finds duplicates, the mask is what anyone sees.
    id_number_encrypted = models.TextField()
    id_number_digest = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField("身份证号", max_length=18)
    role = models.CharField("岗位", max_length=16, choices=PersonRole.choices)
    phone = models.CharField("联系电话", max_length=32, blank=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district")
    audit_exclude: tuple[str, ...] = ("id_number_encrypted", "id_number_digest")

    class Meta:
        ordering = ["organization__uscc", "name"]
        verbose_name = "人员"
        verbose_name_plural = "人员"

    def __str__(self) -> str:
        return f"{self.name}（{self.role}）"

    def get_absolute_url(self) -> str:
        return reverse("registry:person_detail", args=[self.pk])

    def reveal_id_number(self) -> str:
        """The clear ID number, for the code paths that must compare it (never rendered)."""
        return decrypt_text(self.id_number_encrypted)


class PersonCertificate(models.Model):
    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.CASCADE, related_name="certificates")
    name = models.CharField("证书名称", max_length=64)
    certificate_no = models.CharField("证书编号", max_length=64)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("person__organization",), district="person__organization__district")

    class Meta:
        ordering = ["person", "certificate_no"]
        verbose_name = "人员证书"
        verbose_name_plural = "人员证书"
        constraints = [
            models.UniqueConstraint(fields=["person", "certificate_no"], name="certificate_unique_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.certificate_no}"

    def get_absolute_url(self) -> str:
        return self.person.get_absolute_url()


class StructureType(models.TextChoices):
    MASONRY = "砖混", "砖混"
    FRAME = "框架", "框架"
    SHEAR_WALL = "剪力墙", "剪力墙"
    FRAME_SHEAR_WALL = "框架-剪力墙", "框架-剪力墙"
    FRAME_CORE_TUBE = "框架-核心筒", "框架-核心筒"
    STEEL = "钢结构", "钢结构"
    OTHER = "其他", "其他"


class ProjectType(models.TextChoices):
    RESIDENTIAL = "住宅", "住宅"
    SCHOOL = "学校", "学校"
    HOSPITAL = "医院", "医院"
    OFFICE = "办公楼", "办公楼"
    COMMERCIAL = "商业综合体", "商业综合体"
    EXHIBITION = "展览馆", "展览馆"
    STADIUM = "体育馆", "体育馆"
    AFFORDABLE_HOUSING = "保障性住房", "保障性住房"
    MUNICIPAL = "市政", "市政"
    OTHER = "其他", "其他"


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", "未开工"
    UNDER_CONSTRUCTION = "under_construction", "在建"
    SUSPENDED = "suspended", "停工"
    COMPLETED = "completed", "已竣工"


class Project(SelfReported):
    project_code = models.CharField("项目编号", max_length=32, unique=True)
    name = models.CharField("项目名称", max_length=200, db_index=True)
    district = models.ForeignKey(District, verbose_name="所在区", on_delete=models.PROTECT, related_name="projects")
    builder = models.ForeignKey(
        Organization, verbose_name="建设单位", on_delete=models.PROTECT, related_name="built_projects"
    )
    contractor = models.ForeignKey(
        Organization,
        verbose_name="施工单位",
        on_delete=models.PROTECT,
        related_name="contracted_projects",
        null=True,
        blank=True,
    )
    supervisor = models.ForeignKey(
        Organization,
        verbose_name="监理单位",
        on_delete=models.PROTECT,
        related_name="supervised_projects",
        null=True,
        blank=True,
    )
    floor_area = models.DecimalField(
        "建筑面积(㎡)",
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"), "建筑面积必须大于0")],
    )
    structure_type = models.CharField("结构型式", max_length=16, choices=StructureType.choices)
    project_type = models.CharField("工程类别", max_length=16, choices=ProjectType.choices)
    budget = models.DecimalField(
        "投资额(万元)",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0, "投资额不能为负数")],
    )
    government_funded = models.BooleanField("政府投资", default=False)
    start_date = models.DateField("开工日期", null=True, blank=True)
    completion_date = models.DateField("竣工日期", null=True, blank=True)
    status = models.CharField("项目状态", max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)

    objects = ScopedQuerySet.as_manager()
    # Builder, contractor and supervisor all see the project; the builder maintains it.
    access_scope = AccessScope(
        owners=("builder", "contractor", "supervisor"), district="district", editors=("builder",)
    )

    class Meta:
        ordering = ["-start_date", "project_code"]
        verbose_name = "工程项目"
        verbose_name_plural = "工程项目"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(completion_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(completion_date__gte=models.F("start_date")),
                name="project_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_code} {self.name}"

    def clean(self) -> None:
        if self.start_date and self.completion_date and self.completion_date < self.start_date:
            raise ValidationError({"completion_date": ValidationError("竣工日期不能早于开工日期", code="date_order")})

    def get_absolute_url(self) -> str:
        return reverse("registry:project_detail", args=[self.project_code])


class Verification(models.Model):
    """One verdict of a regulator on a self-reported item. Append-only: later verdicts add rows."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    item_repr = models.CharField("核实对象", max_length=255)
    item_version = models.PositiveIntegerField("对象版本")
    verdict = models.CharField("核实结论", max_length=16, choices=Verdict.choices)
    reason = models.TextField("理由")
    organization = models.ForeignKey(
        Organization, verbose_name="被核实企业", on_delete=models.PROTECT, related_name="verifications_received"
    )
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    verifier_name = models.CharField("核实人", max_length=150)
    verifier_organization_name = models.CharField("核实机构", max_length=200)
    created_at = models.DateTimeField("核实时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    access_scope = AccessScope(owners=("organization",), district="organization__district")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "核实记录"
        verbose_name_plural = "核实记录"
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.item_repr}：{self.get_verdict_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("核实记录不可修改")
        super().save(*args, **kwargs)
