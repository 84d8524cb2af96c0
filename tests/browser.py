"""Debian's Chromium driven by Playwright, and the watch every browser test keeps on its pages.

Every page opened through ``watched_pages`` is watched: a console error, an
uncaught exception, a CSP violation, an asset that fails to load, or (at phone
width) a page wider than the screen fails the test when the block ends.
Chromium logs every failed ``fetch()`` (an HTTP error answer, or none) as a
console error; the API's own paths (and the sign-in endpoint, a path of the
local site) are exempt, because tests provoke 401s, 409s, 429s, wrong
passwords and outages on purpose.

``sign_in`` signs a member in through the page's own form, as a person would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, ViewportSize, expect, sync_playwright

ROOT: Final = Path(__file__).resolve().parent.parent
CHROMIUM: Final = Path("/usr/bin/chromium")
#: Headless, as root, on a machine without outside network: nothing may phone home.
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP: Final[ViewportSize] = {"width": 1280, "height": 800}
PHONE: Final[ViewportSize] = {"width": 390, "height": 844}
FAILED_FETCH_LOG: Final = re.compile(r"^Failed to load resource: ")
# Reports each violation to the test through a binding, which survives reloads.
CSP_LISTENER: Final = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def screenshot_dir() -> Path:
    """Where screenshots are kept as test artifacts: ``$PAGE_SCREENSHOT_DIR`` or ``.build/screenshots``."""
    path = Path(os.environ.get("PAGE_SCREENSHOT_DIR") or ROOT / ".build" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (installed by ``make setup``), headless."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (it installs Debian's chromium and chromium-driver)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS))
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watch:
    """What went wrong on one page while the test used it."""

    phone: bool
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_assets: list[str] = field(default_factory=list)

    def report_csp_violation(self, text: str) -> None:
        self.csp_violations.append(text)

    def problems(self, page: Page) -> list[str]:
        found = [
            *(f"console error: {text}" for text in self.console_errors),
            *(f"page error: {text}" for text in self.page_errors),
            *(f"CSP violation: {text}" for text in self.csp_violations),
            *(f"asset failed: {text}" for text in self.failed_assets),
        ]
        if self.phone and not page.is_closed():
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if widths[0] > widths[1]:
                found.append(f"page is {widths[0]} px wide on a {widths[1]} px screen")
        return found


@dataclass
class WatchedPages:
    """Opens pages in fresh browser contexts, each with its ``Watch``."""

    browser: Browser
    api_paths: Collection[str]
    opened: list[tuple[Page, Watch]] = field(default_factory=list)

    def open(
        self,
        url: str,
        *,
        viewport: ViewportSize = DESKTOP,
        locale: str = "en-US",
        before_load: Callable[[Page], None] | None = None,
    ) -> Page:
        """A watched page at ``url``; ``before_load`` prepares the page first (``page.clock.install()``, say)."""
        watch = Watch(phone=viewport["width"] < 600)
        context = self.browser.new_context(viewport=viewport, locale=locale)
        context.expose_function("reportCspViolation", watch.report_csp_violation)
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            text = message.text
            from_api = urlsplit(message.location.get("url", "")).path in self.api_paths
            if "Content Security Policy" in text:
                watch.csp_violations.append(text)
            elif message.type == "error" and not (from_api and FAILED_FETCH_LOG.match(text)):
                watch.console_errors.append(text)

        def on_response(response: Response) -> None:
            path = urlsplit(response.url).path
            if response.status >= 400 and path not in self.api_paths:
                watch.failed_assets.append(f"{response.status} {path}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on("response", on_response)
        if before_load is not None:
            before_load(page)
        page.goto(url)
        self.opened.append((page, watch))
        return page

    def problems(self) -> list[str]:
        return [problem for page, watch in self.opened for problem in watch.problems(page)]


@contextmanager
def watched_pages(browser: Browser, *, api_paths: Collection[str]) -> Iterator[WatchedPages]:
    """Pages to open; when the block ends they are closed, and anything their watches saw fails the test."""
    pages = WatchedPages(browser, api_paths)
    try:
        yield pages
    finally:
        problems = pages.problems()
        for page, _ in pages.opened:
            page.context.close()
    assert not problems, "\n".join(problems)


def sign_in(page: Page, email: str, password: str, *, new_password: str | None = None) -> None:
    """Sign in through the page's form; ``new_password`` answers the first sign-in's new-password step."""
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#sign-in-email").fill(email)
    page.locator("#sign-in-password").fill(password)
    page.locator("#sign-in-button").click()
    if new_password is not None:
        expect(page.locator("#new-password-form")).to_be_visible()
        page.locator("#new-password").fill(new_password)
        page.locator("#new-password-again").fill(new_password)
        page.locator("#new-password-button").click()
    expect(page.locator("body")).to_have_attribute("data-session", "signed-in")


def wait_until_listed(page: Page) -> None:
    """The page loaded its settings, is signed in, and shows its first page of students."""
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("body")).to_have_attribute("data-session", "signed-in")
    expect(page.locator("#table-region")).to_have_attribute("aria-busy", "false")
