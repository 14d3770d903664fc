"""A real headless Chromium at a phone-sized window: the public portal pages fit the screen, an enterprise is
looked up from the home page, and a test report's verification code, read from its printable page, is checked
through the QR link. Screenshots: /tmp/browser_portal_*.png."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from jiancai.accounts.tests.browser import log_in
from jiancai.accounts.tests.personas import World
from jiancai.filings.tests.records import Filers
from jiancai.portal.tests.data import make_portal_data

PHONE = (390, 844)
SCREENSHOT = "/tmp/browser_portal_{}.png"  # noqa: S108  (for the lead to look at)


def _fits(browser: Any) -> None:
    """Nothing wider than the screen: the page never scrolls sideways (wide tables scroll inside their box)."""
    width, inner = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    assert width <= inner, f"{browser.current_url}: page {width}px wider than the {inner}px screen"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_portal_on_a_phone(live_server: Any, browser: Any, world: World, filers: Filers) -> None:
    data = make_portal_data(world, filers)
    browser.set_window_size(*PHONE)
    wait = WebDriverWait(browser, 15)
    base = live_server.url

    # 1. every public page renders and fits a phone screen
    pages = {
        "/portal/": "企业信用查询",
        "/portal/quality-materials/": "BA-GJ-0001",
        "/portal/top-products/": "北京朝建建材有限公司",
        "/portal/product-filings/?q=BA-GJ": "BA-GJ-0009",
        "/portal/catalog/": "黏土实心砖",
        "/portal/projects/": "海淀学院路学校项目",
        "/portal/notices/": "暂无通报",
    }
    for path, text in pages.items():
        browser.get(base + path)
        assert text in browser.find_element(By.TAG_NAME, "main").text, path
        _fits(browser)
    browser.get(base + "/portal/prices/")
    wait.until(lambda b: b.find_element(By.ID, "price-chart").get_attribute("data-ready") == "1")
    assert browser.find_elements(By.CSS_SELECTOR, "#price-chart canvas"), "ECharts drew nothing"
    assert "钢筋（元/t）" in browser.find_element(By.TAG_NAME, "table").text
    _fits(browser)
    browser.save_screenshot(SCREENSHOT.format("prices"))

    # 2. look an enterprise up from the home page search box
    browser.get(base + "/portal/")
    box = browser.find_element(By.ID, "home-q")
    box.send_keys("朝建")
    box.submit()
    wait.until(ec.url_contains("/portal/enterprises/?q="))
    browser.find_element(By.LINK_TEXT, "北京朝建建材有限公司").click()
    wait.until(ec.url_contains(f"/portal/enterprises/{world.a.uscc}/"))
    standing = browser.find_element(By.ID, "credit-standing").text
    assert "B" in standing and "88.5" in standing
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "供应钢筋未备案" in main and "张**" in main and "张三丰" not in main
    _fits(browser)
    browser.save_screenshot(SCREENSHOT.format("enterprise"))

    # 3. the laboratory prints the report: its verification code and QR link
    log_in(browser, base, filers.lab_staff, wait)
    browser.get(f"{base}/filings/test-reports/{data.report.pk}/")
    browser.find_element(By.PARTIAL_LINK_TEXT, "打印").click()
    wait.until(ec.presence_of_element_located((By.ID, "verification-code")))
    code = browser.find_element(By.ID, "verification-code").text
    qr_link = browser.find_element(By.CSS_SELECTOR, ".p-url").text
    assert browser.find_elements(By.CSS_SELECTOR, ".p-qr svg")
    browser.delete_all_cookies()  # the public, not logged in, holds the paper

    # 4. the QR link opens the check pre-filled; checking says genuine with a masked summary
    browser.get(qr_link)
    assert browser.find_element(By.ID, "id_code").get_attribute("value") == code
    browser.find_element(By.CSS_SELECTOR, ".p-form button[type=submit]").click()
    result = wait.until(ec.presence_of_element_located((By.ID, "verify-result"))).text
    assert "真实有效" in result and "JC-0001" in result and "王*" in result and "王五" not in result
    _fits(browser)
    browser.save_screenshot(SCREENSHOT.format("verify"))

    # 5. a forged code is not found
    field = browser.find_element(By.ID, "id_code")
    field.clear()
    field.send_keys("AAAA-BBBB-CCCC" if code != "AAAA-BBBB-CCCC" else "BBBB-CCCC-DDDD")
    previous = browser.find_element(By.ID, "verify-result")
    browser.find_element(By.CSS_SELECTOR, ".p-form button[type=submit]").click()
    wait.until(ec.staleness_of(previous))  # the page of the genuine check is gone
    result = wait.until(ec.presence_of_element_located((By.ID, "verify-result"))).text
    assert "未查到该报告" in result and "真实有效" not in result
