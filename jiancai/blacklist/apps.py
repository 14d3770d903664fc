from django.apps import AppConfig


class BlacklistConfig(AppConfig):
    name = "jiancai.blacklist"
    verbose_name = "失信黑名单与信用修复"

    def ready(self) -> None:
        # XC15 is a monitoring rule whose data lives here: register it into monitoring's RULES (monitoring never
        # imports this app).
        from . import crosscheck  # noqa: F401
