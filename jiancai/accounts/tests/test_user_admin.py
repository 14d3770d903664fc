"""User administration through HTTP: who may create and change users, with which roles, in which organizations."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from jiancai.accounts.models import User
from jiancai.accounts.tests.factories import PASSWORD
from jiancai.accounts.tests.personas import World, login_as
from jiancai.audit.models import AuditEvent


def errors(response: Any) -> list[str]:
    return re.findall(r'role="alert">\s*(?:<p>)?(.*?)<', response.content.decode())


def new_user(org_pk: int, **overrides: Any) -> dict[str, Any]:
    return {
        "organization": org_pk,
        "username": "new_clerk",
        "display_name": "钱新员",
        "role": "staff",
        "phone": "13700000000",
        "email": "",
        "password": "Chushi#2026",
        **overrides,
    }


def admin_client(world: World, persona: str = "a_admin") -> Client:
    client = Client()
    login_as(client, world[persona])
    return client


def test_org_admin_creates_a_user_who_must_change_the_initial_password(world: World) -> None:
    client = admin_client(world)
    response = client.post("/accounts/users/new/", new_user(world.a.pk))
    user = User.objects.get(username="new_clerk")
    assert response["Location"] == f"/accounts/users/{user.pk}/"
    assert (user.organization_id, user.role, user.must_change_password) == (world.a.pk, "staff", True)
    event = AuditEvent.objects.get(action="create", target_type="accounts.user")
    assert event.target_id == str(user.pk) and event.actor_id == world["a_admin"].pk
    assert "password" not in event.changes and "Chushi#2026" not in str(event.changes)

    newcomer = Client()
    assert newcomer.post("/login/", {"username": "new_clerk", "password": "Chushi#2026"}).status_code == 302
    assert newcomer.get("/registry/persons/")["Location"] == "/account/password/"


def test_org_admin_cannot_create_users_elsewhere_or_with_regulator_roles(world: World) -> None:
    client = admin_client(world)
    other_org = client.post("/accounts/users/new/", new_user(world.b.pk))
    assert other_org.status_code == 400
    assert any(e.startswith("所属机构：") for e in errors(other_org))
    regulator_role = client.post("/accounts/users/new/", new_user(world.a.pk, role="system_admin"))
    assert regulator_role.status_code == 400
    assert any(e.startswith("角色：") and "不适用于企业" in e for e in errors(regulator_role)), errors(regulator_role)
    assert not User.objects.filter(username="new_clerk").exists()
    assert not AuditEvent.objects.filter(action="create").exists()


def test_user_form_errors_are_named(world: World) -> None:
    client = admin_client(world)
    weak = client.post("/accounts/users/new/", new_user(world.a.pk, password="12345678"))
    assert any(e.startswith("初始密码：") for e in errors(weak)), errors(weak)
    taken = client.post("/accounts/users/new/", new_user(world.a.pk, username="a_staff"))
    assert "用户名：该用户名已被使用" in errors(taken)
    bad_name = client.post("/accounts/users/new/", new_user(world.a.pk, username="张 三"))
    assert any(e.startswith("用户名：用户名只能包含") for e in errors(bad_name))
    assert not User.objects.filter(username="new_clerk").exists()


def test_district_system_admin_creates_users_only_in_its_district(world: World) -> None:
    client = admin_client(world, "cy_sys")
    form = client.get("/accounts/users/new/").content.decode()
    assert world.a.name in form and world.b.name not in form
    assert client.post("/accounts/users/new/", new_user(world.a.pk)).status_code == 302
    assert client.post("/accounts/users/new/", new_user(world.b.pk, username="other")).status_code == 400
    assert not User.objects.filter(username="other").exists()


def test_org_admin_edits_a_user_and_the_change_is_audited(world: World) -> None:
    client = admin_client(world)
    target = world["a_staff"]
    page = client.get(f"/accounts/users/{target.pk}/edit/").content.decode()
    assert 'value="org_admin"' in page and 'value="system_admin"' not in page  # only enterprise roles offered
    data = {"display_name": target.display_name, "role": "org_admin", "phone": "", "email": "", "is_active": "on"}
    assert client.post(f"/accounts/users/{target.pk}/edit/", data)["Location"] == f"/accounts/users/{target.pk}/"
    target.refresh_from_db()
    assert target.role == "org_admin"
    event = AuditEvent.objects.get(action="update", target_type="accounts.user")
    assert event.changes == {"role": ["业务人员", "单位管理员"]}
    escalate = client.post(f"/accounts/users/{target.pk}/edit/", {**data, "role": "security_admin"})
    assert escalate.status_code == 400 and any(e.startswith("角色：") for e in errors(escalate))
    target.refresh_from_db()
    assert target.role == "org_admin"


def test_deactivating_a_user_ends_their_session(world: World) -> None:
    staff = Client()
    login_as(staff, world["a_staff"])
    assert staff.get("/registry/persons/").status_code == 200
    target = world["a_staff"]
    data = {"display_name": target.display_name, "role": "staff", "phone": "", "email": ""}  # is_active unticked
    admin_client(world).post(f"/accounts/users/{target.pk}/edit/", data)
    assert staff.get("/registry/persons/")["Location"].startswith("/login/")
    assert staff.post("/login/", {"username": "a_staff", "password": PASSWORD}).status_code == 400


def test_user_list_shows_only_visible_users(world: World) -> None:
    html = admin_client(world, "b_admin").get("/accounts/users/").content.decode()
    assert "b_staff" in html and "a_staff" not in html and "city_biz" not in html
    html = admin_client(world, "city_sec").get("/accounts/users/", {"q": "staff"}).content.decode()
    assert "a_staff" in html and "b_staff" in html


def test_administrators_cannot_edit_or_reset_their_own_account(world: World) -> None:
    sysadmin = world["city_sys"]
    client = admin_client(world, "city_sys")
    edit = client.post(
        f"/accounts/users/{sysadmin.pk}/edit/",
        {"display_name": sysadmin.display_name, "role": "audit_admin", "phone": "", "email": "", "is_active": "on"},
    )
    assert edit.status_code == 400
    assert any("不能通过用户管理修改自己的账户" in e for e in errors(edit))
    reset = client.post(
        f"/accounts/users/{sysadmin.pk}/reset-password/", {"new_password": "Xinmima#2026", "reason": "自助"}
    )
    assert reset.status_code == 400
    sysadmin.refresh_from_db()
    assert sysadmin.role == "system_admin" and sysadmin.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(target_id=str(sysadmin.pk), action__in=["update", "password.reset"]).exists()


def test_system_admin_cannot_open_change_or_reset_oversight_accounts(world: World) -> None:
    client = admin_client(world, "city_sys")
    auditor = world["city_audit"]
    city = auditor.organization
    assert city is not None
    created = client.post("/accounts/users/new/", new_user(city.pk, username="new_auditor", role="audit_admin"))
    assert created.status_code == 400
    assert not User.objects.filter(username="new_auditor").exists()
    reset = client.post(
        f"/accounts/users/{auditor.pk}/reset-password/", {"new_password": "Xinmima#2026", "reason": "x"}
    )
    assert reset.status_code == 400
    assert any("provision_admin" in e for e in errors(reset))
    promote = client.post(
        f"/accounts/users/{world['city_biz'].pk}/edit/",
        {"display_name": "孙监管", "role": "security_admin", "phone": "", "email": "", "is_active": "on"},
    )
    assert promote.status_code == 400
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD)
    assert User.objects.get(pk=world["city_biz"].pk).role == "business"


def test_deployer_provisions_and_resets_oversight_accounts_on_the_server(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    city = world["city_audit"].organization
    assert city is not None
    out = StringIO()
    call_command(
        "provision_admin",
        "second_auditor",
        role="audit_admin",
        organization=city.uscc,
        name="周审计",
        stdout=out,
    )
    password = re.search(r"临时密码.*?：(\S+)", out.getvalue())
    assert password is not None
    auditor = User.objects.get(username="second_auditor")
    assert auditor.role == "audit_admin" and auditor.must_change_password
    assert auditor.check_password(password.group(1))
    event = AuditEvent.objects.get(action="create", target_id=str(auditor.pk))
    assert event.actor_id is None and event.actor_name == "部署人员（服务器命令行）"

    out = StringIO()
    call_command("provision_admin", "second_auditor", stdout=out)
    auditor.refresh_from_db()
    new_password = re.search(r"临时密码.*?：(\S+)", out.getvalue())
    assert new_password is not None and auditor.check_password(new_password.group(1))
    assert AuditEvent.objects.filter(action="password.reset", target_id=str(auditor.pk)).count() == 1
