"""Open or reset an administrator account on the server (the deployer's job, not the system administrator's)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiancai.accounts import actions
from jiancai.accounts.models import Organization, User
from jiancai.accounts.roles import REGULATOR_ROLES
from jiancai.audit.actions import AuditContext

DEPLOYER = AuditContext(actor_name="部署人员（服务器命令行）")


def temporary_password() -> str:
    # token_urlsafe gives letters of both cases and digits; the suffix guarantees a symbol and a digit.
    return f"{secrets.token_urlsafe(12)}#9"


class Command(BaseCommand):
    help = (
        "Open a regulator administrator account (system, security or audit administrator) or reset its password. "
        "Prints a temporary password that must be changed at the first login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=[str(r) for r in REGULATOR_ROLES], help="role of a new account")
        parser.add_argument("--organization", help="USCC of the regulator organization of a new account")
        parser.add_argument("--name", help="display name of a new account")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        password = temporary_password()
        user = User.objects.filter(username=username).first()
        try:
            if user is not None:
                actions.reset_password(target=user, new_password=password, context=DEPLOYER, reason="部署人员重置")
                self.stdout.write(f"已重置 {username} 的密码")
            else:
                if not (options["role"] and options["organization"] and options["name"]):
                    raise CommandError("新开账户须提供 --role、--organization 和 --name")
                org = Organization.objects.filter(uscc=options["organization"].strip().upper()).first()
                if org is None or not org.is_regulator:
                    raise CommandError(f"未找到统一社会信用代码为 {options['organization']} 的住建委机构")
                actions.create_user(
                    organization=org,
                    username=username,
                    display_name=options["name"],
                    role=options["role"],
                    password=password,
                    context=DEPLOYER,
                )
                self.stdout.write(f"已开设 {username}（{org.name}）")
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"临时密码（只显示这一次，首次登录须修改）：{password}")
