from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "jiancai.registry"
    verbose_name = "三库一网"
