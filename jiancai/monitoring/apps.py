from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "jiancai.monitoring"
    verbose_name = "后台监控"

    def ready(self) -> None:
        # Filings announce what changed; the monitoring app listens (filings never import monitoring).
        from . import receivers  # noqa: F401
