"""A real headless Chromium for e2e tests: Debian's `chromium` + `chromium-driver`, driven by Selenium.

No browser or driver is ever downloaded: Selenium gets the system binaries' paths, so Selenium Manager
has nothing to fetch. Screenshots go to tests/artifacts/console/ (git-ignored; STRATUS_ARTIFACTS_DIR
moves it), and the run's terminal summary prints where.
"""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(os.environ.get("STRATUS_ARTIFACTS_DIR", Path(__file__).parents[1] / "artifacts")) / "console"
SAVED: list[Path] = []  # this run's screenshots, for the terminal summary
T = TypeVar("T")


def system_chromium() -> tuple[str, str]:
    """Paths of the system's chromium and chromedriver; skip without them (fail under CI)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.environ.get("CI"):
        pytest.fail("chromium and chromedriver are required when CI is set: apt-get install chromium chromium-driver")
    pytest.skip("chromium / chromedriver not installed (apt-get install chromium chromium-driver)")


@contextmanager
def headless_chromium(width: int = 1360, height: int = 900) -> Iterator[webdriver.Chrome]:
    browser, driver_path = system_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = tempfile.mkdtemp(prefix="stratus-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI: Chromium's sandbox refuses to start as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: WebDriver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    SAVED.append(path)
    return path


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], T], timeout_s: float = 60, what: str = "") -> T:
    """The first truthy value of `condition`; a timeout says what was awaited and what the page shows."""
    try:
        wait = WebDriverWait(driver, timeout_s, 0.2, (NoSuchElementException, StaleElementReferenceException))
        return wait.until(condition)
    except Exception as exc:
        raise AssertionError(f"waited {timeout_s} s for {what or condition}; page text:\n{page_text(driver)}") from exc


def page_text(driver: WebDriver) -> str:
    text: Any = driver.execute_script("return document.body.innerText")
    return str(text)[-3000:]


def text_of(driver: WebDriver, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def type_into(element: WebElement, text: str) -> None:
    element.clear()
    element.send_keys(text)


def script_problems(driver: webdriver.Chrome) -> list[str]:
    """Browser log lines that mean the page broke: CSP violations, uncaught errors."""
    markers = ("Content Security Policy", "Uncaught", "SyntaxError", "TypeError", "ReferenceError")
    return [entry["message"] for entry in driver.get_log("browser") if any(m in entry["message"] for m in markers)]
