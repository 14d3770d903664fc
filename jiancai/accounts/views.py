"""Login (password, then TOTP for regulators), password change, users and API tokens."""

from __future__ import annotations

import base64
from typing import Any, cast

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiancai.audit.models import AuditAction
from jiancai.ui.lists import Column, ScopedListView
from jiancai.ui.pages import add_action_errors

from . import actions, filters
from .access import Action, get_for, restrict, role_allows
from .context import acting_user, audit_context
from .forms import (
    LoginForm,
    OtpForm,
    PasswordChangeForm,
    PasswordResetForm,
    ReasonForm,
    TokenCreateForm,
    UserCreateForm,
    UserEditForm,
)
from .models import ApiToken, Organization, User

NEXT_KEY = "jiancai_next"


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return reverse("home")


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = actions.attempt_login(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            context=audit_context(request),
        )
        if result.user is not None:
            login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
            next_url = _safe_next(request, request.GET.get("next"))
            if result.user.requires_second_factor:
                request.session[NEXT_KEY] = next_url
                return redirect("accounts:otp")
            return redirect(next_url)
        error = result.error
    status = 400 if error else 200
    return render(request, "accounts/login.html", {"form": form, "error": error, "title": "登录"}, status=status)


@login_required
def otp_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not user.requires_second_factor or user.is_verified():  # type: ignore[attr-defined]
        return redirect("home")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if device is None:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="动态口令", confirmed=False
        )
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                actions.record_security_event(user=user, action=AuditAction.OTP_ENROLL, context=audit_context(request))
            django_otp.login(request, device)
            return redirect(_safe_next(request, request.session.pop(NEXT_KEY, None)))
        actions.record_security_event(user=user, action=AuditAction.OTP_FAILURE, context=audit_context(request))
        form.add_error("token", "动态口令不正确或已过期，请重新输入")
    context: dict[str, Any] = {"form": form, "enrolling": enrolling, "title": "动态口令验证"}
    if enrolling:
        context["secret"] = base64.b32encode(device.bin_key).decode()
        context["qr_svg"] = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage).to_string(
            encoding="unicode"
        )
    return render(request, "accounts/otp.html", context, status=400 if form.errors else 200)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, User):
        actions.record_security_event(user=request.user, action=AuditAction.LOGOUT, context=audit_context(request))
    logout(request)
    messages.info(request, "您已安全退出")
    return redirect("accounts:login")


@login_required
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = PasswordChangeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        actions.change_password(
            user=user, new_password=form.cleaned_data["new_password"], context=audit_context(request)
        )
        from django.contrib.auth import update_session_auth_hash

        update_session_auth_hash(request, user)
        messages.success(request, "密码已修改")
        return redirect("home")
    notice = ""
    if user.password_expired():
        notice = "您的密码已过期或为管理员设置的临时密码，请先修改密码"
    return render(
        request,
        "ui/form.html",
        {"form": form, "title": "修改密码", "notice": notice, "submit_label": "修改密码"},
        status=400 if form.errors else 200,
    )


class UserList(ScopedListView):
    model = User
    filterset_class = filters.UserFilter
    title = "用户管理"
    related = ("organization",)
    create_url_name = "accounts:user_create"
    columns = (
        Column("用户名", "username"),
        Column("姓名", "display_name"),
        Column("所属机构", "organization.name"),
        Column("角色", "role"),
        Column("启用", "is_active"),
        Column("锁定至", "locked_until"),
        Column("最近登录", "last_login"),
    )


