"""Forms of the monitoring pages: they only collect input; the rules are the actions'."""

from __future__ import annotations

from typing import Any

from django import forms

from jiancai.accounts.models import Organization

from .actions import ALLOWED_TYPES_TEXT, MAX_ATTACHMENTS
from .models import CaseOutcome


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); the list goes to the action, which checks it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.xlsx,.docx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, (list, tuple)):
            return [f for f in data if f]
        return [data] if data else []


class NoteForm(forms.Form):
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RequestExplanationForm(forms.Form):
    note = forms.CharField(label="需要说明的事项", widget=forms.Textarea(attrs={"rows": 3}))
    deadline = forms.DateField(
        label="说明期限", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="可不填"
    )


class ExplainForm(forms.Form):
    note = forms.CharField(
        label="说明内容", widget=forms.Textarea(attrs={"rows": 4}), error_messages={"required": "请填写说明内容"}
    )
    attachments = MultipleFileField(
        label="附件",
        required=False,
        help_text=f"可选，最多 {MAX_ATTACHMENTS} 个，只接受 {ALLOWED_TYPES_TEXT} 文件",
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="排除理由", widget=forms.Textarea(attrs={"rows": 3}), error_messages={"required": "请填写排除理由"}
    )


class EscalateForm(forms.Form):
    respondent = forms.ChoiceField(label="当事企业")
    grounds = forms.CharField(label="立案理由", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, parties: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parties = {str(o.pk): o for o in parties}
        choices = [("", "请选择")] + [(str(o.pk), f"{o.name}（{o.uscc}）") for o in parties]
        self.fields["respondent"].choices = choices  # type: ignore[attr-defined]

    def chosen_respondent(self) -> Organization | None:
        return self.parties.get(self.cleaned_data.get("respondent") or "")


class CloseCaseForm(forms.Form):
    outcome = forms.ChoiceField(label="处理结果", choices=[("", "请选择")] + [c for c in CaseOutcome.choices if c[0]])
    finding = forms.CharField(label="查处结论", widget=forms.Textarea(attrs={"rows": 3}))
    penalty = forms.CharField(label="处理处罚", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    legal_basis = forms.CharField(label="法律依据", required=False, max_length=200, help_text="属实时必填")


class ParameterForm(forms.Form):
    value = forms.DecimalField(label="新取值", max_digits=14, decimal_places=4)
    reason = forms.CharField(
        label="修改原因", widget=forms.Textarea(attrs={"rows": 3}), error_messages={"required": "请填写修改原因"}
    )

    def __init__(self, *args: Any, label: str, unit: str, help_text: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].label = f"{label}（{unit}）" if unit else label
        self.fields["value"].help_text = help_text


class RuleToggleForm(forms.Form):
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 2}))
