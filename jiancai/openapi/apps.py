from django.apps import AppConfig


class OpenApiConfig(AppConfig):
    name = "jiancai.openapi"
    label = "openapi"
    verbose_name = "电商平台开放接口"
