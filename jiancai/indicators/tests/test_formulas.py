"""The seed-004 formulas, on the seed's own numbers: each published figure against the computed value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jiancai.indicators import formulas
from jiancai.indicators.formulas import INDICATOR_BY_CODE, compute_all, percent

from .seed import SEED_2010


@pytest.mark.parametrize(
    ("code", "published"),
    [
        ("bulk_cement_usage_rate", "78.1"),  # 散装水泥使用率78.1％
        ("concrete_capacity_utilization", "47.6"),  # 产能利用率为47.6%
        ("dry_mortar_capacity_utilization", "15.6"),  # 产能利用率为15.6%
        ("mortar_usage_rate", "28.5"),  # 预拌砂浆的使用率为28.5%
        ("wet_mortar_share", "40.7"),  # 占预拌砂浆使用量40.7%
        ("precast_capacity_utilization", "40.6"),  # 平均的设备利用率为仅40.6%
    ],
)
def test_seed_rates_reproduce(code: str, published: str) -> None:
    value = INDICATOR_BY_CODE[code].compute(SEED_2010)
    assert value is not None
    assert percent(value) == Decimal(published)


def test_dry_mortar_is_the_rest_of_the_mortar_used() -> None:
    values = compute_all(SEED_2010)
    dry, wet = values["dry_mortar_share"], values["wet_mortar_share"]
    assert values["dry_mortar_used"] == Decimal("98.7")  # 其余为干混砂浆，使用量为98.7万吨
    assert dry is not None and wet is not None and percent(dry) + percent(wet) == Decimal("100.0")


def test_missing_or_zero_inputs_give_no_value() -> None:
    assert formulas.bulk_cement_usage_rate({"cement_used": Decimal(0), "bulk_cement_used": Decimal(1)}) is None
    assert formulas.mortar_usage_rate({"mortar_used": Decimal(1)}) is None
    assert formulas.dry_mortar_used({"mortar_used": Decimal(1)}) is None
    assert compute_all({})["bulk_cement_supply_rate"] is None


def test_rates_the_seed_gives_without_inputs_follow_their_formula() -> None:
    # 水泥散装供应率 94.6 % and 普通干混砂浆散装率 2 % have no inputs in the seed; the formula still holds.
    supply = formulas.bulk_cement_supply_rate({"cement_supplied": Decimal(1000), "bulk_cement_supplied": Decimal(946)})
    bulk = formulas.dry_mortar_bulk_rate({"dry_mortar_output": Decimal(50), "dry_mortar_bulk_output": Decimal(1)})
    assert supply is not None and percent(supply) == Decimal("94.6")
    assert bulk is not None and percent(bulk) == Decimal("2.0")


def test_half_up_rounding() -> None:
    assert percent(Decimal("0.78050")) == Decimal("78.1")
    assert percent(Decimal("0.78049")) == Decimal("78.0")
