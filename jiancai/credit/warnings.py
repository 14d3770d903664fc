"""Credit warning (信用预警), registered with `monitoring.warnings` (which never imports credit).

Per month, from the score history:

- an enterprise whose rating fell, or whose score fell by at least `ENTERPRISE_FALL_POINTS`, between the start and
  the end of the month (topic 企业信用下降), with the scores, ratings and the records that moved it;
- a material category whose suppliers' average score fell by at least `CATEGORY_FALL_POINTS` (topic 品类供应企业信用
  下降). A category's suppliers are the enterprises that filed a current submitted supply of it in the twelve months
  before the end of the month; an enterprise without a score at a moment counts with the model's base score.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from jiancai.accounts.models import Organization
from jiancai.filings.models import FilingStatus, Supply
from jiancai.materials.models import MaterialCategory
from jiancai.monitoring.models import WarningKind, WarningTopic
from jiancai.monitoring.warnings import NewWarning, next_month, register_warning_computer

from .models import BehaviourRecord, CreditScoreHistory, RecordKind, ScoreModel

ENTERPRISE_FALL_POINTS = Decimal("5")
CATEGORY_FALL_POINTS = Decimal("2")
RATING_ORDER = {"A": 0, "B": 1, "C": 2, "D": 3}
EVIDENCE_RECORDS = 10


def _moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _history_at(moment: dt.datetime, field: str) -> Subquery:
    rows = CreditScoreHistory.objects.filter(organization=OuterRef("pk"), computed_at__lt=moment)
    return Subquery(rows.order_by("-computed_at", "-id").values(field)[:1])


def _scores_between(ids: Any, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    rows: Any = (
        Organization.objects.filter(pk__in=ids)
        .annotate(
            score_before=_history_at(start, "score"),
            rating_before=_history_at(start, "rating"),
            score_after=_history_at(end, "score"),
            rating_after=_history_at(end, "rating"),
        )
        .values("pk", "name", "uscc", "district_id", "score_before", "rating_before", "score_after", "rating_after")
    )
    return list(rows)


def _base() -> Decimal:
    model = ScoreModel.objects.order_by("-version").first()
    return model.base_score if model is not None else Decimal("100")


def compute_credit_warnings(month: dt.date) -> list[NewWarning]:
    start, end = _moment(month), _moment(next_month(month))
    return [*_enterprises(month, start, end), *_categories(month, start, end)]


def _enterprises(month: dt.date, start: dt.datetime, end: dt.datetime) -> list[NewWarning]:
    changed = CreditScoreHistory.objects.filter(computed_at__gte=start, computed_at__lt=end).values("organization_id")
    base = _base()
    out: list[NewWarning] = []
    for row in _scores_between(changed, start, end):
        before = row["score_before"] if row["score_before"] is not None else base
        rating_before = row["rating_before"] or ""
        after, rating_after = row["score_after"], row["rating_after"]
        if after is None:
            continue
        fall = before - after
        rating_fell = bool(rating_before) and RATING_ORDER[rating_after] > RATING_ORDER[rating_before]
        if not rating_fell and fall < ENTERPRISE_FALL_POINTS:
            continue
        records = BehaviourRecord.objects.filter(
            organization_id=row["pk"], kind=RecordKind.BAD, decided_on__gte=month, decided_on__lt=next_month(month)
        ).order_by("decided_on", "record_no")[:EVIDENCE_RECORDS]
        rating_text = f"，信用等级由 {rating_before} 级降为 {rating_after} 级" if rating_fell else ""
        out.append(
            NewWarning(
                kind=WarningKind.CREDIT,
                topic=WarningTopic.CREDIT_FALL,
                value=after,
                threshold=before - ENTERPRISE_FALL_POINTS,
                message=f"{row['name']} 本月信用分由 {before} 降至 {after}（下降 {fall} 分）{rating_text}",
                evidence={
                    "uscc": row["uscc"],
                    "score_before": str(before),
                    "score_after": str(after),
                    "rating_before": rating_before or "未评级",
                    "rating_after": rating_after,
                    "fall_threshold": str(ENTERPRISE_FALL_POINTS),
                    "records": [
                        f"{r.record_no} {r.title}（{r.get_severity_display()}，扣 {r.points} 分，{r.decided_on}）"
                        for r in records
                    ],
                },
                district_id=row["district_id"],
                organization_id=row["pk"],
            )
        )
    return out


def _categories(month: dt.date, start: dt.datetime, end: dt.datetime) -> list[NewWarning]:
    window_start = next_month(month).replace(year=next_month(month).year - 1)
    pairs = (
        Supply.objects.filter(
            is_current=True,
            status=FilingStatus.SUBMITTED,
            delivery_date__gte=window_start,
            delivery_date__lt=next_month(month),
        )
        .values_list("category_id", "filer_id")
        .distinct()
        .order_by()
    )
    suppliers: dict[int, set[int]] = defaultdict(set)
    for category_id, filer_id in pairs:
        suppliers[category_id].add(filer_id)
    if not suppliers:
        return []
    all_ids = set().union(*suppliers.values())
    base = _base()
    scores = {row["pk"]: row for row in _scores_between(all_ids, start, end)}
    names = dict(MaterialCategory.objects.filter(pk__in=suppliers).values_list("pk", "name"))

    def at(i: int, key: str) -> Decimal:
        value = scores[i][key]
        return base if value is None else Decimal(value)

    out: list[NewWarning] = []
    for category_id, ids in sorted(suppliers.items()):
        before = [at(i, "score_before") for i in ids]
        after = [at(i, "score_after") for i in ids]
        avg_before = (sum(before, Decimal(0)) / len(ids)).quantize(Decimal("0.01"))
        avg_after = (sum(after, Decimal(0)) / len(ids)).quantize(Decimal("0.01"))
        fall = avg_before - avg_after
        if fall < CATEGORY_FALL_POINTS:
            continue
        fallen = sorted(
            (i for i in ids if at(i, "score_after") < at(i, "score_before")),
            key=lambda i: (at(i, "score_after") - at(i, "score_before"), i),
        )
        out.append(
            NewWarning(
                kind=WarningKind.CREDIT,
                topic=WarningTopic.CATEGORY_CREDIT_FALL,
                value=avg_after,
                threshold=avg_before - CATEGORY_FALL_POINTS,
                message=(
                    f"{names.get(category_id, '')} 供应企业本月平均信用分由 {avg_before} 降至 {avg_after}"
                    f"（下降 {fall} 分，{len(ids)} 家供应企业）"
                ),
                evidence={
                    "suppliers": len(ids),
                    "average_before": str(avg_before),
                    "average_after": str(avg_after),
                    "fall_threshold": str(CATEGORY_FALL_POINTS),
                    "fallen": [
                        f"{scores[i]['name']}（{scores[i]['uscc']}）：{at(i, 'score_before')} → {at(i, 'score_after')}"
                        for i in fallen[:EVIDENCE_RECORDS]
                    ],
                },
                category_id=category_id,
            )
        )
    return out


register_warning_computer(
    "credit",
    topics=(WarningTopic.CREDIT_FALL, WarningTopic.CATEGORY_CREDIT_FALL),
    compute=compute_credit_warnings,
)
