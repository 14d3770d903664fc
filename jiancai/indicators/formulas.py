"""The indicators of seed 004 (北京市“十二五”时期散装水泥、预拌制品和预制构件发展规划) as plain functions.

Every indicator is computed from named yearly inputs (`INPUTS`, in the seed's units: 万吨 and 万立方米). Each
formula below was worked out from the seed's own 2010 (precast: 2008) figures; the docstring quotes the
sentence it comes from and shows the arithmetic. Rates are fractions (0.781); `percent` rounds them the way the
seed prints them, to one decimal of a percent, half up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Inputs = Mapping[str, Decimal | None]


@dataclass(frozen=True)
class Input:
    code: str
    label: str
    unit: str


INPUTS: tuple[Input, ...] = (
    Input("cement_capacity", "水泥年产能", "万吨"),
    Input("cement_supplied", "水泥供应量", "万吨"),
    Input("bulk_cement_supplied", "散装水泥供应量", "万吨"),
    Input("cement_used", "水泥使用量", "万吨"),
    Input("bulk_cement_used", "散装水泥使用量", "万吨"),
    Input("concrete_capacity", "预拌混凝土年生产能力", "万立方米"),
    Input("concrete_supplied", "预拌混凝土供应量", "万立方米"),
    Input("mortar_capacity", "预拌砂浆年产能", "万吨"),
    Input("dry_mortar_capacity", "普通干混砂浆年产能", "万吨"),
    Input("dry_mortar_output", "普通干混砂浆年产量", "万吨"),
    Input("dry_mortar_bulk_output", "散装普通干混砂浆产量", "万吨"),
    Input("mortar_demand", "预拌砂浆需求量", "万吨"),
    Input("mortar_used", "预拌砂浆使用量", "万吨"),
    Input("wet_mortar_used", "预拌湿砂浆使用量", "万吨"),
    Input("precast_capacity", "预制构件生产能力", "万立方米"),
    Input("precast_output", "预制构件产量", "万立方米"),
    Input("precast_used", "预制构件使用量", "万立方米"),
)
INPUT_BY_CODE = {i.code: i for i in INPUTS}


def _ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def bulk_cement_supply_rate(v: Inputs) -> Decimal | None:
    """散装水泥供应率 = 散装水泥供应量 ÷ 水泥供应量（水泥生产企业的供应）.

    Seed: “水泥散装供应率为94.6％” and “全市水泥生产企业散装水泥供应量累计完成4978万吨，散装供应率达到94.7%”:
    the rate is the bulk share of what the cement producers supplied (the seed gives the bulk amount and the
    rate, not the total; 4978 ÷ 0.947 ≈ 5257 万吨 supplied over 2006–2010)."""
    return _ratio(v.get("bulk_cement_supplied"), v.get("cement_supplied"))


def bulk_cement_usage_rate(v: Inputs) -> Decimal | None:
    """散装水泥使用率 = 散装水泥使用量 ÷ 水泥使用量.

    Seed: “全市水泥使用量2439.1万吨，其中散装水泥使用量为1904.8万吨，散装水泥使用率78.1％”:
    1904.8 ÷ 2439.1 = 0.78094 → 78.1 %."""
    return _ratio(v.get("bulk_cement_used"), v.get("cement_used"))


def concrete_capacity_utilization(v: Inputs) -> Decimal | None:
    """预拌混凝土产能利用率 = 预拌混凝土供应量 ÷ 年生产能力.

    Seed: “年生产能力10480万立方米。2010年供应预拌混凝土4986万立方米，产能利用率为47.6%”:
    4986 ÷ 10480 = 0.47576 → 47.6 %."""
    return _ratio(v.get("concrete_supplied"), v.get("concrete_capacity"))


def dry_mortar_capacity_utilization(v: Inputs) -> Decimal | None:
    """普通干混砂浆产能利用率 = 普通干混砂浆实际年产量 ÷ 年产能.

    Seed: “普通干混砂浆生产企业有20家，年产能为185万吨，实际年产量为28.8万吨，产能利用率为15.6%”:
    28.8 ÷ 185 = 0.15568 → 15.6 %."""
    return _ratio(v.get("dry_mortar_output"), v.get("dry_mortar_capacity"))


def dry_mortar_bulk_rate(v: Inputs) -> Decimal | None:
    """普通干混砂浆散装率 = 散装发放的普通干混砂浆 ÷ 普通干混砂浆产量.

    Seed: “普通干混砂浆散装率为2%” and “绝大部分普通干混砂浆采用袋装方式，散装比例很低”: the bulk (散装) share of
    the dry-mix output (the seed gives only the rate; 2 % of 28.8 万吨 ≈ 0.6 万吨)."""
    return _ratio(v.get("dry_mortar_bulk_output"), v.get("dry_mortar_output"))


def mortar_usage_rate(v: Inputs) -> Decimal | None:
    """预拌砂浆使用率 = 预拌砂浆实际使用量 ÷ 建设工程预拌砂浆需求量.

    Seed: “全市建设工程的预拌砂浆需求量为585万吨，实际使用量为166.5万吨，预拌砂浆的使用率为28.5%”:
    166.5 ÷ 585 = 0.28462 → 28.5 %."""
    return _ratio(v.get("mortar_used"), v.get("mortar_demand"))


def wet_mortar_share(v: Inputs) -> Decimal | None:
    """预拌湿砂浆占比 = 预拌湿砂浆使用量 ÷ 预拌砂浆使用量.

    Seed: “在使用的预拌砂浆中，预拌湿砂浆为67.8万吨，占预拌砂浆使用量40.7%”: 67.8 ÷ 166.5 = 0.40721 → 40.7 %."""
    return _ratio(v.get("wet_mortar_used"), v.get("mortar_used"))


def dry_mortar_used(v: Inputs) -> Decimal | None:
    """干混砂浆使用量 = 预拌砂浆使用量 − 预拌湿砂浆使用量.

    Seed: “预拌湿砂浆为67.8万吨……其余为干混砂浆，使用量为98.7万吨”: 166.5 − 67.8 = 98.7 万吨."""
    used, wet = v.get("mortar_used"), v.get("wet_mortar_used")
    if used is None or wet is None:
        return None
    return used - wet


def dry_mortar_share(v: Inputs) -> Decimal | None:
    """干混砂浆占比 = 干混砂浆使用量 ÷ 预拌砂浆使用量.

    The rest of the wet/dry split.

    Seed: “其余为干混砂浆，使用量为98.7万吨”: 98.7 ÷ 166.5 = 0.59279 → 59.3 % (= 100 % − 40.7 %)."""
    return _ratio(dry_mortar_used(v), v.get("mortar_used"))


def precast_capacity_utilization(v: Inputs) -> Decimal | None:
    """预制构件产能（设备）利用率 = 预制构件总产量 ÷ 总生产能力.

    Seed (2008): “总生产能力345万立方米；全市各类混凝土预制构件总产量140万立方米” and “平均的设备利用率为仅40.6%”:
    140 ÷ 345 = 0.40580 → 40.6 %."""
    return _ratio(v.get("precast_output"), v.get("precast_capacity"))


def _amount(code: str) -> Callable[[Inputs], Decimal | None]:
    def amount(v: Inputs) -> Decimal | None:
        return v.get(code)

    spec = INPUT_BY_CODE[code]
    amount.__doc__ = f"{spec.label}（{spec.unit}，统计数据本身）"
    return amount


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str  # "%" for rates (fractions, shown as percent), else the amount's unit
    compute: Callable[[Inputs], Decimal | None]

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"

    @property
    def formula(self) -> str:
        """The first line of the formula's docstring ("散装水泥使用率 = 散装水泥使用量 ÷ 水泥使用量")."""
        return (self.compute.__doc__ or "").strip().splitlines()[0].rstrip(".")


