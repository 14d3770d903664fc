from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "jiancai.ui"
    verbose_name = "界面"
