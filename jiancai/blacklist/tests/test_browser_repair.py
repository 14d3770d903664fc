"""A real headless Chromium: the listed enterprise applies for credit repair with a PDF through the form (first
without a statement, refused inline), then sees its application pending. Screenshot: /tmp/browser_repair.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from jiancai.accounts.tests.browser import log_in
from jiancai.accounts.tests.personas import World
from jiancai.blacklist.models import RepairApplication

from .helpers import publish

SCREENSHOT = "/tmp/browser_repair.png"  # noqa: S108  (for the lead to look at)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_listed_enterprise_applies_for_repair_with_a_pdf(
    live_server: Any, browser: Any, world: World, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    entry = publish(world, dt.date.today())
    evidence = tmp_path / "整改报告.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n")
    user = world["a_admin"]
    wait = WebDriverWait(browser, 15)

    log_in(browser, live_server.url, user, wait)

    browser.find_element(By.LINK_TEXT, "失信黑名单").click()
    browser.find_element(By.LINK_TEXT, entry.entry_no).click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), entry.entry_no))
    browser.find_element(By.LINK_TEXT, "申请信用修复").click()
    wait.until(ec.url_contains("/repair/"))
    browser.find_element(By.NAME, "attachments").send_keys(str(evidence))
    browser.find_element(By.XPATH, "//button[normalize-space()='提交申请']").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".field-error")))
    assert "整改及修复说明" in browser.find_element(By.CSS_SELECTOR, ".has-error").text
    assert not RepairApplication.objects.exists()

    browser.find_element(By.NAME, "statement").send_keys("不合格批次已全部召回，复检合格，罚款已缴纳。")
    browser.find_element(By.NAME, "attachments").send_keys(str(evidence))
    browser.find_element(By.XPATH, "//button[normalize-space()='提交申请']").click()
    wait.until(ec.url_contains("/blacklist/repairs/XF-"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "待审核" in body and "整改报告.pdf" in body
    app = RepairApplication.objects.get()
    assert app.applicant == world.a and app.attachments.get().original_name == "整改报告.pdf"
    browser.save_screenshot(SCREENSHOT)
