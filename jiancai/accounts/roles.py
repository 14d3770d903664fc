"""Roles a user can hold in an organization."""

from django.db import models


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", "单位管理员"
    STAFF = "staff", "业务人员"
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"
    BUSINESS = "business", "监管业务人员"


ENTERPRISE_ROLES = (Role.ORG_ADMIN, Role.STAFF)
REGULATOR_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.BUSINESS)


class OrgType(models.TextChoices):
    ENTERPRISE = "enterprise", "企业"
    CITY_REGULATOR = "city_regulator", "市住建委"
    DISTRICT_REGULATOR = "district_regulator", "区住建委"
