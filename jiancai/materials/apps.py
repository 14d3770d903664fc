from django.apps import AppConfig


class MaterialsConfig(AppConfig):
    name = "jiancai.materials"
    verbose_name = "材料目录"
