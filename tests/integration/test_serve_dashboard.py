"""The dashboard served by a real uvicorn and read by a real headless Chromium.

Names an n8n editor may have chosen (markup, a template expression, an RTL override, an emoji
sequence, 500 characters) must show as text and create nothing; the page must fit a phone;
signing in and rotate-now must work in a browser. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from starlette.applications import Starlette

from keyturn.formats.safe_text import visible
from keyturn.serve.web import create_app
from keyturn.serve.web_render import STATES
from tests.helpers import wait_until
from tests.serve_views import HOSTILE_NAMES, PLAIN_NAMES, dashboard_view

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "browser-test-token"
METRICS = (b"keyturn_up 1\n", "text/plain; version=0.0.4; charset=utf-8")
PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.n8n  # needs something outside Python (Chromium): not the fast subset


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """`app` on a free port of 127.0.0.1 in a thread; its base URL once /healthz answers."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=20)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(f"{url}/healthz"), timeout=20)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).text == "ok"
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def open_url() -> Iterator[str]:
    app = create_app(
        view=dashboard_view, metrics=lambda: METRICS, ready=lambda: (True, "ok"), token=None
    )
    with serving(app) as url:
        yield url


class Rotations:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, credential_id: str) -> str:
        self.calls.append(credential_id)
        return f"Rotation of {credential_id} started."


def page_width(driver: WebDriver) -> tuple[int, int]:
    widths = driver.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
    )
    return int(widths[0]), int(widths[1])


def saved_png(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 1000, path
    assert path.read_bytes()[:8] == PNG, path


def assert_no_alert(driver: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 (reading it is the check)


def test_the_dashboard_shows_hostile_names_as_text(driver: WebDriver, open_url: str) -> None:
    driver.set_window_size(1280, 900)
    driver.get(f"{open_url}/")
    assert driver.title == "n8n-prod <eu-1> · keyturn"
    assert_no_alert(driver)
    scroll_width, client_width = page_width(driver)
    assert scroll_width <= client_width, (scroll_width, client_width)

    cells = driver.find_elements(By.CSS_SELECTOR, "#credentials td.name")
    expected = [visible(name) for name in PLAIN_NAMES + HOSTILE_NAMES]
    assert sorted(cell.text for cell in cells) == sorted(expected)
    assert "invoice\\u202egnp.exe" in [cell.text for cell in cells]  # shown, not obeyed

    assert driver.find_elements(By.CSS_SELECTOR, "img") == []
    assert driver.find_elements(By.CSS_SELECTOR, "script") == []
    assert driver.find_elements(By.CSS_SELECTOR, "[onerror]") == []
    assert "49" not in [cell.text for cell in cells]

    labels = {badge.text for badge in driver.find_elements(By.CSS_SELECTOR, "td.state .badge")}
    assert labels == {label for label, _ in STATES.values()}
    health = {badge.text for badge in driver.find_elements(By.CSS_SELECTOR, "td.health .badge")}
    assert health == {"healthy", "failing", "unknown"}

    # the stylesheet loaded (the CSP allows it) and the badges have a colour of their own
    badge = driver.find_element(By.CSS_SELECTOR, ".state-needs_attention")
    assert badge.value_of_css_property("border-radius") != "0px"

    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 120, 6000))
    ARTIFACTS.mkdir(exist_ok=True)
    desktop = ARTIFACTS / "serve-dashboard.png"
    driver.save_screenshot(str(desktop))
    saved_png(desktop)


def test_the_dashboard_fits_a_phone(driver: WebDriver, open_url: str) -> None:
    driver.set_window_size(375, 812)
    driver.get(f"{open_url}/")
    assert driver.execute_script("return window.innerWidth") <= 400
    scroll_width, client_width = page_width(driver)
    assert scroll_width <= client_width, (scroll_width, client_width)
    for cell in driver.find_elements(By.CSS_SELECTOR, "td.name"):
        assert cell.rect["x"] + cell.rect["width"] <= client_width + 1, cell.text[:40]
    assert_no_alert(driver)

    ARTIFACTS.mkdir(exist_ok=True)
    phone = ARTIFACTS / "serve-dashboard-phone.png"
    driver.save_screenshot(str(phone))
    saved_png(phone)


def test_sign_in_and_rotate_now_in_the_browser(driver: WebDriver) -> None:
    rotations = Rotations()
    app = create_app(
        view=dashboard_view,
        metrics=lambda: METRICS,
        ready=lambda: (True, "ok"),
        token=TOKEN,
        rotate_now=rotations,
    )
    wait = WebDriverWait(driver, 15)
    with serving(app) as url:
        driver.set_window_size(1280, 900)
        driver.delete_all_cookies()
        driver.get(f"{url}/")
        wait.until(expected_conditions.url_to_be(f"{url}/login"))

        sign_in(driver, "not the token")
        error = wait.until(
            expected_conditions.presence_of_element_located((By.CLASS_NAME, "error"))
        )
        assert error.text == "Wrong token."

        sign_in(driver, TOKEN)
        wait.until(expected_conditions.url_to_be(f"{url}/"))
        assert driver.find_element(By.CSS_SELECTOR, "h1 .instance").text == "n8n-prod <eu-1>"
        cookie = driver.get_cookie("keyturn_session")
        assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        table = driver.find_element(By.CSS_SELECTOR, "#credentials .table-wrap")
        widths = driver.execute_script(
            "return [arguments[0].scrollWidth, arguments[0].clientWidth]", table
        )
        assert widths[0] <= widths[1], widths  # the rotate column fits beside the others

        first = driver.find_element(By.CSS_SELECTOR, "#credentials tbody tr")
        first.find_element(By.CSS_SELECTOR, "details.rotate summary").click()
        first.find_element(By.CSS_SELECTOR, "details.rotate button").click()
        flash = wait.until(
            expected_conditions.presence_of_element_located((By.CLASS_NAME, "flash"))
        )
        assert flash.text == f"Rotation of {rotations.calls[0]} started."
        assert len(rotations.calls) == 1

        driver.refresh()
        assert driver.find_elements(By.CLASS_NAME, "flash") == []  # shown once
        assert_no_alert(driver)

        driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
        wait.until(expected_conditions.url_to_be(f"{url}/login"))
        driver.get(f"{url}/")
        assert driver.current_url == f"{url}/login"


def sign_in(driver: WebDriver, token: str) -> None:
    field = driver.find_element(By.NAME, "token")
    field.clear()
    field.send_keys(token)
    field.submit()