def _user_detail_context(request: HttpRequest, target: User) -> dict[str, Any]:
    user = request.user
    return {
        "title": str(target),
        "target": target,
        "can_edit": role_allows(user, User, Action.CHANGE),
        "can_unlock": role_allows(user, User, Action.UNLOCK),
        "reset_form": PasswordResetForm(),
        "unlock_form": ReasonForm(),
    }


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_for(User.objects.select_related("organization"), request.user, pk=pk)
    return render(request, "accounts/user_detail.html", _user_detail_context(request, target))


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, User, Action.CHANGE):
        raise PermissionDenied("无权新增用户")
    orgs = restrict(Organization.objects.all(), request.user, Action.VIEW).order_by("name")
    form = UserCreateForm(request.POST or None, organizations=orgs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = actions.create_user(
                organization=data["organization"],
                username=data["username"],
                display_name=data["display_name"],
                role=data["role"],
                password=data["password"],
                phone=data["phone"],
                email=data["email"],
                context=audit_context(request),
            )
        except ValidationError as exc:
            add_action_errors(form, exc, fallback="password")
        else:
            messages.success(request, f"用户 {user.username} 已创建")
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "ui/form.html", {"form": form, "title": "新增用户"}, status=400 if form.errors else 200)


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_for(User.objects.select_related("organization"), request.user, Action.CHANGE, pk=pk)
    form = UserEditForm(request.POST or None, instance=User.objects.get(pk=target.pk))
    if target.organization is not None:
        cast(forms.ChoiceField, form.fields["role"]).choices = [
            (r.value, r.label) for r in target.organization.allowed_roles()
        ]
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_user(
                target=target,
                data={f: form.cleaned_data[f] for f in form.Meta.fields},
                context=audit_context(request),
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "用户信息已保存")
            return redirect("accounts:user_detail", pk=target.pk)
    return render(
        request, "ui/form.html", {"form": form, "title": f"修改用户：{target}"}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_for(User.objects.all(), request.user, Action.CHANGE, pk=pk)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        try:
            actions.reset_password(
                target=target,
                new_password=form.cleaned_data["new_password"],
                reason=form.cleaned_data["reason"],
                context=audit_context(request),
            )
        except ValidationError as exc:
            add_action_errors(form, exc, fallback="new_password")
        else:
            messages.success(request, "密码已重置，用户下次登录时须修改密码")
            return redirect("accounts:user_detail", pk=target.pk)
    context = _user_detail_context(request, target)
    context["reset_form"] = form
    return render(request, "accounts/user_detail.html", context, status=400)


@login_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_for(User.objects.all(), request.user, Action.UNLOCK, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        context = _user_detail_context(request, target)
        context["unlock_form"] = form
        return render(request, "accounts/user_detail.html", context, status=400)
    actions.unlock_user(target=target, reason=form.cleaned_data["reason"], context=audit_context(request))
    messages.success(request, "账户已解锁")
    return redirect("accounts:user_detail", pk=target.pk)


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, ApiToken, Action.VIEW):
        raise PermissionDenied("无权查看接口令牌")
    tokens = restrict(ApiToken.objects.select_related("organization", "user"), request.user, Action.VIEW)[:200]
    form = TokenCreateForm(request.POST or None)
    secret = ""
    can_create = role_allows(request.user, ApiToken, Action.CHANGE)
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied("无权创建接口令牌")
        if form.is_valid():
            try:
                token, secret = actions.issue_token(
                    user=acting_user(request),
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    valid_days=form.cleaned_data["valid_days"],
                    context=audit_context(request),
                )
            except ValidationError as exc:  # e.g. the platform scope asked for by an organization that is no platform
                add_action_errors(form, exc)
            else:
                messages.success(request, f"令牌“{token.name}”已创建。密钥只显示这一次，请立即妥善保存。")
                form = TokenCreateForm()
    context = {"title": "接口令牌", "tokens": tokens, "form": form, "secret": secret, "can_create": can_create}
    return render(request, "accounts/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_for(ApiToken.objects.all(), request.user, Action.REVOKE, pk=pk)
    actions.revoke_token(token=token, reason=request.POST.get("reason", ""), context=audit_context(request))
    messages.success(request, f"令牌“{token.name}”已吊销")
    return redirect("accounts:token_list")
