"""Forms of the regulators' notice pages. They parse input; actions decide what may be stored."""

from __future__ import annotations

from typing import Any

from django import forms

from jiancai.accounts.models import District
from jiancai.accounts.roles import OrgType
from jiancai.registry.forms import VersionedForm

from .models import Notice


class NoticeForm(VersionedForm):
    class Meta:
        model = Notice
        fields = ["title", "category", "district", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14, "cols": 80})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = self.fields["district"]
        assert isinstance(district, forms.ModelChoiceField)  # noqa: S101  (the model field is a foreign key)
        org = self.user.organization
        if org is not None and org.org_type == OrgType.DISTRICT_REGULATOR:
            district.queryset = District.objects.filter(id=org.district_id or 0)
            district.required = True
            district.initial = org.district_id
            district.empty_label = None
        else:
            district.empty_label = "全市"
        self.fields["body"].help_text = "公开发布的正文；请勿包含个人身份证号、手机号等个人信息"


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="撤回原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
