"""Input of yearly statistics and targets; the actions check the region and store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from jiancai.accounts.models import District

from .formulas import INPUTS
from .models import Target
from .regions import CITY, region_choices


class RegionField(forms.ChoiceField):
    def __init__(self, user: Any, **kwargs: Any) -> None:
        super().__init__(choices=region_choices(user), label="区域", **kwargs)


def district_of(value: str) -> District | None:
    return None if value == CITY else District.objects.get(code=value)


class StatisticForm(forms.Form):
    """Region and year (fixed when editing), then every figure; an empty figure is taken from the platform."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionField(user, disabled=fixed)
        self.fields["year"] = forms.IntegerField(
            label="年度",
            min_value=2000,
            max_value=2100,
            disabled=fixed,
            initial=timezone.localdate().year,
            error_messages={"min_value": "年度不能早于2000年", "max_value": "年度不能晚于2100年"},
        )
        for spec in INPUTS:
            self.fields[spec.code] = forms.DecimalField(
                label=f"{spec.label}（{spec.unit}）",
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=3,
                error_messages={"min_value": "不能为负数", "invalid": "请输入数字"},
            )
        self.fields["source"] = forms.CharField(label="数据来源", required=False, max_length=200)
        self.fields["note"] = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
        self.order_fields(["region", "year"])

    def figures(self) -> dict[str, Any]:
        return {spec.code: self.cleaned_data.get(spec.code) for spec in INPUTS}


class TargetForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = ["indicator", "value", "direction", "deadline", "basis"]
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"value": "比率类指标填百分数（如 85 表示 85%）；数量类指标按指标单位填写"}

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionField(user)
        self.fields["deadline"].initial = dt.date(timezone.localdate().year, 12, 31)
        if self.instance.pk:
            self.fields["region"].initial = self.instance.district.code if self.instance.district else CITY
            self.fields["expected_version"].initial = self.instance.version
        self.order_fields(["region", "indicator", "direction", "value", "deadline", "basis"])


class ReportForm(forms.Form):
    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionField(user)
        today = timezone.localdate()
        last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        self.fields["month"] = forms.CharField(
            label="月份", initial=last_month, widget=forms.TextInput(attrs={"type": "month"})
        )
        self.fields["year"] = forms.IntegerField(label="年度", initial=today.year, min_value=2000, max_value=2100)

    def clean_month(self) -> dt.date:
        value = self.cleaned_data["month"]
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError as exc:
            raise forms.ValidationError("月份格式应为 YYYY-MM，如 2026-11") from exc
