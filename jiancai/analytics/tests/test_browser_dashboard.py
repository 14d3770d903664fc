"""A real headless Chromium: the city regulator logs in with the second factor, opens 数据分析 from the menu, clicks
a tile and a bar of an ECharts chart (a real mouse click on the canvas) to drill down to the records behind them,
and downloads the monthly report from the dashboard; the workbook arrives in Chrome's download directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from jiancai.accounts.tests.browser import log_in
from jiancai.accounts.tests.personas import World
from jiancai.analytics import rollups
from jiancai.filings.tests.records import Filers
from jiancai.indicators.tests.month import file_month
from jiancai.indicators.tests.test_browser_reports import _arrived

SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def _count(browser: Any) -> int:
    found = re.search(r"共 (\d+) 条", browser.find_element(By.CSS_SELECTOR, "p.count").text)
    assert found
    return int(found.group(1))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_city_regulator_drills_down_and_downloads_the_report(
    live_server: Any, browser: Any, world: World, filers: Filers, tmp_path: Path
) -> None:
    month = file_month(world, filers)
    rollups.rebuild()
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    user = world["city_biz"]
    wait = WebDriverWait(browser, 20)

    log_in(browser, live_server.url, user, wait)

    browser.find_element(By.LINK_TEXT, "数据分析").click()
    wait.until(ec.url_to_be(f"{live_server.url}/analytics/"))
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-chart][data-ready='1']")) >= 10)
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "analytics-dashboard.png"))
    assert "数据分析 · 全市" in browser.find_element(By.TAG_NAME, "h1").text

    # A tile: this month's purchases (two, both in 海淀区).
    tile = browser.find_element(By.XPATH, "//a[@class='dash-tile'][span[text()='本月采购记录']]")
    assert tile.find_element(By.CLASS_NAME, "dash-tile-value").text == "2"
    tile.click()
    wait.until(ec.url_contains("/filings/purchases/"))
    assert _count(browser) == 2
    browser.back()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-chart][data-ready='1']")) >= 10)

    # A bar of the monthly volumes chart: this month's supplies (one), clicked on the canvas at its pixel position.
    chart = browser.find_element(By.CSS_SELECTOR, "#panel-volumes [data-chart]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
    x, y = browser.execute_script(
        "var c = echarts.getInstanceByDom(arguments[0]);"
        "return c.convertToPixel({seriesIndex: 0}, [c.getOption().xAxis[0].data.length - 1, 0.5]);",
        chart,
    )
    ActionChains(browser).move_to_element_with_offset(
        chart, int(x - chart.size["width"] / 2), int(y - chart.size["height"] / 2)
    ).click().perform()
    wait.until(ec.url_contains("/filings/supplies/"))
    assert f"date_from={month.start:%Y-%m-%d}" in browser.current_url
    assert _count(browser) == 1
    browser.back()
    wait.until(ec.url_contains("/analytics/"))

    # The monthly report of the month shown, from the dashboard.
    browser.find_element(By.ID, "monthly-report").click()
    xlsx = _arrived(downloads, ".xlsx")
    assert xlsx.name == f"建材监管月报_全市_{month.start:%Y%m}.xlsx"
    assert load_workbook(xlsx)["概况"]["A1"].value == f"全市建材监管月报（{month.start:%Y年%m月}）"
