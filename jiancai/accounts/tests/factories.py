"""factory_boy factories of organizations, users (regulators with a confirmed TOTP device) and API tokens."""

from __future__ import annotations

import datetime as dt
import time

import factory
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory

from jiancai.accounts import actions
from jiancai.accounts.models import ApiToken, District, Organization, OrganizationKind, User
from jiancai.accounts.roles import OrgType, Role
from jiancai.accounts.validators import USCC_CHARSET, uscc_check_char
from jiancai.audit.actions import SYSTEM

PASSWORD = "Jiancai@2026"


def make_uscc(n: int, *, prefix: str = "91", region: str = "110105") -> str:
    """A valid 18-character USCC: registration department + kind, region code, a 9-character body, check char."""
    body = ""
    value = n
    for _ in range(9):
        body = USCC_CHARSET[value % len(USCC_CHARSET)] + body
        value //= len(USCC_CHARSET)
    first17 = f"{prefix}{region}{body}"
    return first17 + uscc_check_char(first17)


def district(name: str | None) -> District | None:
    return District.objects.get(name=name) if name else None


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    class Params:
        district_name = "朝阳区"

    uscc = factory.Sequence(lambda n: make_uscc(1000 + n))
    name = factory.Sequence(lambda n: f"北京测试建材有限公司{n}")
    org_type = OrgType.ENTERPRISE
    district = factory.LazyAttribute(lambda o: district(o.district_name))
    legal_representative = "张建国"
    address = "北京市朝阳区建材路1号"
    phone = "010-65000000"

    @factory.post_generation
    def kinds(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        """kinds=["supplier", "producer"]: codes (or names) of OrganizationKind."""
        if not create or not extracted:
            return
        rows = [
            OrganizationKind.objects.filter(code=k).first() or OrganizationKind.objects.get(name=k) for k in extracted
        ]
        self.kinds.set(rows)


class RegulatorFactory(OrganizationFactory):
    class Params:
        district_name = None

    uscc = factory.Sequence(lambda n: make_uscc(500 + n, prefix="11", region="110000"))
    name = factory.Sequence(lambda n: f"北京市住房和城乡建设委员会{n}")
    org_type = OrgType.CITY_REGULATOR


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.STAFF
    password = factory.django.Password(PASSWORD)
    password_changed_at = factory.LazyFunction(timezone.now)
    must_change_password = False


class RegulatorUserFactory(UserFactory):
    """A regulator user who already enrolled a TOTP device (see totp_token)."""

    organization = factory.SubFactory(RegulatorFactory)
    role = Role.BUSINESS

    @factory.post_generation
    def totp(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted is not False:
            TOTPDevice.objects.create(user=self, name="动态口令", confirmed=True)


def totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def totp_token(user: User) -> str:
    """The code an authenticator app shows now, for a step the device has not accepted yet (no replay)."""
    device = totp_device(user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    needed = device.last_t + 1
    totp.time = time.time()
    while needed - totp.t() > device.tolerance:  # pragma: no cover - only after several logins in one step
        time.sleep(1)
        totp.time = time.time()
    if totp.t() < needed:
        # A code of the next step: accepted within the device's tolerance, and not a replay of the last one.
        totp.time = time.time() + device.step * (needed - totp.t())
    return f"{totp.token():0{device.digits}d}"


def issue_token(user: User, scopes: list[str] | None = None, valid_days: int = 30) -> tuple[ApiToken, str]:
    return actions.issue_token(
        user=user,
        name=f"测试令牌{user.username}",
        scopes=scopes or ["registry:read", "registry:write"],
        valid_days=valid_days,
        context=SYSTEM,
    )


def expire_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
