"""The filing form, generated from the FieldSpecs of filings.schemas.

The form only collects text: every rule (required fields, numbers, dates, references, units, formula text) is
applied by `filings.actions.file_records`, the same code as the API and bulk import, and its field errors are
put back on the form's fields. Pickers limit the choices to what the user may use: projects through the
visibility funnel (as suggestions), categories from the material catalog, the filer fixed to the user's own
organization.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from jiancai.accounts.access import Action, restrict
from jiancai.accounts.models import Organization, User
from jiancai.materials.models import MaterialCategory
from jiancai.registry.models import Project

from .models import FILING_MODELS, Filing
from .schemas import SCHEMAS, FieldError, FieldSpec, RecordSchema


def record_of(obj: Filing) -> dict[str, Any]:
    """A stored version as a record of FORMATS.md: English keys, typed values, references by public code."""
    values: dict[str, Any] = {}
    for spec in SCHEMAS[obj.kind].fields:
        attr = spec.attr or spec.key
        if spec.type == "uscc":
            org = getattr(obj, attr)
            values[spec.key] = org.uscc if org is not None else ""
        elif spec.type == "project":
            project = getattr(obj, attr)
            values[spec.key] = project.project_code if project is not None else ""
        elif spec.type == "category":
            values[spec.key] = getattr(obj, attr).code
        else:
            values[spec.key] = getattr(obj, attr)
    return values


def as_text(value: Any) -> str:
    """A value as the form shows it, and as the schemas parse it back to the same content."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def key_specs(kind: str) -> list[FieldSpec]:
    """The fields that make up the natural key (e.g. supplier_uscc and supply_no)."""
    natural_key = FILING_MODELS[kind].natural_key
    return [s for s in SCHEMAS[kind].fields if (s.attr or s.key) in natural_key]


class ProjectCodeInput(forms.TextInput):
    """A project code: typed, or picked from the projects the user sees.

    Not a <select>: a supplier, laboratory or plant usually does not see the projects it delivers to (the funnel
    shows an enterprise the projects it builds, contracts or supervises), yet files records naming them.
    file_records checks that the project exists.
    """

    template_name = "filings/widgets/datalist.html"

    def __init__(self, options: list[tuple[str, str]]) -> None:
        super().__init__(attrs={"placeholder": "项目编号", "autocomplete": "off"})
        self.options = options

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        datalist_id = f"{(attrs or {}).get('id') or name}-options"
        context = super().get_context(name, value, {**(attrs or {}), "list": datalist_id})
        context["widget"].update(datalist_id=datalist_id, options=self.options)
        return context


def project_options(user: User) -> list[tuple[str, str]]:
    projects = restrict(Project.objects.all(), user, Action.VIEW).order_by("project_code")
    return [(code, f"{code} {name}") for code, name in projects.values_list("project_code", "name")[:500]]


# Higher apps add a note to each supplier's name in the purchase form's supplier picker (the credit app: the
# supplier's credit rating), so a contractor sees it while choosing; filings never imports them. A note function
# takes organization ids and returns {id: note}.
SUPPLIER_NOTES: list[Callable[[list[int]], dict[int, str]]] = []
SUPPLIER_KINDS = ("supplier", "producer", "concrete_plant", "mortar_plant")
SUPPLIER_OPTIONS_MAX = 500


def supplier_options() -> list[tuple[str, str]]:
    """The registered suppliers and producers (public register data), each with the notes of SUPPLIER_NOTES."""
    suppliers = list(
        Organization.objects.enterprises()
        .filter(kinds__code__in=SUPPLIER_KINDS)
        .distinct()
        .order_by("name")
        .values_list("pk", "uscc", "name")[:SUPPLIER_OPTIONS_MAX]
    )
    notes: dict[int, list[str]] = {}
    ids = [pk for pk, _, _ in suppliers]
    for annotate in SUPPLIER_NOTES:
        for pk, note in annotate(ids).items():
            notes.setdefault(pk, []).append(note)
    return [(uscc, " ".join([name, *notes.get(pk, [])])) for pk, uscc, name in suppliers]


