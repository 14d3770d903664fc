"""demo_totp: the current TOTP code of a regulator demo login, for trying the demo without an authenticator app."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiancai.demo.generator import demo_usernames


def current_code(device: TOTPDevice, now: float | None = None) -> tuple[str, int]:
    """The device's code for `now` (default: the current time) and the seconds it stays valid."""
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    if now is not None:
        totp.time = now
    token = f"{totp.token():0{device.digits}d}"
    remaining = device.step - int(totp.time - device.t0) % device.step
    return token, remaining


class Command(BaseCommand):
    help = "显示演示监管账号当前的动态口令。Print the current TOTP code of a regulator demo login."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username", help="演示账号用户名 demo username, e.g. city_business")
        parser.add_argument("--plain", action="store_true", help="只输出口令 print the code only")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        # Only the demo logins: this command must not become a way around a real user's second factor.
        if username not in demo_usernames():
            raise CommandError(f"“{username}”不是演示账号 / not a demo login (see seed_demo)")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).order_by("pk").first()
        if device is None:
            raise CommandError(
                f"“{username}”没有已绑定的动态口令设备（企业账号无需动态口令，或尚未执行 seed_demo）/ "
                "no confirmed TOTP device (enterprise logins need none; or run seed_demo first)"
            )
        token, remaining = current_code(device, time.time())
        if options["plain"]:
            self.stdout.write(token)
            return
        self.stdout.write(
            f"{username} 当前动态口令 current TOTP code: {token}（{remaining} 秒后更新 / changes in {remaining} s）"
        )
