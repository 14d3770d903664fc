"""seed_demo and demo_totp."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiancai.accounts.models import Organization
from jiancai.demo.generator import DEMO_PASSWORD, demo_usernames, totp_key, totp_secret_base32
from jiancai.demo.management.commands.demo_totp import current_code


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_prints_logins_and_counts():
    output = run("seed_demo", "--seed", "42", "--scale", "1")
    assert "Demo data created" in output
    assert "企业 Enterprises" in output and "工程项目 Projects" in output
    for username in demo_usernames():
        assert username in output
    assert DEMO_PASSWORD in output
    assert totp_secret_base32(totp_key(42, "city_business")) in output
    assert "北京市住房和城乡建设委员会" in output
    assert Organization.objects.filter(org_type="enterprise").count() == 30


@pytest.mark.django_db
def test_seed_demo_twice():
    run("seed_demo", "--scale", "1")
    count = Organization.objects.count()
    with pytest.raises(CommandError, match="already exists"):
        run("seed_demo", "--scale", "1")
    output = run("seed_demo", "--scale", "1", "--if-empty")
    assert "already exists" in output
    assert "city_business" in output and totp_secret_base32(totp_key(42, "city_business")) in output
    assert Organization.objects.count() == count


def test_seed_demo_rejects_a_scale_below_one():
    with pytest.raises(CommandError, match="--scale"):
        run("seed_demo", "--scale", "0")


def test_current_code_matches_rfc_6238():
    # RFC 6238 appendix B, SHA-1 key "12345678901234567890" at T=59 s: 94287082 (8 digits).
    device = TOTPDevice(key=b"12345678901234567890".hex(), step=30, t0=0, digits=8, drift=0)
    assert current_code(device, 59) == ("94287082", 1)
    device.digits = 6
    assert current_code(device, 1111111109) == ("081804", 1)


@pytest.mark.django_db
def test_demo_totp_prints_the_code_the_device_accepts():
    run("seed_demo", "--seed", "7", "--scale", "1")
    device = TOTPDevice.objects.get(user__username="chaoyang_business")
    before = current_code(device, time.time())[0]
    code = run("demo_totp", "chaoyang_business", "--plain").strip()
    after = current_code(device, time.time())[0]
    assert code in {before, after}
    assert device.verify_token(code)
    friendly = run("demo_totp", "city_audit")
    assert friendly.startswith("city_audit 当前动态口令 current TOTP code: ")


@pytest.mark.django_db
def test_demo_totp_refuses_enterprise_and_unknown_users():
    run("seed_demo", "--scale", "1")
    with pytest.raises(CommandError, match="TOTP"):
        run("demo_totp", "supplier_admin")
    with pytest.raises(CommandError, match="not a demo login"):
        run("demo_totp", "someone_else")
