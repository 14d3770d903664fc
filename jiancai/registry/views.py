"""Pages of the registries: lists, details with history and verification, create and edit forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from jiancai.accounts.access import Action, can, get_for, restrict, role_allows
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.models import Organization, SelfReported
from jiancai.audit.models import AuditEvent
from jiancai.ui.lists import Column, ScopedListView
from jiancai.ui.pages import Saver, form_page, require_change

from . import actions, filters, forms
from .models import Capacity, Person, PersonCertificate, Project, Qualification, Verification


def _verdict(obj: Any) -> str:
    return str(obj.get_verification_status_display())


class EnterpriseList(ScopedListView):
    model = Organization
    filterset_class = filters.EnterpriseFilter
    title = "企业库"
    create_url_name = "registry:enterprise_create"
    prefetch = ("kinds",)
    related = ("district",)
    columns = (
        Column("企业名称", "name"),
        Column("统一社会信用代码", "uscc"),
        Column("企业类型", lambda o: [k.name for k in o.kinds.all()]),
        Column("所在区", "district.name"),
        Column("法定代表人", "legal_representative"),
        Column("联系电话", "phone"),
        Column("核实状态", _verdict),
    )

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().filter(org_type="enterprise")

    def can_create(self) -> bool:
        return acting_user(self.request).is_regulator and super().can_create()


class QualificationList(ScopedListView):
    model = Qualification
    filterset_class = filters.QualificationFilter
    title = "资质证书"
    create_url_name = "registry:qualification_create"
    related = ("organization",)
    columns = (
        Column("证书编号", "certificate_no"),
        Column("企业", "organization.name"),
        Column("资质类别", "qualification_type"),
        Column("资质等级", "grade"),
        Column("发证日期", "issued_on"),
        Column("有效期至", "valid_until"),
        Column("状态", "status"),
        Column("核实状态", _verdict),
    )


class CapacityList(ScopedListView):
    model = Capacity
    filterset_class = filters.CapacityFilter
    title = "产能"
    create_url_name = "registry:capacity_create"
    related = ("organization",)
    columns = (
        Column("企业", "organization.name"),
        Column("材料品类", "category"),
        Column("年产能", "annual_capacity"),
        Column("计量单位", "unit"),
        Column("核实状态", _verdict),
    )


class PersonList(ScopedListView):
    model = Person
    filterset_class = filters.PersonFilter
    title = "人员库"
    create_url_name = "registry:person_create"
    related = ("organization",)
    columns = (
        Column("姓名", "name"),
        Column("身份证号", "id_number_masked"),
        Column("岗位", "role"),
        Column("所属企业", "organization.name"),
        Column("联系电话", "phone"),
        Column("核实状态", _verdict),
    )


class ProjectList(ScopedListView):
    model = Project
    filterset_class = filters.ProjectFilter
    title = "工程项目库"
    create_url_name = "registry:project_create"
    related = ("district", "builder", "contractor")
    columns = (
        Column("项目编号", "project_code"),
        Column("项目名称", "name"),
        Column("所在区", "district.name"),
        Column("建设单位", "builder.name"),
        Column("施工单位", "contractor.name"),
        Column("建筑面积(㎡)", "floor_area"),
        Column("结构型式", "structure_type"),
        Column("开工日期", "start_date"),
        Column("项目状态", "status"),
        Column("核实状态", _verdict),
    )


def _fields(obj: models.Model, names: list[str]) -> list[tuple[str, Any]]:
    rows = []
    for name in names:
        field = obj._meta.get_field(name)
        label = getattr(field, "verbose_name", name)
        display = getattr(obj, f"get_{name}_display", None)
        rows.append((str(label), display() if display else getattr(obj, name)))
    return rows


def _section(title: str, items: Any, names: list[str], link: Callable[[Any], str] | None = None) -> dict[str, Any]:
    """A table of related rows on a detail page: the named fields as columns, the first linking to the row."""
    rows = []
    for item in items:
        values = [value for _, value in _fields(item, names)]
        rows.append({"url": link(item) if link else item.get_absolute_url(), "values": values})
    headers = [str(getattr(items.model._meta.get_field(n), "verbose_name", n)) for n in names]
    return {"title": title, "headers": headers, "rows": rows}


def _history(obj: models.Model) -> list[tuple[AuditEvent, list[tuple[str, Any, Any]]]]:
    """The record's audit rows, with field names turned into their Chinese labels."""
    labels = {f.name: str(f.verbose_name) for f in obj._meta.concrete_fields}
    events = AuditEvent.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk)).order_by("-seq")[:50]
    rows = []
    for event in events:
        changes = [
            (labels.get(name, name), *(value if isinstance(value, list) and len(value) == 2 else (None, value)))
            for name, value in (event.changes or {}).items()
        ]
        rows.append((event, changes))
    return rows


def _verifications(obj: models.Model) -> Any:
    ct = ContentType.objects.get_for_model(type(obj))
    return Verification.objects.filter(content_type=ct, object_id=obj.pk)


