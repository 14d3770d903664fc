"""The create/edit page shared by every app: validate the form, hand it to an action, show refusals inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from jiancai.accounts.access import Action, role_allows

Saver = Callable[[Any], models.Model]


def add_action_errors(form: Any, exc: ValidationError, fallback: str | None = None) -> None:
    """An action's ValidationError on the form: on its field where the form has one, else on `fallback` or the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(fallback if fallback in form.fields else None, exc)


def form_page(
    request: HttpRequest,
    *,
    form: Any,
    title: str,
    save: Saver,
    cancel_url: str,
    success: str,
    submit_label: str = "保存",
) -> HttpResponse:
    """On a valid POST, `save(form)` (an action) and go to the saved row; otherwise the form with its errors.
    Nothing is stored when the action refuses (it raises inside its own transaction)."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(obj.get_absolute_url())  # type: ignore[attr-defined]
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": title, "cancel_url": cancel_url, "submit_label": submit_label}
    return render(request, "ui/form.html", context, status=status)


def require_change(request: HttpRequest, model: type[models.Model]) -> None:
    if not role_allows(request.user, model, Action.CHANGE):
        raise PermissionDenied(f"无权维护{model._meta.verbose_name}")
