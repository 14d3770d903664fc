"""The credit score as a pure function: records and a score model in, the score, the rating and the lines out.

`compute_score` reads nothing from the database, so "why is my score 83" is answered by the same lines that
produced 83: the base score, one line per record (counted or not, and why not), and the cap on good points.

    score = base − Σ points of bad records in their publication period
                 + min(Σ points of good records in their publication period, good_cap)

clamped to [0, base + good_cap]. Rating: A ≥ threshold_a, B ≥ threshold_b, C ≥ threshold_c, else D (90/80/70 by
default; 89.99 is B). Records are counted on the days `published_from ≤ on ≤ published_until`; a revoked
record never counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

ZERO = Decimal("0")
CENT = Decimal("0.01")


class ScoreParams(Protocol):
    base_score: Decimal
    good_cap: Decimal
    threshold_a: Decimal
    threshold_b: Decimal
    threshold_c: Decimal

    def interval_for(self, rating: str) -> int: ...


@dataclass(frozen=True)
class RecordFact:
    """What the score needs of one behaviour record."""

    record_no: str
    kind: str  # good | bad
    severity: str
    points: Decimal
    title: str
    decided_on: dt.date
    published_from: dt.date
    published_until: dt.date
    revoked: bool = False

    @classmethod
    def of(cls, record: Any) -> RecordFact:
        return cls(
            record_no=record.record_no,
            kind=record.kind,
            severity=record.severity,
            points=Decimal(record.points),
            title=record.title,
            decided_on=record.decided_on,
            published_from=record.published_from,
            published_until=record.published_until,
            revoked=record.status == "revoked",
        )


@dataclass(frozen=True)
class ScoreLine:
    kind: str  # base | bad | good | cap
    label: str
    points: Decimal  # applied to the score (negative for deductions); zero for lines that do not count
    counted: bool
    note: str = ""
    record_no: str = ""
    severity: str = ""
    period: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "points": str(self.points),
            "counted": self.counted,
            "note": self.note,
            "record_no": self.record_no,
            "severity": self.severity,
            "period": self.period,
        }


@dataclass(frozen=True)
class ScoreResult:
    score: Decimal
    rating: str
    interval_months: int
    lines: list[ScoreLine] = field(default_factory=list)

    def lines_json(self) -> list[dict[str, Any]]:
        return [line.as_json() for line in self.lines]


def rating_of(score: Decimal, params: ScoreParams) -> str:
    if score >= params.threshold_a:
        return "A"
    if score >= params.threshold_b:
        return "B"
    if score >= params.threshold_c:
        return "C"
    return "D"


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


SEVERITY_TEXT = {"A": "严重", "B": "一般", "C": "轻微"}


def compute_score(records: Iterable[RecordFact], params: ScoreParams, on: dt.date) -> ScoreResult:
    """The score on day `on`, with one line per record (ordered by decision date, then number)."""
    base = _q(Decimal(params.base_score))
    cap = _q(Decimal(params.good_cap))
    lines = [ScoreLine(kind="base", label="基础分", points=base, counted=True)]
    deducted = ZERO
    good_total = ZERO
    for fact in sorted(records, key=lambda r: (r.decided_on, r.record_no)):
        period = f"{fact.published_from.isoformat()} 至 {fact.published_until.isoformat()}"
        if fact.kind == "bad":
            label = f"不良行为（{SEVERITY_TEXT.get(fact.severity, fact.severity)}）：{fact.title}"
        else:
            label = f"良好行为：{fact.title}"
        if fact.revoked:
            note, counted = "记录已撤销，不计分", False
        elif on < fact.published_from:
            note, counted = "未到公示期，不计分", False
        elif on > fact.published_until:
            note, counted = "已过公示期，不再计分", False
        else:
            note, counted = "公示期内", True
        points = _q(fact.points)
        applied = ZERO
        if counted and fact.kind == "bad":
            applied = -points
            deducted += points
        elif counted:
            applied = points
            good_total += points
        lines.append(
            ScoreLine(
                kind=fact.kind,
                label=label,
                points=applied,
                counted=counted,
                note=note,
                record_no=fact.record_no,
                severity=fact.severity,
                period=period,
            )
        )
    if good_total > cap:
        lines.append(
            ScoreLine(
                kind="cap",
                label=f"良好行为加分合计 {good_total} 分，超过上限 {cap} 分",
                points=cap - good_total,
                counted=True,
                note="超出部分不计",
            )
        )
        good_total = cap
    score = max(ZERO, min(base + cap, base - deducted + good_total))
    rating = rating_of(score, params)
    return ScoreResult(score=_q(score), rating=rating, interval_months=params.interval_for(rating), lines=lines)
