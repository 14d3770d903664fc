"""Test-report authenticity check: the code on the printable page, genuine / forged / wrong code / withdrawn,
form errors, the rate limit, and no difference between "no such report" and "wrong code"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.filings.actions import withdraw_filing
from jiancai.filings.tests.records import Filers, file_as, report_row
from jiancai.portal.masking import mask_id_number, mask_name, mask_names, mask_phone
from jiancai.portal.report_codes import check_report, normalize_code, verification_code
from jiancai.portal.tests.data import make_portal_data


@pytest.fixture
def data(world: World, filers: Filers) -> Any:
    return make_portal_data(world, filers)


def _code(data: Any) -> str:
    return verification_code(data.report.filer.uscc, data.report.report_no)


def _post(client: Client, report_no: str, code: str, **extra: Any) -> Any:
    return client.post("/portal/verify/", {"report_no": report_no, "code": code}, **extra)


def test_code_is_stable_keyed_and_formatted(settings: Any) -> None:
    code = verification_code("91110105MA0000000X", "JC-0001")
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    assert code == verification_code("91110105MA0000000X", "JC-0001")
    assert code != verification_code("91110105MA0000000X", "JC-0002")
    assert code != verification_code("91110105MA0000001X", "JC-0001")
    settings.REPORT_CODE_KEY = "another key"
    assert code != verification_code("91110105MA0000000X", "JC-0001")
    assert normalize_code(" " + code.lower().replace("-", " ") + " ") == code.replace("-", "")


@pytest.mark.django_db
def test_genuine_report_shows_a_masked_summary(client: Client, data: Any) -> None:
    response = _post(client, "JC-0001", _code(data).lower().replace("-", ""))
    text = response.content.decode()
    assert response.status_code == 200
    assert "真实有效" in text and "JC-0001" in text and "北京市建设工程质量检测中心" in text
    assert "海淀学院路学校项目" in text and "合格" in text
    assert "王*" in text and "赵*、钱*" in text
    for secret in ("王五", "赵六", "钱七"):
        assert secret not in text
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_wrong_code_and_unknown_number_get_the_same_answer(client: Client, data: Any) -> None:
    code = _code(data)
    forged = ("A" if code[0] != "A" else "B") + code[1:]
    wrong_code = _post(client, "JC-0001", forged)
    unknown = _post(client, "JC-9999", code)
    assert wrong_code.status_code == unknown.status_code == 200
    for response in (wrong_code, unknown):
        text = response.content.decode()
        assert "未查到该报告" in text and "真实有效" not in text and "北京市建设工程质量检测中心" not in text

    def result(response: Any) -> str:
        return re.search(r'<section class="p-result.*?</section>', response.content.decode(), re.S).group(0)  # type: ignore[union-attr]

    assert result(wrong_code) == result(unknown)


@pytest.mark.django_db
def test_code_of_another_laboratorys_report_of_the_same_number_does_not_match(
    client: Client, world: World, filers: Filers, data: Any
) -> None:
    # The report number is unique per laboratory only: a forger's own code for "JC-0001" proves nothing.
    assert check_report("JC-0001", verification_code(world.a.uscc, "JC-0001")).report is None
    assert check_report("JC-0001", _code(data)).genuine


@pytest.mark.django_db
def test_withdrawn_and_draft_reports_are_not_genuine(client: Client, world: World, filers: Filers, data: Any) -> None:
    lab = filers.lab_staff
    code = _code(data)
    withdraw_filing(filing=data.report, reason="录入错误", actor=lab, context=context_for(lab))
    text = _post(client, "JC-0001", code).content.decode()
    assert "报告已撤回" in text and "真实有效" not in text
    draft = file_as(lab, "test_report", report_row(world, filers, 2), status="draft")
    assert draft.rows
    assert "未查到该报告" in _post(client, "JC-0002", verification_code(filers.lab.uscc, "JC-0002")).content.decode()


@pytest.mark.django_db
def test_form_errors_name_the_field(client: Client, data: Any) -> None:
    response = _post(client, "", "ABC")
    text = response.content.decode()
    assert response.status_code == 400
    assert "报告编号：必须填写" in text and "防伪校验码：应为12位" in text


@pytest.mark.django_db
@override_settings(PORTAL_VERIFY_LIMIT=3)
def test_checks_are_limited_per_address(client: Client, data: Any) -> None:
    for _ in range(3):
        assert _post(client, "JC-0001", "AAAA-AAAA-AAAA").status_code == 200
    limited = _post(client, "JC-0001", _code(data))
    assert limited.status_code == 429 and "过于频繁" in limited.content.decode()
    assert "真实有效" not in limited.content.decode()
    other = _post(client, "JC-0001", _code(data), REMOTE_ADDR="10.0.0.9")
    assert "真实有效" in other.content.decode()


@pytest.mark.django_db
def test_qr_link_prefills_the_form_without_checking(client: Client, data: Any) -> None:
    code = _code(data)
    response = client.get(f"/portal/verify/?report_no=JC-0001&code={code}")
    text = response.content.decode()
    assert f'value="{code}"' in text and 'value="JC-0001"' in text
    assert "查验结果" not in text


@pytest.mark.django_db
def test_printable_page_shows_the_code_and_a_qr_of_the_portal_check(
    client: Client, logged_in: Any, world: World, filers: Filers, data: Any
) -> None:
    from jiancai.accounts.tests.personas import login_as

    login_as(client, filers.lab_staff)
    response = client.get(f"/disclosure/test-reports/{data.report.pk}/print/")
    text = response.content.decode()
    assert response.status_code == 200
    assert _code(data) in text and "<svg" in text
    assert f"http://testserver/portal/verify/?report_no=JC-0001&amp;code={_code(data)}" in text
    detail = client.get(f"/filings/test-reports/{data.report.pk}/").content.decode()
    assert f"/disclosure/test-reports/{data.report.pk}/print/" in detail


@pytest.mark.django_db
def test_printable_page_goes_through_the_funnel(client: Client, world: World, filers: Filers, data: Any) -> None:
    from jiancai.accounts.tests.personas import login_as

    login_as(client, world["b_staff"])  # neither the laboratory nor the producer
    assert client.get(f"/disclosure/test-reports/{data.report.pk}/print/").status_code == 403
    assert client.get("/disclosure/test-reports/999999/print/").status_code == 404


def test_masking() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "李*"
    assert mask_name("") == ""
    assert mask_names("赵六、钱七") == "赵*、钱*"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("010-62345678") == "010-****5678"
    assert mask_phone("12345") == "*****"
    assert mask_id_number("11010119900307123X") == "110101********123X"
