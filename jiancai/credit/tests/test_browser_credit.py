"""A real headless Chromium: a regulator decides a bad record through the form (first refused inline), then the
enterprise logs in and reads why its score is what it is. Screenshot: /tmp/browser_credit.png."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from jiancai.accounts.tests.browser import log_in
from jiancai.accounts.tests.personas import World
from jiancai.credit.models import BehaviourRecord

SCREENSHOT = "/tmp/browser_credit.png"  # noqa: S108  (for the lead to look at)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_regulator_records_bad_behaviour_and_the_enterprise_reads_its_score(
    live_server: Any, browser: Any, world: World
) -> None:
    wait = WebDriverWait(browser, 15)
    log_in(browser, live_server.url, world["city_biz"], wait)
    browser.find_element(By.LINK_TEXT, "信用行为记录").click()
    browser.find_element(By.LINK_TEXT, "认定记录").click()
    wait.until(ec.url_contains("/credit/records/new/"))
    browser.find_element(By.NAME, "uscc").send_keys(world.a.uscc)
    Select(browser.find_element(By.NAME, "kind")).select_by_value("bad")
    Select(browser.find_element(By.NAME, "source")).select_by_value("penalty")
    for name, value in {
        "title": "使用不合格钢筋",
        "legal_basis": "《建设工程质量管理条例》第六十四条",
        "facts": "抽检钢筋屈服强度不合格",
        "points": "12",
    }.items():
        browser.find_element(By.NAME, name).send_keys(value)
    day = browser.find_element(By.NAME, "decided_on")
    browser.execute_script(
        "arguments[0].value = arguments[1]", day, (dt.date.today() - dt.timedelta(days=2)).isoformat()
    )
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".field-error")))
    assert "不良行为等级：不良行为须选择等级" in browser.find_element(By.TAG_NAME, "body").text
    assert not BehaviourRecord.objects.exists()
    Select(browser.find_element(By.NAME, "severity")).select_by_value("B")
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    wait.until(ec.url_matches(r"/credit/records/XY-\d{4}-\d{6}/$"))
    record = BehaviourRecord.objects.get()
    assert "扣 12.00 分" in browser.find_element(By.TAG_NAME, "body").text

    browser.delete_all_cookies()
    log_in(browser, live_server.url, world["a_staff"], wait)
    browser.find_element(By.LINK_TEXT, "本单位信用档案").click()
    wait.until(ec.url_contains(f"/credit/enterprises/{world.a.uscc}/"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "88.00" in body and "B级（基本守信）" in body and "每 6 个月" in body
    line = browser.find_element(By.XPATH, f"//a[normalize-space()='{record.record_no}']/ancestor::tr")
    assert "-12.00" in line.text and "公示期内" in line.text
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1366, min(int(height) + 120, 4000))
    browser.save_screenshot(SCREENSHOT)
