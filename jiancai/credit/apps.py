from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "jiancai.credit"
    verbose_name = "诚信管理"

    def ready(self) -> None:
        # Cases closed with a finding and registry items verified false become behaviour records; the credit
        # warning registers with monitoring.warnings (the lower apps never import credit).
        from . import receivers, warnings  # noqa: F401
