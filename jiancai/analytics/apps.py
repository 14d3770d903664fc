from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "jiancai.analytics"
    verbose_name = "数据分析"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the listeners to filings and alert changes)
