"""Partial indexes on the filing tables for the rollup refresh: it recomputes groups (kind × month × category,
supplier × month) by date ranges over current submitted rows only. They are created by this app, which owns the
queries that need them (they are not part of the filings models' state)."""

from django.db import migrations

COUNTED = "WHERE is_current AND status = 'submitted'"
INDEXES = [
    ("analytics_supply_cat_day", "filings_supply", "category_id, delivery_date"),
    ("analytics_supply_filer_day", "filings_supply", "filer_id, delivery_date"),
    ("analytics_purchase_cat_day", "filings_purchase", "category_id, arrival_date"),
    ("analytics_purchase_sup_day", "filings_purchase", "supplier_id, arrival_date"),
    ("analytics_report_cat_day", "filings_testreport", "category_id, test_date"),
    ("analytics_tender_cat_day", "filings_tender", "category_id, award_date"),
    ("analytics_ticket_departed", "filings_ticket", "departed_at"),
    ("analytics_event_day", "filings_projectevent", "date"),
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial"), ("filings", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) {COUNTED}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
