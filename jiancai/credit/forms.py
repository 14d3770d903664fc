"""Input of the credit pages: the record form, revocation, the score model, the partner-region upload."""

from __future__ import annotations

from typing import Any

from django import forms

from jiancai.accounts.validators import validate_uscc

from .models import FORM_SOURCES, RecordKind, RecordSource, ScoreModel, Severity


class RecordForm(forms.Form):
    uscc = forms.CharField(label="企业统一社会信用代码", max_length=18, validators=[validate_uscc])
    kind = forms.ChoiceField(label="记录类型", choices=RecordKind.choices)
    severity = forms.ChoiceField(
        label="不良行为等级",
        choices=[("", "（良好行为不选）"), *[c for c in Severity.choices if c[0]]],
        required=False,
        help_text="A 严重、B 一般、C 轻微；默认扣分与公示期见评分模型",
    )
    source = forms.ChoiceField(label="来源", choices=[(s.value, s.label) for s in RecordSource if s in FORM_SOURCES])
    title = forms.CharField(label="行为名称", max_length=200)
    legal_basis = forms.CharField(label="认定依据", max_length=300, help_text="法律法规、规范性文件条款")
    facts = forms.CharField(label="事实", widget=forms.Textarea(attrs={"rows": 4}))
    evidence = forms.CharField(label="证据材料", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    attachment = forms.FileField(label="附件", required=False, help_text="PDF、JPG、PNG、DOCX、XLSX，不超过 10 MB")
    source_reference = forms.CharField(
        label="来源文号", max_length=100, required=False, help_text="处罚决定书号、检查记录编号等"
    )
    decided_on = forms.DateField(label="认定日期", widget=forms.DateInput(attrs={"type": "date"}))
    points = forms.CharField(label="分值", required=False, help_text="留空按评分模型的默认分值")
    months = forms.CharField(label="公示期（月）", required=False, help_text="留空按评分模型的默认公示期")
    origin_region = forms.CharField(
        label="来源地区", max_length=40, required=False, help_text="外地互认记录填写，如 天津市"
    )
    origin_authority = forms.CharField(label="原认定机关", max_length=100, required=False)
    origin_no = forms.CharField(label="原记录编号", max_length=64, required=False)

    def action_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in data if name not in ("uscc",)}


class RevokeForm(forms.Form):
    reason = forms.CharField(label="撤销理由", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ScoreModelForm(forms.Form):
    """The settings of the score model (field types from the model); the checks across fields are the action's."""

    def __init__(self, data: Any = None, *, initial: dict[str, Any]) -> None:
        super().__init__(data, initial=initial)
        self.fields.update(forms.fields_for_model(ScoreModel, fields=list(ScoreModel.SETTINGS)))
        self.fields["reason"] = forms.CharField(label="修改原因", widget=forms.Textarea(attrs={"rows": 2}))


class PartnerUploadForm(forms.Form):
    file = forms.FileField(label="互认记录文件", help_text="CSV（UTF-8 或 GB18030）或 XLSX，表头见导入模板")
