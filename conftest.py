"""Fixtures shared by every app's tests.

`browser` drives the Debian Chromium through Selenium (installed by `bin/test`). Pair it with pytest-django's
`live_server`, which serves static files too (django.contrib.staticfiles is installed):

    @pytest.mark.browser
    def test_login_page(live_server, browser):
        browser.get(f"{live_server.url}/login/")
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW_SIZE = (1366, 900)

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--lang=zh-CN",
)


@pytest.fixture(autouse=True)
def _monitoring_inline(settings: Any, tmp_path: Path) -> None:
    """Cross-checks and rollup refreshes triggered by filings run before the filing call returns (no background
    thread in tests), and
    uploaded attachments go to the test's own directory."""
    settings.MONITORING_RUN_INLINE = True
    settings.ANALYTICS_REFRESH_INLINE = True  # the dashboard rollups too (jiancai.analytics.dispatch)
    settings.AUDIT_CHAIN_INLINE = True  # token-use audit rows too (jiancai.audit.chaining; its own tests turn it off)
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def browser(tmp_path: Path, settings: Any) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium (own profile directory, 1366×900, Chinese UI language); quit at teardown."""
    # The live server speaks plain HTTP: cookies marked Secure would never come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: run bin/test, or apt-get install chromium chromium-driver")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}")
    # Accept-Language decides the language of Django's own messages (LocaleMiddleware); keep it Chinese.
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    # Giving both the browser binary and the driver path keeps Selenium Manager from downloading anything.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_window_size(*WINDOW_SIZE)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
