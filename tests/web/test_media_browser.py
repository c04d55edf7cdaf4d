"""Thumbnails and stars in real headless Chromium, with screenshots of the feed and a paper page
(test-artifacts/media-feed-*.png, media-paper-*.png) to set beside Hugging Face's layout.

The server is `paperboy serve` in a subprocess, on a store seeded from real Hugging Face days,
with thumbnails drawn by `paperboy thumbnails` from a real PDF (tests/fixtures/pdf) served on
loopback.
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from paperboy.config import Settings
from paperboy.store import open_store
from paperboy.store.media import Thumbnails
from tests.environment import subprocess_env
from tests.replay import FIXTURES, ReplayServer, Reply

from .conftest import seed
from .test_browser import ARTIFACTS, CHROMIUM, FLAGS, ensure_chromium, free_port

pytestmark = pytest.mark.slow
PDF = (FIXTURES / "pdf" / "2405.15738.pdf").read_bytes()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("media-data")
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    ids = Thumbnails(store).pending(12)
    store.close()
    env = subprocess_env() | {"PAPERBOY_DATA_DIR": str(data), "PAPERBOY_HTTP_MIN_INTERVAL": "0"}
    with ReplayServer() as pdfs:
        for pid in ids:
            pdfs.route(f"/pdf/{pid}", Reply(200, PDF, content_type="application/pdf"))
        made = subprocess.run(
            [sys.executable, "-m", "paperboy", "thumbnails", "--limit", "12", "--quiet"],
            env=env | {"PAPERBOY_ARXIV_PDF_URL": pdfs.url("/pdf")},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert "thumbnails: made 12, failed 0" in made.stdout, made.stderr
    port = free_port()
    with open(data / "server.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperboy", "serve", "--port", str(port), "--workers", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            yield _started(f"http://127.0.0.1:{port}", data), ids
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _started(base: str, data) -> str:
    deadline = time.monotonic() + 90  # a busy machine can take tens of seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return base
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"the server did not start: {(data / 'server.log').read_text()}")


@pytest.fixture(scope="module")
def browser():
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def _open(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page, problems


def _loaded(page, selector: str) -> list[bool]:
    """Whether each image loaded, after scrolling them all into view (they load lazily)."""
    for image in page.locator(selector).all():
        image.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")
    return page.eval_on_selector_all(
        selector, "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_feed_and_paper_page_show_thumbnails_and_stars(site, browser, width):
    base, ids = site
    ARTIFACTS.mkdir(exist_ok=True)
    page, problems = _open(browser, base + "/", width)
    shown = _loaded(page, "article.card .card-thumb img")
    assert shown and all(shown)  # every thumbnail on the page loaded (CSP allows them)
    sources = page.eval_on_selector_all("article.card .card-thumb img", "i => i.map(x => x.src)")
    assert {src.rsplit("/", 1)[1].removesuffix(".webp") for src in sources} <= set(ids)
    assert page.locator("article.card .stars").count() > 0
    assert page.locator("article.card").count() > len(shown)  # cards without one render too
    feed = ARTIFACTS / f"media-feed-{width}.png"
    page.screenshot(path=str(feed))
    card = page.locator("article.card:has(.card-thumb)").first
    card.locator("h2 a").click()
    page.wait_for_load_state("networkidle")
    if width > 600:
        assert all(_loaded(page, ".paper-thumb img"))
    assert page.locator(".ai-summary .machine").count() in (0, 1)
    paper = ARTIFACTS / f"media-paper-{width}.png"
    page.screenshot(path=str(paper), full_page=True)
    print(f"screenshots: {feed} {paper}")
    assert not problems, problems
    page.close()