def _detail(
    request: HttpRequest, obj: SelfReported, title: str, fields: list[str], edit_url: str, extra: dict[str, Any]
) -> HttpResponse:
    user = request.user
    context = {
        "title": title,
        "obj": obj,
        "fields": _fields(obj, fields),
        "can_edit": can(user, Action.CHANGE, obj),
        "can_verify": can(user, Action.VERIFY, obj),
        "edit_url": edit_url,
        "verify_form": forms.VerifyForm(),
        "verifications": _verifications(obj),
        "history": _history(obj),
        **extra,
    }
    return render(request, "registry/detail.html", context)


@login_required
def enterprise_detail(request: HttpRequest, uscc: str) -> HttpResponse:
    org = get_for(Organization.objects.enterprises().select_related("district"), request.user, uscc=uscc)
    extra = {
        "kinds": org.kind_names(),
        "sections": [
            _section(
                "资质证书",
                org.qualifications.all(),
                ["certificate_no", "qualification_type", "grade", "valid_until", "status", "verification_status"],
            ),
            _section("产能", org.capacities.all(), ["category", "annual_capacity", "unit", "verification_status"]),
            _section("人员", org.persons.all()[:100], ["name", "id_number_masked", "role", "verification_status"]),
        ],
    }
    fields = ["uscc", "name", "district", "legal_representative", "address", "phone", "verification_status"]
    return _detail(request, org, org.name, fields, reverse("registry:enterprise_edit", args=[org.uscc]), extra)


@login_required
def qualification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_for(Qualification.objects.select_related("organization"), request.user, pk=pk)
    fields = ["organization", "certificate_no", "qualification_type", "grade", "issued_on", "valid_until", "status"]
    return _detail(request, obj, str(obj), fields, reverse("registry:qualification_edit", args=[obj.pk]), {})


@login_required
def capacity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_for(Capacity.objects.select_related("organization"), request.user, pk=pk)
    fields = ["organization", "category", "annual_capacity", "unit"]
    return _detail(request, obj, str(obj), fields, reverse("registry:capacity_edit", args=[obj.pk]), {})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_for(Person.objects.select_related("organization"), request.user, pk=pk)
    fields = ["name", "id_number_masked", "role", "organization", "phone"]
    can_edit = can(request.user, Action.CHANGE, obj)
    extra = {
        "sections": [
            _section(
                "证书",
                obj.certificates.all(),
                ["name", "certificate_no", "issued_on", "valid_until"],
                link=(lambda c: reverse("registry:certificate_edit", args=[c.pk])) if can_edit else (lambda c: ""),
            )
        ],
        "add_certificate_url": reverse("registry:certificate_create", args=[obj.pk]),
    }
    return _detail(request, obj, obj.name, fields, reverse("registry:person_edit", args=[obj.pk]), extra)


@login_required
def project_detail(request: HttpRequest, code: str) -> HttpResponse:
    obj = get_for(
        Project.objects.select_related("district", "builder", "contractor", "supervisor"),
        request.user,
        project_code=code,
    )
    fields = list(forms.ProjectForm.Meta.fields)
    return _detail(request, obj, str(obj), fields, reverse("registry:project_edit", args=[obj.project_code]), {})


def _save_simple(request: HttpRequest, instance: models.Model) -> Saver:
    def save(form: Any) -> models.Model:
        return actions.save_record(
            instance=instance,
            data=form.data_for_action(),
            actor=acting_user(request),
            context=audit_context(request),
            expected_version=form.cleaned_data.get("expected_version"),
        )

    return save


def _edit_simple(
    request: HttpRequest, *, model: type[models.Model], form_class: Any, instance: models.Model | None, list_url: str
) -> HttpResponse:
    require_change(request, model)
    creating = instance is None
    instance = instance if instance is not None else model()
    form = form_class(request.POST or None, instance=instance, user=request.user)
    name = model._meta.verbose_name
    return form_page(
        request,
        form=form,
        title=f"新增{name}" if creating else f"修改{name}：{instance}",
        save=_save_simple(request, instance),
        cancel_url=list_url if creating else instance.get_absolute_url(),  # type: ignore[attr-defined]
        success=f"{name}已保存",
    )


@login_required
def qualification_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_for(Qualification.objects.all(), request.user, Action.CHANGE, pk=pk) if pk else None
    return _edit_simple(
        request,
        model=Qualification,
        form_class=forms.QualificationForm,
        instance=instance,
        list_url=reverse("registry:qualification_list"),
    )


@login_required
def capacity_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_for(Capacity.objects.all(), request.user, Action.CHANGE, pk=pk) if pk else None
    return _edit_simple(
        request,
        model=Capacity,
        form_class=forms.CapacityForm,
        instance=instance,
        list_url=reverse("registry:capacity_list"),
    )


@login_required
def project_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    instance = get_for(Project.objects.all(), request.user, Action.CHANGE, project_code=code) if code else None
    return _edit_simple(
        request,
        model=Project,
        form_class=forms.ProjectForm,
        instance=instance,
        list_url=reverse("registry:project_list"),
    )


