"""The browser tier: Debian's chromium driven by Playwright through the product's real UI.

`make up` (jukinet.devstack) runs in a tmp JUKINET_HOME on free ports, in the default or the
production profile, and the tests use the UI as staff do. Screenshots go to var/screenshots/<test>
(JUKINET_SCREENSHOTS overrides); docs/guide uses a selection of them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from flows.runtime import reset_runtime
from jukinet.settings import PROJECT_ROOT
from tests.browser.ui import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import restore_environ
from tests.integration.test_devstack import Stack, stop_stack

HERE = Path(__file__).resolve().parent
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}
TIMEOUT_MS = 30_000
PRODUCT_ENV = ("JUKINET_HOME", "JUKINET_CONFIG_DIR", "JUKINET_STORE_URL")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium (apt, scripts/install-browser.sh); Playwright never downloads one."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} がありません（scripts/install-browser.sh）"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh profile in Japan: Japanese locale, Asia/Tokyo, as on a town hall's desk."""
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("JUKINET_SCREENSHOTS", PROJECT_ROOT / "var" / "screenshots"))
    folder = root / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@contextlib.contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    """The stack until the test ends, the test process reading its store (its home, or the
    production profile's PostgreSQL database)."""
    saved = {k: os.environ.get(k) for k in PRODUCT_ENV}
    try:
        stack.wait_ready()
        for name in PRODUCT_ENV:  # as `make up` has them: the home, the example configuration
            os.environ.pop(name, None)
        os.environ.update(stack.store_env())
        reset_runtime()
        yield stack
    finally:
        stop_stack(stack)
        restore_environ(saved)
        reset_runtime()
