"""FilterSet of the regulators' notice list."""

from __future__ import annotations

import django_filters as df

from jiancai.registry.filters import SearchFilterSet, district_filter

from .models import Notice, NoticeCategory, NoticeStatus


class NoticeFilter(SearchFilterSet):
    search_fields = ("title", "body")
    q = df.CharFilter(label="标题/正文", method="search")
    category = df.ChoiceFilter(choices=NoticeCategory.choices, label="类别")
    status = df.ChoiceFilter(choices=NoticeStatus.choices, label="状态")
    district = district_filter("district")

    class Meta:
        model = Notice
        fields = ["q", "category", "status", "district"]
