"""A real headless Chromium: a city regulator logs in with the second factor, opens 统计报表 from the navigation,
picks the month and downloads the monthly report as PDF and as Excel; the files arrive in Chrome's download
directory and are a valid PDF (with its Chinese title) and a valid workbook."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from jiancai.accounts.tests.browser import log_in
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.filings.tests.records import Filers

from .month import file_month


def _arrived(directory: Path, suffix: str, timeout: float = 30) -> Path:
    """The downloaded file once Chrome has finished writing it (no .crdownload left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if p.suffix == suffix]
        partial = [p for p in directory.iterdir() if p.suffix == ".crdownload"]
        if done and not partial:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file arrived in {directory}: {list(directory.iterdir())}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_regulator_downloads_the_monthly_report(live_server, browser, world: World, filers: Filers, tmp_path) -> None:
    month = file_month(world, filers)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    user = world["city_biz"]
    wait = WebDriverWait(browser, 15)

    log_in(browser, live_server.url, user, wait)

    browser.find_element(By.LINK_TEXT, "统计报表").click()
    wait.until(ec.url_to_be(f"{live_server.url}/indicators/reports/"))
    month_input = browser.find_element(By.NAME, "month")
    browser.execute_script("arguments[0].value = arguments[1]", month_input, f"{month.start:%Y-%m}")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait.until(ec.url_contains("month="))
    row = browser.find_element(By.XPATH, "//table[@id='downloads']//tr[td[normalize-space()='建材监管月报']]")
    assert f"{month.start:%Y-%m}" in row.text

    row.find_element(By.LINK_TEXT, "下载PDF").click()
    pdf = _arrived(downloads, ".pdf")
    assert pdf.name == f"建材监管月报_全市_{month.start:%Y%m}.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert f"全市建材监管月报（{month.start:%Y年%m月}）" in text and "六、检测合格率" in text

    row = browser.find_element(By.XPATH, "//table[@id='downloads']//tr[td[normalize-space()='建材监管月报']]")
    row.find_element(By.LINK_TEXT, "下载Excel").click()
    xlsx = _arrived(downloads, ".xlsx")
    workbook = load_workbook(xlsx)
    assert workbook.sheetnames[0] == "概况"
    assert workbook["概况"]["A1"].value == f"全市建材监管月报（{month.start:%Y年%m月}）"

    exports = AuditEvent.objects.filter(action="export", target_type="indicators.report", actor=user)
    assert sorted(exports.values_list("changes__format", flat=True)) == ["pdf", "xlsx"]
