"""Forms of the blacklist pages: they only collect input; the rules are in actions."""

from __future__ import annotations

from typing import Any

from django import forms

from jiancai.accounts.models import District, Organization
from jiancai.monitoring.actions import ALLOWED_TYPES_TEXT, MAX_ATTACHMENTS
from jiancai.monitoring.forms import MultipleFileField

from .actions import MAX_PERIOD_MONTHS
from .models import RestrictionKind

DATE = forms.DateInput(attrs={"type": "date"})


class EnterpriseField(forms.CharField):
    """An enterprise by its unified social credit code."""

    def clean(self, value: Any) -> Organization | None:
        text = (super().clean(value) or "").strip().upper()
        if not text:
            return None
        org = Organization.objects.filter(uscc=text).first()
        if org is None:
            raise forms.ValidationError(f"统一社会信用代码“{text}”不是已登记的企业", code="unknown_enterprise")
        return org


class ProposeForm(forms.Form):
    enterprise = EnterpriseField(label="企业统一社会信用代码", max_length=18)
    grounds = forms.CharField(label="列入事由", widget=forms.Textarea(attrs={"rows": 3}))
    legal_basis = forms.CharField(label="法律政策依据", max_length=255)
    evidence = forms.CharField(
        label="证据材料", widget=forms.Textarea(attrs={"rows": 3}), help_text="抽检报告、立案查处结论、文书编号等"
    )
    period_months = forms.IntegerField(label="列入期限（月）", min_value=1, max_value=MAX_PERIOD_MONTHS, initial=12)


class DecisionForm(forms.Form):
    note = forms.CharField(
        label="审批意见", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="不予列入时必填"
    )
    published_on = forms.DateField(label="公布（生效）日期", required=False, widget=DATE, help_text="不填为今天")


class RestrictionForm(forms.Form):
    enterprise = EnterpriseField(label="企业统一社会信用代码", max_length=18)
    kind = forms.ChoiceField(label="限制措施", choices=[("", "请选择"), *RestrictionKind.choices])
    district = forms.ModelChoiceField(
        label="限制区域", queryset=District.objects.all(), required=False, empty_label="全市"
    )
    starts_on = forms.DateField(label="开始日期", widget=DATE)
    ends_on = forms.DateField(label="结束日期", widget=DATE)
    basis = forms.CharField(label="依据", max_length=255)


class RevokeForm(forms.Form):
    reason = forms.CharField(label="撤销理由", widget=forms.Textarea(attrs={"rows": 2}))


class RepairForm(forms.Form):
    statement = forms.CharField(
        label="整改及修复说明",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="说明失信行为的整改情况、已履行的处罚及信用承诺",
    )
    attachments = MultipleFileField(
        label="证明材料",
        required=False,
        help_text=f"至少 1 个，最多 {MAX_ATTACHMENTS} 个，只接受 {ALLOWED_TYPES_TEXT} 文件",
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="审核决定",
        choices=[("", "请选择"), ("approve", "准予修复（移出黑名单、解除限制措施）"), ("reject", "不予修复")],
    )
    reason = forms.CharField(label="审核意见", widget=forms.Textarea(attrs={"rows": 3}), help_text="将随名单一并公布")
