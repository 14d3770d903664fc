from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "jiancai.indicators"
    verbose_name = "统计指标与报表"
