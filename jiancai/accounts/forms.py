from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError

from .models import Organization, Role, TokenScope, User


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", widget=forms.PasswordInput)


class OtpForm(forms.Form):
    token = forms.RegexField(
        label="动态口令",
        regex=r"^\d{6}$",
        error_messages={"invalid": "动态口令应为6位数字"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="原密码", widget=forms.PasswordInput)
    new_password = forms.CharField(
        label="新密码", widget=forms.PasswordInput, help_text=password_validators_help_text_html()
    )
    new_password2 = forms.CharField(label="确认新密码", widget=forms.PasswordInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_old_password(self) -> str:
        value: str = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise ValidationError("原密码不正确")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new, again = data.get("new_password"), data.get("new_password2")
        if new and again and new != again:
            self.add_error("new_password2", "两次输入的新密码不一致")
        elif new:
            if new == data.get("old_password"):
                self.add_error("new_password", "新密码不能与原密码相同")
            else:
                try:
                    validate_password(new, self.user)
                except ValidationError as exc:
                    self.add_error("new_password", exc)
        return data


class UserCreateForm(forms.Form):
    organization = forms.ModelChoiceField(label="所属机构", queryset=Organization.objects.none())
    username = forms.RegexField(
        label="用户名",
        regex=r"^[A-Za-z0-9_.@-]{3,150}$",
        error_messages={"invalid": "用户名只能包含字母、数字和 _ . @ -，3至150位"},
    )
    display_name = forms.CharField(label="姓名", max_length=64)
    # Security and audit administrators are opened on the server only (see actions.OVERSIGHT_ROLES).
    role = forms.ChoiceField(
        label="角色", choices=[(r.value, r.label) for r in Role if r not in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)]
    )
    phone = forms.CharField(label="手机号", max_length=32, required=False)
    email = forms.EmailField(label="电子邮箱", required=False)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, help_text="用户首次登录时须修改")

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = organizations

    def clean_username(self) -> str:
        value: str = self.cleaned_data["username"]
        if User.objects.filter(username=value).exists():
            raise ValidationError("该用户名已被使用")
        return value


class UserEditForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "role", "phone", "email", "is_active"]
        labels = {"is_active": "启用", "email": "电子邮箱"}


class PasswordResetForm(forms.Form):
    new_password = forms.CharField(label="临时密码", widget=forms.PasswordInput, help_text="用户下次登录时须修改")
    reason = forms.CharField(label="重置原因", max_length=500)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=500)


class TokenCreateForm(forms.Form):
    name = forms.CharField(label="令牌名称", max_length=64, help_text="例如：ERP系统对接")
    scopes = forms.MultipleChoiceField(
        label="权限范围",
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一项权限范围"},
    )
    valid_days = forms.IntegerField(label="有效天数", min_value=1, max_value=366, initial=90)
