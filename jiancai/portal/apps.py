from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "jiancai.portal"
    verbose_name = "信息公示"
