"""A real headless Chromium: a supplier files a supply record through the form, then imports a small XLSX file
with one bad row and sees that row reported while the good ones are stored. Screenshot: /tmp/browser_import.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from jiancai.accounts.tests.browser import log_in
from jiancai.accounts.tests.personas import World
from jiancai.filings.models import Channel, Supply

SCREENSHOT = "/tmp/browser_import.png"  # noqa: S108  (for the lead to look at)
HEADERS = [
    "供应单号",
    "供应企业统一社会信用代码",
    "项目编号",
    "合同编号",
    "材料品类",
    "规格型号",
    "数量",
    "计量单位",
    "供货日期",
]


def _xlsx(path: Path, world: World) -> Path:
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADERS)
    code = world.a_project.project_code
    ws.append(["XL-001", world.a.uscc, code, "HT-XL", "钢筋", "HRB400E Φ20", 12.5, "t", day])
    ws.append(["XL-002", world.a.uscc, code, "HT-XL", "钢筋", "HRB400E Φ25", -4, "t", day])  # row 3: bad quantity
    ws.append(["XL-003", world.a.uscc, code, "HT-XL", "钢筋", "HRB400E Φ25", "1,020.5", "t", day])
    wb.save(path)
    return path


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_supplier_files_a_supply_by_form_and_imports_an_xlsx_with_one_bad_row(
    live_server: Any, browser: Any, world: World, settings: Any, tmp_path: Path
) -> None:
    settings.IMPORT_RUN_INLINE = True
    settings.IMPORT_DIR = tmp_path / "imports"
    user = world["a_staff"]
    wait = WebDriverWait(browser, 15)

    log_in(browser, live_server.url, user, wait)

    # 1. the form: first with a mistake, shown inline; then corrected and submitted
    browser.find_element(By.LINK_TEXT, "供应记录").click()
    browser.find_element(By.LINK_TEXT, "填报").click()
    wait.until(ec.url_contains("/filings/supplies/new/"))
    fill = {
        "supply_no": "WEB-0001",
        "project_code": world.a_project.project_code,
        "contract_no": "HT-WEB-1",
        "spec": "HRB400E Φ16",
        "quantity": "0",
        "unit": "t",
    }
    for name, value in fill.items():
        browser.find_element(By.NAME, name).send_keys(value)
    Select(browser.find_element(By.NAME, "category")).select_by_value("GJ")
    date_input = browser.find_element(By.NAME, "delivery_date")
    browser.execute_script("arguments[0].value = arguments[1]", date_input, (dt.date.today()).isoformat())
    browser.find_element(By.CSS_SELECTOR, "button[name=action][value=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".field-error")))
    assert "数量：必须大于0" in browser.find_element(By.CSS_SELECTOR, ".has-error").text
    assert not Supply.objects.filter(supply_no="WEB-0001").exists()
    quantity = browser.find_element(By.NAME, "quantity")
    quantity.clear()
    quantity.send_keys("36.5")
    browser.find_element(By.CSS_SELECTOR, "button[name=action][value=submit]").click()
    wait.until(ec.url_contains("/filings/supplies/"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "WEB-0001"))
    filed = Supply.objects.get(supply_no="WEB-0001")
    assert (str(filed.quantity), filed.channel, filed.status, filed.filer_id) == (
        "36.500",
        Channel.FORM,
        "submitted",
        world.a.pk,
    )

    # 2. the import: one bad row reported by row number and column, the two good rows stored
    browser.find_element(By.LINK_TEXT, "批量导入").click()
    browser.find_element(By.LINK_TEXT, "上传文件").click()
    wait.until(ec.url_contains("/imports/new/"))
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("供应记录")
    browser.find_element(By.NAME, "file").send_keys(str(_xlsx(tmp_path / "供应.xlsx", world)))
    browser.find_element(By.XPATH, "//button[normalize-space()='上传并导入']").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "数量"))
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "必须大于0" in page
    assert set(Supply.objects.filter(supply_no__startswith="XL-").values_list("supply_no", flat=True)) == {
        "XL-001",
        "XL-003",
    }
    bad_row = browser.find_element(By.XPATH, "//td[normalize-space()='3']/parent::tr")
    assert "数量" in bad_row.text and "必须大于0" in bad_row.text
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1366, min(int(height) + 120, 4000))
    browser.save_screenshot(SCREENSHOT)
