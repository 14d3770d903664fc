"""python manage.py load_plan_indicators --user <city regulator business login>

Enters seed 004's figures (北京市“十二五”时期散装水泥、预拌制品和预制构件发展规划) as the city's yearly statistics
of 2010 (precast: the 2008 figures the plan gives) and its 2015 targets (发展目标), through the same actions as the
pages, so every row is versioned and audited under that user. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiancai.accounts.context import context_for
from jiancai.accounts.models import User
from jiancai.indicators.actions import save_statistic, save_target
from jiancai.indicators.models import Target, YearlyStatistic

PLAN_2010 = {
    "cement_capacity": Decimal("1000"),
    "cement_used": Decimal("2439.1"),
    "bulk_cement_used": Decimal("1904.8"),
    "concrete_capacity": Decimal("10480"),
    "concrete_supplied": Decimal("4986"),
    "dry_mortar_capacity": Decimal("185"),
    "dry_mortar_output": Decimal("28.8"),
    "mortar_demand": Decimal("585"),
    "mortar_used": Decimal("166.5"),
    "wet_mortar_used": Decimal("67.8"),
    "precast_capacity": Decimal("345"),
    "precast_output": Decimal("140"),
}
DEADLINE = dt.date(2015, 12, 31)
BASIS = "京建发〔2011〕535号 发展目标"
# “到‘十二五’末，全市水泥产能控制在700万吨以内，散装供应率达到97%；全市建设工程的散装水泥使用率达85%，预拌混凝土
# 生产能力控制在7000万立方米以下；预拌砂浆产能总量控制在800万吨以内，预拌砂浆使用量达600万吨，普通预拌砂浆的散装率
# 达到50%……各类混凝土预制构件的使用量达到135万立方米。”
PLAN_TARGETS = (
    ("cement_capacity", "700", "at_most"),
    ("bulk_cement_supply_rate", "97", "at_least"),
    ("bulk_cement_usage_rate", "85", "at_least"),
    ("concrete_capacity", "7000", "at_most"),
    ("mortar_capacity", "800", "at_most"),
    ("mortar_used", "600", "at_least"),
    ("dry_mortar_bulk_rate", "50", "at_least"),
    ("precast_used", "135", "at_least"),
)


class Command(BaseCommand):
    help = "录入《北京市“十二五”时期散装水泥、预拌制品和预制构件发展规划》2010年统计数据和2015年发展目标（全市）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="以该市住建委监管业务人员的身份录入（登录名）")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).select_related("organization").first()
        if user is None:
            raise CommandError(f"用户不存在：{options['user']}")
        context = context_for(user)
        try:
            current = YearlyStatistic.objects.filter(district=None, year=2010, is_current=True).first()
            row = save_statistic(
                district=None,
                year=2010,
                figures=PLAN_2010,
                source="京建发〔2011〕535号（预制构件为2008年数据）",
                expected_version=current.version if current else None,
                actor=user,
                context=context,
            )
            created = 0
            for indicator, value, direction in PLAN_TARGETS:
                if Target.objects.filter(indicator=indicator, district=None, deadline=DEADLINE).exists():
                    continue
                save_target(
                    target=None,
                    data={
                        "indicator": indicator,
                        "district": None,
                        "value": Decimal(value),
                        "direction": direction,
                        "deadline": DEADLINE,
                        "basis": BASIS,
                    },
                    actor=user,
                    context=context,
                )
                created += 1
        except PermissionDenied as exc:
            raise CommandError(f"{user.username} 无权录入全市统计：{exc}") from exc
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"2010年度统计：第{row.version}版；新增发展目标 {created} 项")
