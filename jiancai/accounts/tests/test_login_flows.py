"""Login, second factor, lockout, password policy and expiry, session timeouts — all through HTTP."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from jiancai.accounts.middleware import SESSION_SEEN, SESSION_STARTED
from jiancai.accounts.models import User
from jiancai.accounts.tests.factories import PASSWORD, RegulatorUserFactory, totp_token
from jiancai.accounts.tests.personas import PERSONAS, World, login_as
from jiancai.audit.models import AuditEvent


def events(action: str, user: User | None = None) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(action=action).order_by("seq")
    if user is not None:
        qs = qs.filter(target_type="accounts.user", target_id=str(user.pk))
    return list(qs)


def page_errors(response) -> list[str]:
    return re.findall(r'role="alert">\s*(?:<p>)?(.*?)<', response.content.decode())


def post_login(client: Client, username: str, password: str, next_url: str = "") -> Any:
    url = f"/login/?next={next_url}" if next_url else "/login/"
    return client.post(url, {"username": username, "password": password})


# ---------------------------------------------------------------- every role logs in and reaches its workbench


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_role_logs_in_and_reaches_the_workbench(persona: str, world: World, client: Client) -> None:
    user = world[persona]
    response = post_login(client, user.username, PASSWORD)
    assert response.status_code == 302
    if user.is_regulator:
        # Password alone is not enough for a regulator: every page sends them to the second factor.
        assert response["Location"] == "/login/otp/"
        assert client.get("/")["Location"] == "/login/otp/"
        assert client.get("/registry/enterprises/")["Location"] == "/login/otp/"
        assert client.post("/login/otp/", {"token": totp_token(user)})["Location"] == "/"
    else:
        assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert user.display_name in html and user.get_role_display() in html
    success = events("login.success", user)
    assert len(success) == 1 and success[0].actor_id == user.pk and success[0].ip_address == "127.0.0.1"
    assert bool(success[0].reason) == user.is_regulator  # "密码验证通过，待动态口令"


def test_login_page_renders_in_chinese(client: Client, db: None) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "用户登录" in html and "用户名" in html and "密码" in html


def test_wrong_password_is_refused_with_a_generic_message_and_audited(world: World, client: Client) -> None:
    user = world["a_staff"]
    response = post_login(client, user.username, "Wrong#2026")
    assert response.status_code == 400
    assert page_errors(response) == ["用户名或密码错误"]
    assert client.get("/").status_code == 302  # not logged in
    failure = events("login.failure", user)
    assert len(failure) == 1 and failure[0].reason == "密码错误"
    user.refresh_from_db()
    assert user.failed_login_count == 1


def test_unknown_user_gets_the_same_generic_message(db: None, client: Client) -> None:
    response = post_login(client, "nobody", "Wrong#2026")
    assert response.status_code == 400
    assert page_errors(response) == ["用户名或密码错误"]  # the same answer as for a wrong password
    failure = AuditEvent.objects.get(action="login.failure")
    assert failure.target_repr == "nobody" and failure.reason == "用户名不存在"


def test_inactive_user_cannot_log_in(world: World, client: Client) -> None:
    user = world["b_staff"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = post_login(client, user.username, PASSWORD)
    assert response.status_code == 400
    assert "账户已停用" in response.content.decode()
    assert client.get("/").status_code == 302


def test_next_is_kept_but_never_an_outside_site(world: World) -> None:
    client = Client()
    assert post_login(client, "a_staff", PASSWORD, "/registry/persons/")["Location"] == "/registry/persons/"
    other = Client()
    assert post_login(other, "a_admin", PASSWORD, "https://evil.example/steal")["Location"] == "/"


def test_regulator_next_survives_the_second_factor(world: World, client: Client) -> None:
    user = world["city_biz"]
    assert post_login(client, user.username, PASSWORD, "/registry/projects/")["Location"] == "/login/otp/"
    assert client.post("/login/otp/", {"token": totp_token(user)})["Location"] == "/registry/projects/"


def test_logout_is_post_only_and_audited(world: World, client: Client) -> None:
    login_as(client, world["a_staff"])
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302
    assert len(events("logout", world["a_staff"])) == 1


# ---------------------------------------------------------------- second factor


def test_wrong_totp_is_refused_and_audited(world: World, client: Client, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no back-off delay between the attempts of this test
    user = world["cy_biz"]
    post_login(client, user.username, PASSWORD)
    good = totp_token(user)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post("/login/otp/", {"token": bad})
    assert response.status_code == 400
    assert "动态口令不正确或已过期" in response.content.decode()
    assert len(events("otp.failure", user)) == 1
    assert client.get("/registry/enterprises/")["Location"] == "/login/otp/"
    malformed = client.post("/login/otp/", {"token": "12ab"})
    assert malformed.status_code == 400 and "动态口令应为6位数字" in malformed.content.decode()
    assert client.post("/login/otp/", {"token": good})["Location"] == "/"
    assert client.get("/registry/enterprises/").status_code == 200


def test_a_totp_code_cannot_be_replayed(world: World) -> None:
    user = world["city_biz"]
    first = Client()
    post_login(first, user.username, PASSWORD)
    code = totp_token(user)
    assert first.post("/login/otp/", {"token": code})["Location"] == "/"
    second = Client()
    post_login(second, user.username, PASSWORD)
    response = second.post("/login/otp/", {"token": code})
    assert response.status_code == 400
    assert second.get("/")["Location"] == "/login/otp/"


def test_regulator_without_a_device_enrolls_on_first_login(world: World, client: Client) -> None:
    user = RegulatorUserFactory.create(username="new_regulator", organization=world.city, totp=False)
    post_login(client, user.username, PASSWORD)
    page = client.get("/login/otp/")
    html = page.content.decode()
    assert page.status_code == 200 and "首次登录须绑定动态口令" in html and "<svg" in html
    match = re.search(r'id="otp-secret">([A-Z2-7=]+)<', html)
    assert match is not None
    secret = match.group(1)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    import base64

    assert base64.b32decode(secret) == device.bin_key
    code = f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"
    assert client.post("/login/otp/", {"token": code})["Location"] == "/"
    assert TOTPDevice.objects.get(user=user).confirmed
    assert len(events("otp.enroll", user)) == 1


def test_enterprise_users_have_no_second_factor(world: World, client: Client) -> None:
    post_login(client, "b_admin", PASSWORD)
    assert client.get("/login/otp/")["Location"] == "/"


# ---------------------------------------------------------------- lockout


def test_five_failures_lock_the_account_for_fifteen_minutes(world: World, client: Client, monkeypatch) -> None:
    user = world["a_staff"]
    for _ in range(4):
        assert page_errors(post_login(client, user.username, "Wrong#2026")) == ["用户名或密码错误"]
    fifth = post_login(client, user.username, "Wrong#2026")
    assert fifth.status_code == 400
    assert "连续登录失败次数过多，账户已锁定15分钟" in fifth.content.decode()
    user.refresh_from_db()
    assert user.locked_until is not None
    assert dt.timedelta(minutes=14) < user.locked_until - timezone.now() <= dt.timedelta(minutes=15)
    assert len(events("login.lockout", user)) == 1

    # The right password does not help while locked.
    locked = post_login(client, user.username, PASSWORD)
    assert locked.status_code == 400 and "账户已锁定" in locked.content.decode()
    assert events("login.failure", user)[-1].reason == "账户处于锁定期"

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(minutes=14))
    assert post_login(client, user.username, PASSWORD).status_code == 400
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(minutes=15, seconds=5))
    assert post_login(client, user.username, PASSWORD)["Location"] == "/"
    user.refresh_from_db()
    assert user.locked_until is None and user.failed_login_count == 0


def test_security_admin_unlocks_a_locked_account(world: World) -> None:
    user = world["a_staff"]
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=15))
    assert post_login(Client(), user.username, PASSWORD).status_code == 400

    admin = Client()
    login_as(admin, world["city_sec"])
    detail = admin.get(f"/accounts/users/{user.pk}/")
    assert "解除锁定" in detail.content.decode()
    missing_reason = admin.post(f"/accounts/users/{user.pk}/unlock/", {"reason": ""})
    assert missing_reason.status_code == 400 and "原因：该字段是必填项。" in missing_reason.content.decode()
    response = admin.post(f"/accounts/users/{user.pk}/unlock/", {"reason": "本人电话申请解锁"})
    assert response["Location"] == f"/accounts/users/{user.pk}/"
    unlock = events("account.unlock", user)
    assert len(unlock) == 1 and unlock[0].reason == "本人电话申请解锁" and unlock[0].actor_id == world["city_sec"].pk

    assert post_login(Client(), user.username, PASSWORD)["Location"] == "/"


# ---------------------------------------------------------------- password policy, expiry and reset


@pytest.mark.parametrize(
    ("new_password", "expected"),
    [
        ("abc", ["新密码：", "这个密码太常见了。", "密码须包含小写字母、大写字母、数字、特殊符号中的至少3类"]),
        ("12345678", ["新密码：", "密码只包含数字。"]),
        ("jiancai2026", ["新密码：密码须包含小写字母、大写字母、数字、特殊符号中的至少3类"]),
        ("A_Staff#2026", ["新密码：密码跟 用户名 太相似了。"]),
        (PASSWORD, ["新密码：新密码不能与原密码相同"]),
    ],
)
def test_password_policy_messages_are_chinese_and_name_the_field(
    world: World, client: Client, new_password: str, expected: list[str]
) -> None:
    user = world["a_staff"]
    login_as(client, user)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password": new_password, "new_password2": new_password},
    )
    assert response.status_code == 400
    html = response.content.decode()
    for text in expected:
        assert text in html, f"{text!r} missing; errors: {page_errors(response)}"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_too_short_message(world: World, client: Client) -> None:
    login_as(client, world["a_staff"])
    response = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password": "Ab#1", "new_password2": "Ab#1"}
    )
    assert response.status_code == 400
    assert any(e.startswith("新密码：") and "8" in e for e in page_errors(response)), page_errors(response)


def test_password_change_checks_old_password_and_confirmation(world: World, client: Client) -> None:
    login_as(client, world["a_staff"])
    wrong_old = client.post(
        "/account/password/",
        {"old_password": "Nope#2026", "new_password": "Xin#Mima2027", "new_password2": "Xin#Mima2027"},
    )
    assert "原密码：原密码不正确" in wrong_old.content.decode()
    mismatch = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password": "Xin#Mima2027", "new_password2": "Xin#Mima2028"},
    )
    assert "确认新密码：两次输入的新密码不一致" in mismatch.content.decode()


def test_password_change_succeeds_and_is_audited(world: World, client: Client) -> None:
    user = world["a_staff"]
    login_as(client, user)
    before = user.password_changed_at
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password": "Xin#Mima2027", "new_password2": "Xin#Mima2027"},
    )
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200  # the session survives the change
    user.refresh_from_db()
    assert before is not None and user.password_changed_at is not None
    assert user.check_password("Xin#Mima2027") and user.password_changed_at > before
    assert len(events("password.change", user)) == 1
    assert post_login(Client(), user.username, PASSWORD).status_code == 400


def test_expired_password_sends_every_page_to_the_change_page(world: World, client: Client, settings) -> None:
    user = world["b_staff"]
    User.objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS + 1)
    )
    login_as(client, user)
    for url in ("/", "/registry/qualifications/", f"/registry/projects/{world.b_project.project_code}/"):
        assert client.get(url)["Location"] == "/account/password/", url
    page = client.get("/account/password/")
    assert page.status_code == 200 and "您的密码已过期" in page.content.decode()
    client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password": "Xin#Mima2027", "new_password2": "Xin#Mima2027"},
    )
    assert client.get("/registry/qualifications/").status_code == 200


def test_password_not_yet_expired_is_accepted(world: World, client: Client, settings) -> None:
    user = world["b_staff"]
    User.objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS - 1)
    )
    login_as(client, user)
    assert client.get("/registry/qualifications/").status_code == 200


def test_admin_reset_forces_a_password_change_at_next_login(world: World) -> None:
    admin = Client()
    login_as(admin, world["a_admin"])
    target = world["a_staff"]
    weak = admin.post(f"/accounts/users/{target.pk}/reset-password/", {"new_password": "123", "reason": "遗忘"})
    assert weak.status_code == 400 and "临时密码：" in weak.content.decode()
    response = admin.post(
        f"/accounts/users/{target.pk}/reset-password/", {"new_password": "Linshi#2026", "reason": "本人遗忘密码"}
    )
    assert response["Location"] == f"/accounts/users/{target.pk}/"
    reset = events("password.reset", target)
    assert len(reset) == 1 and reset[0].reason == "本人遗忘密码" and reset[0].actor_id == world["a_admin"].pk

    staff = Client()
    assert post_login(staff, target.username, PASSWORD).status_code == 400  # the old password is gone
    assert post_login(staff, target.username, "Linshi#2026").status_code == 302
    assert staff.get("/")["Location"] == "/account/password/"
    assert "临时密码" in staff.get("/account/password/").content.decode()
    staff.post(
        "/account/password/",
        {"old_password": "Linshi#2026", "new_password": "Ziji#Mima2027", "new_password2": "Ziji#Mima2027"},
    )
    assert staff.get("/").status_code == 200
    target.refresh_from_db()
    assert not target.must_change_password


def test_reset_regulator_still_needs_the_second_factor(world: World) -> None:
    admin = Client()
    login_as(admin, world["city_sys"])
    target = world["cy_biz"]
    admin.post(f"/accounts/users/{target.pk}/reset-password/", {"new_password": "Linshi#2026", "reason": "遗忘"})
    client = Client()
    post_login(client, target.username, "Linshi#2026")
    assert client.get("/")["Location"] == "/login/otp/"  # second factor first …
    client.post("/login/otp/", {"token": totp_token(target)})
    assert client.get("/")["Location"] == "/account/password/"  # … then the forced change


# ---------------------------------------------------------------- session timeouts


def _age_session(client: Client, key: str, seconds: int) -> None:
    session = client.session
    session[key] = int(time.time()) - seconds
    session.save()


def test_idle_session_times_out(world: World, client: Client, settings) -> None:
    login_as(client, world["a_staff"])
    assert client.get("/registry/persons/").status_code == 200
    _age_session(client, SESSION_SEEN, settings.SESSION_IDLE_SECONDS - 60)
    assert client.get("/registry/persons/").status_code == 200  # activity within the limit keeps it alive
    _age_session(client, SESSION_SEEN, settings.SESSION_IDLE_SECONDS + 1)
    response = client.get("/registry/persons/")
    assert response["Location"] == "/login/?next=/registry/persons/"
    assert client.get("/").status_code == 302  # logged out for good
    assert "会话已超时" in client.get("/login/").content.decode()


def test_absolute_session_limit(world: World, client: Client, settings) -> None:
    login_as(client, world["city_biz"])
    _age_session(client, SESSION_STARTED, settings.SESSION_ABSOLUTE_SECONDS + 1)
    assert client.get("/registry/enterprises/")["Location"].startswith("/login/")
    assert client.get("/").status_code == 302