INDICATORS: tuple[Indicator, ...] = (
    Indicator("bulk_cement_supply_rate", "水泥散装供应率", "%", bulk_cement_supply_rate),
    Indicator("bulk_cement_usage_rate", "散装水泥使用率", "%", bulk_cement_usage_rate),
    Indicator("concrete_capacity_utilization", "预拌混凝土产能利用率", "%", concrete_capacity_utilization),
    Indicator("dry_mortar_capacity_utilization", "普通干混砂浆产能利用率", "%", dry_mortar_capacity_utilization),
    Indicator("dry_mortar_bulk_rate", "普通干混砂浆散装率", "%", dry_mortar_bulk_rate),
    Indicator("mortar_usage_rate", "预拌砂浆使用率", "%", mortar_usage_rate),
    Indicator("wet_mortar_share", "预拌湿砂浆占比", "%", wet_mortar_share),
    Indicator("dry_mortar_share", "干混砂浆占比", "%", dry_mortar_share),
    Indicator("precast_capacity_utilization", "预制构件产能利用率", "%", precast_capacity_utilization),
    Indicator("cement_capacity", "水泥年产能", "万吨", _amount("cement_capacity")),
    Indicator("concrete_capacity", "预拌混凝土年生产能力", "万立方米", _amount("concrete_capacity")),
    Indicator("mortar_capacity", "预拌砂浆年产能", "万吨", _amount("mortar_capacity")),
    Indicator("mortar_used", "预拌砂浆使用量", "万吨", _amount("mortar_used")),
    Indicator("dry_mortar_used", "干混砂浆使用量", "万吨", dry_mortar_used),
    Indicator("precast_used", "预制构件使用量", "万立方米", _amount("precast_used")),
)
INDICATOR_BY_CODE = {i.code: i for i in INDICATORS}
INDICATOR_CHOICES = [(i.code, i.label) for i in INDICATORS]


def percent(rate: Decimal) -> Decimal:
    """A rate as the seed prints it: percent with one decimal, half up (0.78094 → 78.1)."""
    return (rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def amount(value: Decimal) -> Decimal:
    """An amount as the seed prints it: one decimal (98.7 万吨)."""
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def display(indicator: Indicator, value: Decimal | None) -> str:
    if value is None:
        return "—"
    if indicator.is_rate:
        return f"{percent(value)}%"
    return f"{amount(value)}{indicator.unit}"


def compute_all(inputs: Inputs) -> dict[str, Decimal | None]:
    return {i.code: i.compute(inputs) for i in INDICATORS}
