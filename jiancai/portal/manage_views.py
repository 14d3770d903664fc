"""The platform side of the portal (login required): regulators write, publish and withdraw notices, and anyone
who may see a test report prints it with its verification code and a QR code of the portal's check."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from jiancai.accounts.access import Action, can, get_for
from jiancai.accounts.context import acting_user, audit_context
from jiancai.audit.models import AuditEvent
from jiancai.filings.models import FilingStatus, TestReport
from jiancai.ui.lists import Column, ScopedListView
from jiancai.ui.pages import form_page, require_change

from . import actions
from .filters import NoticeFilter
from .forms import NoticeForm, WithdrawForm
from .models import Notice, NoticeStatus
from .report_codes import code_for


class NoticeList(ScopedListView):
    model = Notice
    filterset_class = NoticeFilter
    title = "通报管理"
    create_url_name = "disclosure:notice_create"
    related = ("district", "organization")
    columns = (
        Column("标题", "title", link=True),
        Column("类别", "category"),
        Column("范围", "district_label"),
        Column("状态", "status"),
        Column("发布时间", "published_at"),
        Column("发布机构", "organization.name"),
        Column("撰写人", "created_by_name"),
        Column("更新时间", "updated_at"),
    )


def _notice(request: HttpRequest, public_id: Any, action: str = Action.VIEW) -> Notice:
    return get_for(Notice.objects.select_related("district", "organization"), request.user, action, public_id=public_id)


@login_required
def notice_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    notice = _notice(request, public_id)
    editable = can(request.user, Action.CHANGE, notice)
    history = AuditEvent.objects.filter(target_type="portal.notice", target_id=str(notice.pk)).order_by("-seq")
    context = {
        "title": notice.title,
        "notice": notice,
        "can_edit": editable and notice.status == NoticeStatus.DRAFT,
        "can_publish": editable and notice.status == NoticeStatus.DRAFT,
        "can_withdraw": editable and notice.status == NoticeStatus.PUBLISHED,
        "withdraw_form": WithdrawForm(),
        "history": list(history[:50]),
    }
    return render(request, "portal/manage/notice_detail.html", context)


@login_required
def notice_edit(request: HttpRequest, public_id: Any = None) -> HttpResponse:
    require_change(request, Notice)
    user = acting_user(request)
    instance = _notice(request, public_id, Action.CHANGE) if public_id else Notice()
    form = NoticeForm(request.POST or None, instance=instance, user=user)

    def save(f: Any) -> models.Model:
        return actions.save_notice(
            instance=instance,
            data=f.data_for_action(),
            actor=user,
            context=audit_context(request),
            expected_version=f.cleaned_data.get("expected_version"),
        )

    return form_page(
        request,
        form=form,
        title=f"修改通报：{instance.title}" if public_id else "撰写通报",
        save=save,
        cancel_url=instance.get_absolute_url() if public_id else reverse("disclosure:notice_list"),
        success="通报草稿已保存",
    )


@login_required
@require_POST
def notice_publish(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = acting_user(request)
    notice = _notice(request, public_id, Action.CHANGE)
    try:
        actions.publish_notice(notice=notice, actor=user, context=audit_context(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "通报已发布，公示门户即时可见")
    return redirect(notice.get_absolute_url())


@login_required
@require_POST
def notice_withdraw(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = acting_user(request)
    notice = _notice(request, public_id, Action.CHANGE)
    form = WithdrawForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        actions.withdraw_notice(notice=notice, reason=str(reason), actor=user, context=audit_context(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "通报已撤回，公示门户不再显示")
    return redirect(notice.get_absolute_url())


# ---------------------------------------------------------------------------------------------- printable report


def verification_url(request: HttpRequest, report: TestReport, code: str) -> str:
    query = urlencode({"report_no": report.report_no, "code": code})
    return request.build_absolute_uri(f"{reverse('portal:verify')}?{query}")


@login_required
def report_print(request: HttpRequest, pk: int) -> HttpResponse:
    """A test report's printable page: its fields, the verification code and a QR code of the portal's check."""
    report = get_for(
        TestReport.objects.select_related("filer", "producer", "project", "category"),
        request.user,
        Action.VIEW,
        pk=pk,
        is_current=True,
    )
    code = code_for(report) if report.status == FilingStatus.SUBMITTED else ""
    url = verification_url(request, report, code) if code else ""
    qr_svg = ""
    if url:
        image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
        qr_svg = image.to_string(encoding="unicode")
    context = {
        "title": f"检测报告 {report.report_no}",
        "report": report,
        "code": code,
        "verify_url": url,
        "qr_svg": qr_svg,
        "printed_at": timezone.localtime(),
    }
    return render(request, "portal/manage/report_print.html", context)
