from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "jiancai.audit"
    verbose_name = "审计日志"
