from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "jiancai.credit"
    verbose_name = "诚信管理"

    def ready(self) -> None:
        # The lower apps never import credit: credit listens to them and registers with them.
        # - receivers: cases closed with a finding and registry items verified false become behaviour records;
        # - warnings: the credit warning registers with monitoring.warnings;
        # - the purchase form's supplier picker shows each supplier's rating.
        from jiancai.filings.forms import SUPPLIER_NOTES

        from . import receivers, warnings  # noqa: F401
        from .selectors import rating_notes

        if rating_notes not in SUPPLIER_NOTES:
            SUPPLIER_NOTES.append(rating_notes)
