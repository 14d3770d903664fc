from django.apps import AppConfig


class FilingsConfig(AppConfig):
    name = "jiancai.filings"
    verbose_name = "信息源填报"
