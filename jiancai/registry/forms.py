"""Web forms of the registries. Choices of related rows come through the visibility funnel."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from jiancai.accounts.access import Action, restrict
from jiancai.accounts.models import Organization, OrganizationKind, User, Verdict
from jiancai.accounts.validators import validate_uscc

from .models import Capacity, Person, PersonCertificate, Project, Qualification

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VersionedForm(forms.ModelForm):
    """Carries the version the user started editing, so a stale edit is refused instead of lost."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk and hasattr(self.instance, "version"):
            self.fields["expected_version"].initial = self.instance.version

    def data_for_action(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}  # type: ignore[union-attr]


def editable_organizations(user: User) -> Any:
    """The enterprises a user may file registry records for (an enterprise user: its own).

    Not Organization's CHANGE rule, which is about editing the enterprise itself (org_admin, system_admin) and would
    leave staff, who maintain registry records, with an empty choice. save_record checks the owner after the change.
    """
    return restrict(Organization.objects.enterprises(), user, Action.VIEW).order_by("name")


class EnterpriseForm(VersionedForm):
    kinds = forms.ModelMultipleChoiceField(
        queryset=OrganizationKind.objects.all(), widget=forms.CheckboxSelectMultiple, label="企业类型", required=True
    )

    class Meta:
        model = Organization
        fields = ["uscc", "name", "district", "legal_representative", "address", "phone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].required = True
        self.fields["kinds"].error_messages["required"] = "请至少选择一种企业类型"
        if self.instance.pk:
            self.fields["kinds"].initial = list(self.instance.kinds.all())
            if not self.user.is_regulator:
                # The USCC identifies the enterprise; only the registering regulator may correct it.
                self.fields["uscc"].disabled = True

    def clean_uscc(self) -> str:
        value = (self.cleaned_data.get("uscc") or "").strip().upper()
        validate_uscc(value)
        return value


class QualificationForm(VersionedForm):
    class Meta:
        model = Qualification
        fields = ["organization", "certificate_no", "qualification_type", "grade", "issued_on", "valid_until", "status"]
        widgets = {"issued_on": DATE, "valid_until": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = editable_organizations(self.user)


class CapacityForm(VersionedForm):
    class Meta:
        model = Capacity
        fields = ["organization", "category", "annual_capacity", "unit"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = editable_organizations(self.user)
        self.fields["unit"].help_text = "须与材料品类的计量单位一致，如钢筋为 t、预拌混凝土为 m³"


class PersonForm(VersionedForm):
    id_number = forms.CharField(label="身份证号", max_length=18, required=False)

    class Meta:
        model = Person
        fields = ["organization", "name", "role", "phone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = editable_organizations(self.user)
        if self.instance.pk:
            self.fields["id_number"].help_text = f"当前：{self.instance.id_number_masked}；不修改请留空"
        else:
            self.fields["id_number"].required = True


class PersonCertificateForm(forms.ModelForm):
    class Meta:
        model = PersonCertificate
        fields = ["name", "certificate_no", "issued_on", "valid_until"]
        widgets = {"issued_on": DATE, "valid_until": DATE}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def data_for_action(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}  # type: ignore[union-attr]


class EnterpriseByUsccField(forms.ModelChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Organization.objects.enterprises(),
            to_field_name="uscc",
            widget=forms.TextInput(attrs={"placeholder": "统一社会信用代码"}),
            error_messages={"invalid_choice": "未找到该统一社会信用代码对应的企业"},
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            org = Organization.objects.filter(pk=value).only("uscc").first()
            return org.uscc if org else value
        return super().prepare_value(value)


class ProjectForm(VersionedForm):
    contractor = EnterpriseByUsccField(label="施工单位", required=False)
    supervisor = EnterpriseByUsccField(label="监理单位", required=False)

    class Meta:
        model = Project
        fields = [
            "project_code",
            "name",
            "district",
            "builder",
            "contractor",
            "supervisor",
            "floor_area",
            "structure_type",
            "project_type",
            "budget",
            "government_funded",
            "start_date",
            "completion_date",
            "status",
        ]
        widgets = {"start_date": DATE, "completion_date": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["builder"]).queryset = editable_organizations(self.user)
        if self.instance.pk:
            self.fields["project_code"].disabled = True


class VerifyForm(forms.Form):
    verdict = forms.ChoiceField(label="核实结论", choices=Verdict.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
