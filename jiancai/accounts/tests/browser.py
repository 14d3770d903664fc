"""Browser-test steps shared by every app's Chromium tests."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from .factories import PASSWORD, totp_token


def log_in(browser: Any, base_url: str, user: Any, wait: WebDriverWait) -> None:
    """Log in through the login page (and the TOTP page for a regulator) and wait for the workbench."""
    browser.get(f"{base_url}/login/")
    browser.find_element(By.ID, "id_username").send_keys(user.username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login-box form button[type=submit]").click()
    if user.requires_second_factor:
        wait.until(ec.url_to_be(f"{base_url}/login/otp/"))
        browser.find_element(By.ID, "id_token").send_keys(totp_token(user))
        browser.find_element(By.CSS_SELECTOR, ".login-box form button[type=submit]").click()
    wait.until(ec.url_to_be(f"{base_url}/"))
