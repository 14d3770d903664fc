"""A month of filings for the report tests, dated in the current month (alerts are raised now, so the month's
alerts are this month's).

朝阳区 (A's project): one rebar supply by A (60 t), one ready-mix ticket (12 m³) by the plant, two test reports (one
failed). 海淀区 (B's project): one rebar purchase by B from A (60 t at 4150.00 and 30 t at 4300.00).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from jiancai.accounts.tests.personas import World
from jiancai.filings.tests.records import Filers, file_as, purchase_row, report_row, supply_row, ticket_row
from jiancai.monitoring.engine import evaluate


@dataclass
class Month:
    start: dt.date
    day: str


def file_month(world: World, filers: Filers) -> Month:
    start = timezone.localdate().replace(day=1)
    day = start.isoformat()
    file_as(world["a_staff"], "supply", supply_row(world, 1, delivery_date=day))
    file_as(
        world["b_staff"],
        "purchase",
        purchase_row(world, 1, arrival_date=day, unit_price="4150.00"),
        purchase_row(world, 2, arrival_date=day, unit_price="4300.00", quantity="30"),
    )
    file_as(
        filers.lab_staff,
        "test_report",
        report_row(world, filers, 1, project_code=world.a_project.project_code, sample_date=day, test_date=day),
        report_row(
            world,
            filers,
            2,
            project_code=world.a_project.project_code,
            sample_date=day,
            test_date=day,
            result="不合格",
        ),
    )
    file_as(
        filers.plant_staff,
        "ticket",
        ticket_row(world, filers, 1, departed_at=f"{day} 08:00", arrived_at="", discharged_at=""),
    )
    evaluate()
    return Month(start, day)
