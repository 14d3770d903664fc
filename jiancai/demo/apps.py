from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "jiancai.demo"
    verbose_name = "演示数据"
