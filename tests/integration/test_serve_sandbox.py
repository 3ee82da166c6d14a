"""The whole of `keyturn serve` on the sandbox's credentials: a real n8n seeded as the demo is,
the demo provider, live webhook runs, the scheduler's evaluation and health check, the HTTP
server, and the dashboard read by a real headless Chromium (a screenshot kept)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from keyturn.core.config import FileConfig, Settings
from keyturn.journal import open_journal
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.workflows import DemoProviderClient, seed_demo
from keyturn.serve import view as v
from keyturn.serve.runner import Serving, start_http
from keyturn.serve.scheduler import Scheduler
from keyturn.serve.settings import serve_settings
from keyturn.serve.web_render import human_age
from tests.conftest import N8nHandle
from tests.integration.test_serve_dashboard import ARTIFACTS, assert_no_alert, saved_png

pytestmark = pytest.mark.n8n

HOSTILE = '<img src=x onerror=alert(1)> "Ops" 🔑 {{ 7*7 }}'


@pytest.fixture
def served(
    n8n: N8nHandle, provider: DemoProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Serving, str]]:
    """The HTTP server after one evaluation, and the seeded Partner API's id (the shared n8n
    can hold other credentials of that name, seeded by earlier tests)."""
    monkeypatch.setenv("KEYTURN_STATE_DIR", str(tmp_path / "state"))
    seed = seed_demo(n8n.client, DemoProviderClient(provider.url, provider.admin_token))
    n8n.client.create_credential(HOSTILE, "httpHeaderAuth", {"name": "X-Ops", "value": "x" * 40})
    for path in ("partner-sync", "partner-sync-query", "partner-sync-basic"):  # runs to judge by
        assert httpx.get(f"{n8n.url}/webhook/{path}", timeout=30).status_code == 200
    settings = Settings(
        n8n.client.connection,
        FileConfig.model_validate({"rotation": {"Partner API": {"max_age": "90d"}}}),
    )
    journal = open_journal()
    serve = serve_settings({"listen": "127.0.0.1:0", "interval": "1m"})
    scheduler = Scheduler(settings, serve, n8n.client, journal, lambda kind, event: None)
    scheduler.tick()
    serving = start_http(scheduler, serve, token=None)
    yield serving, seed.credentials["Partner API"].id
    serving.close()
    journal.close()


def test_the_dashboard_lists_the_sandbox_with_real_ages_and_health(
    served: tuple[Serving, str], n8n: N8nHandle, driver: WebDriver
) -> None:
    serving, partner_id = served
    view = serving.scheduler.view
    expected = {c.name for c in n8n.client.list_credentials()}
    assert {row.name for row in view.credentials} == expected and HOSTILE in expected
    partner = next(row for row in view.credentials if row.credential_id == partner_id)
    assert partner.name == "Partner API"
    assert partner.health == v.HEALTHY and "ran fine" in partner.health_detail
    assert partner.policy == "max_age 90d" and partner.state == v.OK
    assert partner.age_seconds is not None and 0 <= partner.age_seconds < 3600  # seeded now

    driver.set_window_size(1280, 900)
    driver.get(serving.url + "/")
    assert_no_alert(driver)
    # By id: two credentials can share a name.
    shown = driver.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")
    rows = {
        row.find_element(By.CSS_SELECTOR, "span.id").text.removeprefix("id "): row for row in shown
    }
    assert len(shown) == len(view.credentials)
    assert set(rows) == {row.credential_id for row in view.credentials}
    names = {row.find_element(By.CSS_SELECTOR, "td.name").text for row in rows.values()}
    assert names == expected  # the hostile name as typed, as text
    assert driver.find_elements(By.CSS_SELECTOR, "img") == []
    for data in view.credentials:
        row = rows[data.credential_id]
        assert row.find_element(By.CSS_SELECTOR, "td.name").text == data.name
        assert row.find_element(By.CSS_SELECTOR, "td.age").text == human_age(data.age_seconds)
        assert row.find_element(By.CSS_SELECTOR, "td.health .badge").text.lower() == data.health
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "serve-sandbox-dashboard.png"
    driver.save_screenshot(str(shot))
    saved_png(shot)

    metrics = httpx.get(serving.url + "/metrics", timeout=10).text
    ages = {
        sample.labels["credential_id"]: (sample.labels["credential"], sample.value)
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "keyturn_credential_age_seconds"
    }
    assert {name for name, _ in ages.values()} <= expected
    name, age = ages[partner.credential_id]
    assert name == "Partner API" and age == pytest.approx(partner.age_seconds, abs=1)