@login_required
def enterprise_edit(request: HttpRequest, uscc: str | None = None) -> HttpResponse:
    require_change(request, Organization)
    user = acting_user(request)
    if uscc:
        instance = get_for(Organization.objects.enterprises(), user, Action.CHANGE, uscc=uscc)
    elif user.is_regulator:
        instance = Organization()
    else:
        raise PermissionDenied("企业由住建委系统管理员登记入库")
    form = forms.EnterpriseForm(request.POST or None, instance=instance, user=user)

    def save(f: Any) -> models.Model:
        return actions.save_enterprise(
            instance=instance,
            data=f.data_for_action(),
            kinds=f.cleaned_data["kinds"],
            actor=user,
            context=audit_context(request),
            expected_version=f.cleaned_data.get("expected_version"),
        )

    return form_page(
        request,
        form=form,
        title=f"修改企业：{instance.name}" if uscc else "企业登记",
        save=save,
        cancel_url=instance.get_absolute_url() if uscc else reverse("registry:enterprise_list"),
        success="企业信息已保存",
    )


@login_required
def person_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_change(request, Person)
    instance = get_for(Person.objects.all(), request.user, Action.CHANGE, pk=pk) if pk else Person()
    form = forms.PersonForm(request.POST or None, instance=instance, user=request.user)

    def save(f: Any) -> models.Model:
        return actions.save_person(
            instance=instance,
            data=f.data_for_action(),
            id_number=f.cleaned_data.get("id_number"),
            actor=acting_user(request),
            context=audit_context(request),
            expected_version=f.cleaned_data.get("expected_version"),
        )

    return form_page(
        request,
        form=form,
        title=f"修改人员：{instance.name}" if pk else "新增人员",
        save=save,
        cancel_url=instance.get_absolute_url() if pk else reverse("registry:person_list"),
        success="人员信息已保存",
    )


@login_required
def certificate_edit(request: HttpRequest, pk: int | None = None, cert: int | None = None) -> HttpResponse:
    """Add a certificate to a person (pk) or change one (cert)."""
    if cert is not None:
        instance = get_for(PersonCertificate.objects.select_related("person"), request.user, Action.CHANGE, pk=cert)
        person = instance.person
    else:
        person = get_for(Person.objects.all(), request.user, Action.CHANGE, pk=pk)
        instance = PersonCertificate(person=person)
    form = forms.PersonCertificateForm(request.POST or None, instance=instance, user=acting_user(request))
    return form_page(
        request,
        form=form,
        title=f"修改{person.name}的证书" if cert is not None else f"为{person.name}新增证书",
        save=_save_simple(request, instance),
        cancel_url=person.get_absolute_url(),
        success="证书已保存",
    )


VERIFIABLE: dict[str, tuple[type[SelfReported], str]] = {
    "enterprise": (Organization, "uscc"),
    "qualification": (Qualification, "pk"),
    "capacity": (Capacity, "pk"),
    "person": (Person, "pk"),
    "project": (Project, "project_code"),
}


@login_required
@require_POST
def verify(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    if kind not in VERIFIABLE:
        raise PermissionDenied("未知的核实对象")
    model, field = VERIFIABLE[kind]
    # A regulator is not a registry item (its enterprise page is a 404): only enterprises are verified.
    items: models.QuerySet[Any] = (
        Organization.objects.enterprises() if model is Organization else model._default_manager.all()
    )
    item = get_for(items, request.user, Action.VERIFY, **{field: key})
    form = forms.VerifyForm(request.POST)
    if form.is_valid():
        try:
            actions.verify_item(
                item=item,
                verdict=form.cleaned_data["verdict"],
                reason=form.cleaned_data["reason"],
                actor=acting_user(request),
                context=audit_context(request),
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "核实结论已记录")
    else:
        for field_name, errors in form.errors.items():
            label = form.fields[field_name].label if field_name in form.fields else ""
            messages.error(request, f"{label}：{'；'.join(str(e) for e in errors)}")
    return redirect(item.get_absolute_url())


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The workbench: what the user may see, counted through the funnel."""
    user = request.user
    cards = []
    sources: tuple[tuple[str, models.QuerySet[Any], str], ...] = (
        ("企业", Organization.objects.enterprises(), "registry:enterprise_list"),
        ("资质证书", Qualification.objects.all(), "registry:qualification_list"),
        ("人员", Person.objects.all(), "registry:person_list"),
        ("工程项目", Project.objects.all(), "registry:project_list"),
    )
    for label, qs, url in sources:
        if role_allows(user, qs.model, Action.VIEW):
            visible = restrict(qs, user, Action.VIEW)
            cards.append(
                {
                    "label": label,
                    "count": visible.count(),
                    "url": url,
                    "pending": visible.filter(verification_status="pending").count(),
                }
            )
    return render(request, "registry/home.html", {"title": "工作台", "cards": cards})
