"""The pure scoring function, table-driven: boundaries, caps, publication periods, revoked records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jiancai.credit.models import ScoreModel
from jiancai.credit.scoring import RecordFact, compute_score, rating_of

TODAY = dt.date(2026, 6, 15)


def fact(
    no: str,
    kind: str,
    points: str,
    *,
    severity: str = "B",
    start: str = "2026-01-01",
    end: str = "2026-12-31",
    revoked: bool = False,
) -> RecordFact:
    return RecordFact(
        record_no=no,
        kind=kind,
        severity=severity if kind == "bad" else "",
        points=Decimal(points),
        title=f"记录{no}",
        decided_on=dt.date.fromisoformat(start),
        published_from=dt.date.fromisoformat(start),
        published_until=dt.date.fromisoformat(end),
        revoked=revoked,
    )


MODEL = ScoreModel()  # the defaults: base 100, cap 10, A ≥ 90, B ≥ 80, C ≥ 70; intervals 12/6/3/1 months


@pytest.mark.parametrize(
    ("score", "rating"),
    [
        ("100", "A"),
        ("90", "A"),
        ("90.00", "A"),
        ("89.99", "B"),
        ("80", "B"),
        ("79.99", "C"),
        ("70", "C"),
        ("69.99", "D"),
        ("0", "D"),
    ],
)
def test_rating_boundaries(score: str, rating: str) -> None:
    assert rating_of(Decimal(score), MODEL) == rating


@pytest.mark.parametrize(
    ("facts", "score", "rating"),
    [
        ([], "100.00", "A"),
        ([fact("1", "bad", "10.01")], "89.99", "B"),
        ([fact("1", "bad", "10")], "90.00", "A"),
        ([fact("1", "bad", "10"), fact("2", "bad", "7")], "83.00", "B"),
        # good points are capped at 10
        ([fact("1", "bad", "20"), fact("2", "good", "8"), fact("3", "good", "8")], "90.00", "A"),
        ([fact("2", "good", "8"), fact("3", "good", "8")], "110.00", "A"),
        # expired and not yet published records do not count
        ([fact("1", "bad", "30", end="2026-06-14")], "100.00", "A"),
        ([fact("1", "bad", "30", end="2026-06-15")], "70.00", "C"),
        ([fact("1", "bad", "30", start="2026-06-16")], "100.00", "A"),
        ([fact("1", "bad", "30", revoked=True)], "100.00", "A"),
        # never below zero
        ([fact(str(i), "bad", "40") for i in range(4)], "0.00", "D"),
    ],
)
def test_scores(facts: list[RecordFact], score: str, rating: str) -> None:
    result = compute_score(facts, MODEL, TODAY)
    assert result.score == Decimal(score)
    assert result.rating == rating
    # the lines add up to the score (unless clamped at zero)
    total = sum((line.points for line in result.lines), Decimal(0))
    assert total == result.score or result.score == 0


def test_lines_explain_each_record() -> None:
    facts = [
        fact("XY-1", "bad", "10", severity="A", start="2026-02-01"),
        fact("XY-2", "bad", "5", severity="C", start="2025-01-01", end="2025-06-30"),
        fact("XY-3", "good", "12", start="2026-03-01"),
    ]
    result = compute_score(facts, MODEL, TODAY)
    assert result.score == Decimal("100.00")  # 100 − 10 + min(12, 10)
    assert [(line.kind, line.record_no, str(line.points), line.counted) for line in result.lines] == [
        ("base", "", "100.00", True),
        ("bad", "XY-2", "0", False),
        ("bad", "XY-1", "-10.00", True),
        ("good", "XY-3", "12.00", True),
        ("cap", "", "-2.00", True),
    ]
    assert result.lines[1].note == "已过公示期，不再计分"
    assert result.lines[2].label == "不良行为（严重）：记录XY-1"
    assert result.lines[2].period == "2026-02-01 至 2026-12-31"
    assert result.interval_months == 12


@pytest.mark.parametrize(("rating", "months"), [("A", 12), ("B", 6), ("C", 3), ("D", 1)])
def test_supervision_interval_by_rating(rating: str, months: int) -> None:
    assert MODEL.interval_for(rating) == months
