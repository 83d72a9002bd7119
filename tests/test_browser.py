"""The web view in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium loads the pages `regwatch run` serves, searches, follows a link and reads what is on the screen.

Skipped, saying why, where no Chromium is installed (`.ci/run` installs it when it can). With
REGWATCH_SCREENSHOTS=DIR the screenshots are also written to DIR (docs/screenshots for the README).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import Install
from .smtp_server import free_port
from .test_web import ALL_SETS, start, stop

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no headless browser: install Debian's chromium and chromium-driver (apt install chromium "
           "chromium-driver) to run the browser tests")
# A closed network: no background connections, no updates, no sync; a fresh profile each time.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=en-GB"]


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_window_size(1200, 1400)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def screenshot(driver, name: str, tmp_path: Path) -> None:
    """Every screenshot is a real PNG; REGWATCH_SCREENSHOTS keeps a copy for the README."""
    png = driver.get_screenshot_as_png()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    (tmp_path / name).write_bytes(png)
    if wanted := os.environ.get("REGWATCH_SCREENSHOTS"):
        Path(wanted).mkdir(parents=True, exist_ok=True)
        (Path(wanted) / name).write_bytes(png)


def test_a_reader_searches_opens_a_notice_and_reads_it_on_a_phone(site_install: Install, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as arrived
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for_title(prefix: str) -> None:  # a click or a submit returns before the next page is there
        WebDriverWait(browser, 15).until(lambda driver: driver.title.startswith(prefix))

    site_install.write_config(ALL_SETS)
    assert site_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    port = free_port()
    proc = start(site_install, port)
    base = f"http://127.0.0.1:{port}"
    try:
        browser.get(base + "/")
        assert browser.title.startswith("Notices")
        listed = browser.find_elements(By.CSS_SELECTOR, "li.notice")
        assert len(listed) == 50 and all(item.is_displayed() for item in listed[:5])
        english = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.notice .title-en") if e.is_displayed()]
        assert len(english) > 20  # what a reader of no Chinese reads
        screenshot(browser, "notices.png", tmp_path)

        box = browser.find_element(By.CSS_SELECTOR, "header input[name=q]")
        box.send_keys("个人信息", Keys.RETURN)
        wait_for_title("Search: 个人信息")
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Search")
        marks = [m for m in browser.find_elements(By.CSS_SELECTOR, "li.notice .snippet mark") if m.is_displayed()]
        assert marks and {m.text for m in marks} == {"个人信息"}
        assert browser.find_element(By.CSS_SELECTOR, "form.filters input[name=q]").get_attribute("value") == "个人信息"
        screenshot(browser, "search.png", tmp_path)

        first = browser.find_element(By.CSS_SELECTOR, "li.notice a.title")
        wanted_title = first.text
        first.click()
        WebDriverWait(browser, 15).until(arrived.url_contains("/notices/"))
        wait_for_title(wanted_title[:10])
        assert browser.find_element(By.TAG_NAME, "h1").text == wanted_title
        headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
        assert any(h.startswith("Why this category") for h in headings)
        assert any(h.startswith("Alerts") for h in headings)
        source_link = browser.find_element(By.CSS_SELECTOR, "a.source-link")
        assert source_link.get_attribute("href").startswith("https://") and source_link.is_displayed()
        screenshot(browser, "notice.png", tmp_path)

        browser.find_element(By.LINK_TEXT, "Sources · 信息源").click()
        wait_for_title("Sources")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.sources tbody tr")
        assert len(rows) > 40 and "sources healthy" in browser.find_element(By.CSS_SELECTOR, "p.summary").text

        browser.set_window_size(390, 844)  # a phone: one column, nothing wider than the screen
        browser.get(base + "/")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        assert browser.find_element(By.CSS_SELECTOR, "header input[name=q]").is_displayed()
        screenshot(browser, "phone.png", tmp_path)
    finally:
        stop(proc)
