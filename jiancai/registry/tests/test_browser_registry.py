"""A real headless Chromium: a city regulator logs in with the second factor, filters the enterprise registry by
district, opens an enterprise and records a verdict. Screenshot: /tmp/browser_registry.png (not asserted)."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from jiancai.accounts.tests.factories import PASSWORD, totp_token
from jiancai.accounts.tests.personas import World
from jiancai.registry.models import Verification

SCREENSHOT = "/tmp/browser_registry.png"  # noqa: S108  (for the lead to look at)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_regulator_logs_in_with_totp_and_verifies_an_enterprise(live_server, browser, world: World) -> None:
    user = world["city_biz"]
    # htmx swaps the results table in place: an element found just before a swap goes stale, so retry.
    wait = WebDriverWait(browser, 15, ignored_exceptions=[StaleElementReferenceException])

    # 1. username and password
    browser.get(f"{live_server.url}/login/")
    assert "用户登录" in browser.page_source
    browser.find_element(By.ID, "id_username").send_keys(user.username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login-box form button[type=submit]").click()

    # 2. the second factor, computed from the user's enrolled device
    wait.until(ec.url_to_be(f"{live_server.url}/login/otp/"))
    assert "动态口令验证" in browser.page_source
    browser.find_element(By.ID, "id_token").send_keys(totp_token(user))
    browser.find_element(By.CSS_SELECTOR, ".login-box form button[type=submit]").click()

    # 3. the workbench
    wait.until(ec.url_to_be(f"{live_server.url}/"))
    assert "工作台" in browser.title and user.display_name in browser.page_source

    # 4. 企业库, filtered by district
    browser.find_element(By.LINK_TEXT, "企业库").click()
    wait.until(ec.url_to_be(f"{live_server.url}/registry/enterprises/"))
    results = browser.find_element(By.ID, "results")
    assert world.a.name in results.text and world.b.name in results.text
    Select(browser.find_element(By.NAME, "district")).select_by_visible_text("海淀区")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait.until(lambda d: world.a.name not in d.find_element(By.ID, "results").text)
    results = browser.find_element(By.ID, "results")
    assert world.b.name in results.text and "共 1 条" in results.text

    # 5. the enterprise's page, and a verdict with a reason
    wait.until(lambda d: d.find_element(By.LINK_TEXT, world.b.name).click() or True)
    wait.until(ec.url_contains(f"/registry/enterprises/{world.b.uscc}/"))
    assert world.b.uscc in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "input[name=verdict][value=confirmed]").click()
    reason = "现场核查营业执照与登记信息一致"
    browser.find_element(By.NAME, "reason").send_keys(reason)
    browser.find_element(By.XPATH, "//button[normalize-space()='提交核实结论']").click()

    # 6. the verdict is on record
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messages"), "核实结论已记录"))
    records = browser.find_element(By.XPATH, "//h2[normalize-space()='核实记录']/following-sibling::table[1]")
    assert reason in records.text and "属实" in records.text and user.display_name in records.text
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1366, min(int(height) + 120, 4000))  # the whole page, 核实记录 included
    browser.save_screenshot(SCREENSHOT)
    verification = Verification.objects.get()
    assert (verification.verdict, verification.reason, verification.organization_id) == (
        "confirmed",
        reason,
        world.b.pk,
    )
