"""The dashboard in headless Chromium (Debian's `chromium` and `chromium-driver`, driven by selenium) against a real
`udc serve` (uvicorn in a thread) over a store filled by real syncs: sign in, the overview's counts, a failed run's
error and fix, and a running backfill's chunk grid filling in by itself. Screenshots go to test-artifacts/."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from udc.serve.server import Dashboard
from udc.sync.backfill import BackfillRunner, create_backfill

from .conftest import COUNTS, TOKEN, Filled, day
from .test_graph_api import an_incident

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM, DRIVER = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromium-driver "
                                "(apt-get install -y chromium chromium-driver; .ci/run installs them)")


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(filled: Filled) -> Iterator[tuple[Filled, str]]:
    dashboard = Dashboard(filled.h.config, port=0, token=TOKEN, refresh=1).start()
    try:
        yield filled, dashboard.url
    finally:
        dashboard.stop()


def sign_in(browser: WebDriver, url: str, path: str = "") -> None:
    browser.get(url + path)
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    button = browser.find_element(By.ID, "signin")
    button.click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(button))  # the click only starts the POST


def shot(browser: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"serve-{name}.png"))


def test_sign_in_then_the_overview_lists_the_pipelines_with_their_counts(served: tuple[Filled, str],
                                                                       browser: WebDriver) -> None:
    filled, url = served
    browser.get(url + "login")
    browser.find_element(By.ID, "token").send_keys("a wrong token, long enough")
    button = browser.find_element(By.ID, "signin")
    button.click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(button))
    assert browser.find_element(By.ID, "wrong").is_displayed()
    sign_in(browser, url)
    assert browser.current_url == url
    rows = {row.get_attribute("data-pipeline"): row
            for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-pipeline]")}
    assert set(rows) == {"history", "live"}
    assert rows["history"].find_element(By.CSS_SELECTOR, ".records").text == f"{sum(COUNTS.values()):,}"
    assert "ok" in rows["history"].text and "failing" in rows["live"].text
    assert browser.get_cookie("udc_session")["httpOnly"] is True
    shot(browser, "overview")


def test_a_failed_run_shows_its_error_and_the_fix(served: tuple[Filled, str], browser: WebDriver) -> None:
    filled, url = served
    sign_in(browser, url, "pipelines/live")
    assert browser.current_url == url + "pipelines/live"
    problem = browser.find_element(By.CSS_SELECTOR, ".problem").text
    assert "snow: got an HTML page instead of JSON from /api/now/table/problem" in problem
    assert "fix: the instance may be hibernating (wake it by signing in)" in problem
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart rect")
    assert [b.get_attribute("class") for b in bars] == ["succeeded", "failed", "succeeded"]  # runs 2, 3, 4
    shot(browser, "pipeline")
    browser.find_element(By.LINK_TEXT, "#3").click()
    assert "fix: the instance may be hibernating" in browser.find_element(By.CSS_SELECTOR, ".problem").text


def test_a_running_backfill_s_chunk_grid_fills_in_by_itself(served: tuple[Filled, str], browser: WebDriver) -> None:
    filled, url = served
    filled.sim.faults.latency = 0.3  # each request a little slow: chunks finish one after another, over seconds
    backfill = create_backfill(filled.h.config, filled.store, "live", day(10), day(18), tables=["incident"],
                               parallel=1)
    sign_in(browser, url, f"backfills/{backfill}")
    runner = threading.Thread(target=lambda: BackfillRunner(filled.h.config, filled.store, backfill).run())
    runner.start()
    seen: list[int] = []  # done cells, one reading per page load (the page reloads itself: nothing is clicked)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:  # one reading of the whole grid in the page itself: a reload cannot split it
                statuses = browser.execute_script(
                    "return Array.from(document.querySelectorAll('#grid .cell'), c => c.dataset.status)")
            except WebDriverException:  # caught mid-reload (stale nodes, no document yet): read the next page
                continue
            if not statuses:
                continue
            assert len(statuses) == 8
            if not seen or statuses.count("done") != seen[-1]:
                seen.append(statuses.count("done"))
                if 0 < seen[-1] < 8:
                    shot(browser, "backfill-running")
            if seen[-1] == 8:
                break
            time.sleep(0.2)
    finally:
        runner.join()
        filled.sim.faults.latency = 0
    assert seen[-1] == 8 and seen == sorted(seen)
    assert any(0 < n < 8 for n in seen), seen  # it was seen part-way: the grid advanced while the backfill ran
    time.sleep(1.5)  # the page stops refreshing once the backfill is done
    assert "done" in browser.find_element(By.ID, "status").text
    assert browser.find_element(By.ID, "done").text == "8 / 8"
    shot(browser, "backfill-done")


def test_the_search_box_finds_a_record(served: tuple[Filled, str], browser: WebDriver) -> None:
    filled, url = served
    number, _ = an_incident(filled)
    sign_in(browser, url)
    box = browser.find_element(By.ID, "q")
    box.send_keys(number, Keys.ENTER)
    # read in one script call once the results page is there: a node looked up mid-navigation can vanish under it
    marked = WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,)).until(lambda b: b.execute_script(
        "const m = document.querySelector(arguments[0]); return m && [location.href, m.textContent];",
        f'tr[data-key="{number}"] mark'))
    assert marked == [f"{url}search?q={number}", number]
    shot(browser, "search")
