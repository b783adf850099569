"""Fixtures for the browser tests: Debian's Chromium, driven by Playwright, against a live server.

Playwright never downloads a browser here (`playwright install` is not used): it drives the
Chromium that Debian packages (`apt-get install chromium`, which `.ci/run` does). Where that
browser or the Playwright / axe-playwright-python packages are missing, every test marked
`browser` skips with the reason, except under REQUIRE_SERVICES=1 (CI), where it fails.

PORTAL_CHROMIUM=/path/to/chromium chooses another Chromium binary instead of the one on PATH;
pointing it at a path that does not exist is how to try the skip (and, with REQUIRE_SERVICES=1,
the failure) on a machine that has Chromium.

Pages come from pytest-django's `live_server`, which serves static files itself (through
`StaticFilesHandler`, since django.contrib.staticfiles is installed) and gives every test that
uses it a transactional database: data a test creates is committed, so the server's thread sees it.
"""

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import REQUIRE_SERVICES

CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    # Without these Chromium reaches out to the internet (updates, field trials, sync), which is
    # closed here and has no business in a test run anyway.
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TIMEOUT_MS = 10_000  # a page of this portal that takes longer than this is a failure, not a wait
PHONE_VIEWPORT = {"width": 360, "height": 740}
DESKTOP_VIEWPORT = {"width": 1280, "height": 800}


def _chromium_path() -> str | None:
    override = os.environ.get("PORTAL_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("chromium")


def _missing_browser_reason() -> str | None:
    if _chromium_path() is None:
        override = os.environ.get("PORTAL_CHROMIUM")
        where = f"at PORTAL_CHROMIUM={override}" if override else "on PATH"
        return (
            "browser tests need Debian's chromium (apt-get install chromium); "
            f"no executable chromium {where}"
        )
    for module, package in (
        ("playwright", "playwright"),
        ("axe_playwright_python", "axe-playwright-python"),
    ):
        try:
            __import__(module)
        except ImportError:
            return f"browser tests need the {package} package: pip install -e '.[dev]'"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """Headless Chromium (Debian's build, never a downloaded one), one for all browser tests.

    Package-scoped rather than session-scoped so that it, and Playwright's event loop with it,
    stops after the last test under tests/e2e, before the rest of the suite runs.
    """
    reason = _missing_browser_reason()
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
        pytest.skip(reason)

    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as environment:
        # Playwright's sync API runs an asyncio event loop in the test's own thread (parked in a
        # greenlet between calls), so while it runs Django sees a running loop and refuses ORM
        # calls from that thread as async-unsafe (SynchronousOnlyOperation): a factory creating
        # a school, the test database's setup and flush. No async code shares a connection here
        # (the test thread and the live server's thread each keep their own), so the check is a
        # false alarm; turning it off is what pytest-playwright's documentation tells Django
        # users to do. It is off only while the browser runs, so the rest of the suite keeps it.
        environment.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=_chromium_path(), args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def browser_locale() -> str:
    """The language the browser asks for (Accept-Language); parametrize it to change it."""
    return "en-US"


@pytest.fixture
def phone_page(browser, browser_locale: str) -> Iterator:
    """A page in a fresh context shaped like a small phone: 360×740, touch, mobile viewport."""
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, locale=browser_locale
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop_page(browser, browser_locale: str) -> Iterator:
    """A page in a fresh context shaped like a laptop screen: 1280×800."""
    context = browser.new_context(viewport=DESKTOP_VIEWPORT, locale=browser_locale)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def base_url(live_server) -> str:
    """Where the live test server answers, without a trailing slash (`base_url + "/"`)."""
    return live_server.url.rstrip("/")