class EnterpriseCodeInput(ProjectCodeInput):
    """A supplier's USCC: typed, or picked from the registered suppliers (with their notes, e.g. credit rating)."""

    def __init__(self, options: list[tuple[str, str]]) -> None:
        super().__init__(options)
        self.attrs = {
            "placeholder": "18位统一社会信用代码，可输入企业名称选择",
            "maxlength": "18",
            "autocomplete": "off",
        }


def category_choices() -> list[tuple[str, str]]:
    rows = MaterialCategory.objects.values_list("code", "name", "unit")
    return [("", "请选择材料品类")] + [(code, f"{name}（{unit}）") for code, name, unit in rows]


def _widget(spec: FieldSpec, user: User) -> forms.Widget:
    if spec.type == "date":
        return forms.DateInput(attrs={"type": "date"})
    if spec.type == "datetime":
        return forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})
    if spec.type in ("decimal", "int"):
        return forms.TextInput(attrs={"inputmode": "decimal"})
    if spec.type == "uscc" and spec.attr == "supplier":
        return EnterpriseCodeInput(supplier_options())
    if spec.type == "uscc":
        return forms.TextInput(attrs={"placeholder": "18位统一社会信用代码", "maxlength": "18"})
    if spec.type == "project":
        return ProjectCodeInput(project_options(user))
    if spec.type == "category":
        return forms.Select(choices=category_choices())
    if spec.type == "choice":
        return forms.Select(choices=[("", "请选择"), *((c, c) for c in spec.choices)])
    if spec.max_length > 200:
        return forms.Textarea(attrs={"rows": 3})
    return forms.TextInput()


HELP = {
    "unit": "须与材料品类的计量单位一致，如钢筋为 t、预拌混凝土为 m³",
    "items": "格式：名称=数值单位;…，如 屈服强度=455MPa;抗拉强度=610MPa",
    "grade": "C15–C80，可带抗渗等级，如 C30P8",
}


class FilingForm(forms.Form):
    """One record of a kind. `instance` (the current version) makes it a correction: the key stays fixed."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, *, schema: RecordSchema, user: User, instance: Filing | None = None) -> None:
        super().__init__(data)
        self.schema, self.user, self.instance = schema, user, instance
        fixed = {s.key for s in key_specs(schema.kind)} if instance is not None else set()
        initial = {k: as_text(v) for k, v in record_of(instance).items()} if instance is not None else {}
        for spec in schema.fields:
            field = forms.CharField(label=spec.header, required=False, widget=_widget(spec, user))
            field.help_text = HELP.get(spec.key, "")
            # Shown as a required mark; the rule itself is applied by file_records.
            field.marked_required = spec.required  # type: ignore[attr-defined]
            if (spec.attr or spec.key) == "filer":
                field.initial = user.organization.uscc if user.organization else ""
                field.disabled = True
                field.help_text = "本单位，不可修改"
            elif spec.key in fixed:
                field.disabled = True
                field.help_text = "记录编号，修改时不可变更"
            if spec.key in initial and (spec.attr or spec.key) != "filer":
                field.initial = initial[spec.key]
            self.fields[spec.key] = field
        if instance is not None:
            self.fields["expected_version"].initial = instance.version

    def row(self) -> dict[str, str]:
        """The record as file_records takes it (English keys, raw text)."""
        return {spec.key: self.cleaned_data.get(spec.key) or "" for spec in self.schema.fields}

    def expected_versions(self) -> list[int | None] | None:
        if self.instance is None:
            return None
        return [self.cleaned_data.get("expected_version") or self.instance.version]

    def add_row_errors(self, errors: Iterable[FieldError]) -> None:
        for error in errors:
            field = error.field if error.field in self.fields and error.field != "expected_version" else None
            self.add_error(field, error.message)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="撤回原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
