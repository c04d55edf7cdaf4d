"""Browser tests in real headless Chromium (Debian's `chromium`) against the real server.

The server is the production command (`paperboy serve`) in a subprocess, on a store seeded from
tests/fixtures. Screenshots of the feed and a paper page go to test-artifacts/ (gitignored).
`make test` installs Debian's chromium before pytest runs; the tests never install anything.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from paperboy.config import Settings
from paperboy.search import update_indexes
from paperboy.store import open_store

from .conftest import HF_DAYS, latex_paper, seed
from .serving import served

OLDER_DAY = date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", HF_DAYS[0].name)[0])

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> None:
    """Debian's chromium must be there: `make test` installs it before pytest runs."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium), "
            "or `sudo apt-get install chromium chromium-driver`"
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser-data")
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    store.upsert([latex_paper(OLDER_DAY)])  # not on the newest day: its tests stay as they were
    update_indexes(store, settings)
    store.close()
    with served(data) as base:
        yield base


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, f"JavaScript errors: {errors}"


def count_of(page, card_selector: str) -> int:
    return int(page.locator(f"{card_selector} .count").first.inner_text())


def test_a_new_reader_signs_up_upvotes_and_signs_out(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/")
    first_day = page.locator("h1").inner_text()
    assert first_day.startswith("Daily papers")
    page.screenshot(path=str(ARTIFACTS / "feed.png"), full_page=False)

    page.get_by_role("link", name="← Previous").click()
    page.wait_for_url(re.compile(r"/papers/date/\d{4}-\d{2}-\d{2}$"))
    assert page.locator("h1").inner_text() != first_day
    assert page.locator("article.card").count() > 0

    page.get_by_label("Search papers").fill("watermark")
    page.get_by_label("Search papers").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=watermark"))
    result = page.locator("article.card h2 a").first
    title = result.inner_text()
    result.click()
    page.wait_for_url(re.compile(r"/papers/2503\.11945$"))
    assert page.locator("h1").inner_text() == title
    # KaTeX (served locally) renders the abstract's $W_*$.
    page.wait_for_selector(".abstract .katex")

    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Name").fill("reader1")
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/papers/2503\.11945$"))  # back where the reader was
    assert page.locator(".account .me").inner_text() == "reader1"

    before = count_of(page, ".paper-head")
    page.locator(".paper-head .vote-button").click()
    page.wait_for_function(
        "n => Number(document.querySelector('.paper-head .count').textContent) === n",
        arg=before + 1,
    )
    assert page.locator(".paper-head .vote-button").get_attribute("aria-pressed") == "true"
    said = "upvote" if before + 1 == 1 else "upvotes"  # what a screen reader hears, updated
    assert page.locator(".paper-head .said").text_content() == f"{said}, upvoted by you"
    page.reload()
    assert count_of(page, ".paper-head") == before + 1  # stored, not just drawn
    page.screenshot(path=str(ARTIFACTS / "paper.png"), full_page=False)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(server + "/")
    assert page.get_by_role("link", name="Sign in").is_visible()


def test_reading_and_voting_work_without_javascript(server, browser_context):
    page = browser_context.new_page()
    page.route("**/*.js", lambda route: route.abort())  # no script loads: plain HTML and forms
    page.goto(server + "/papers/trending")
    assert page.locator("article.card").count() > 0
    page.goto(server + "/signup")
    page.get_by_label("Name").fill("noscript")
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign up").click()
    page.goto(server + "/")
    card = page.locator("article.card").nth(1)
    before = int(card.locator(".count").inner_text())
    card.locator(".vote-button").click()  # a plain form post and a 303 back to the feed
    page.wait_for_load_state()
    assert int(page.locator("article.card").nth(1).locator(".count").inner_text()) == before + 1
    page.close()


def test_a_phone_sized_screen_has_no_sideways_scroll(server, browser_context):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ["/", "/papers/2503.11945", "/search?q=agents"]:
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
    page.screenshot(path=str(ARTIFACTS / "search-phone.png"))
    page.close()


PHONE = {"width": 390, "height": 844}  # an iPhone 12-15 screen, in CSS pixels
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("screen", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_pages_side_by_side_at_desktop_and_phone_widths(server, browser_context, screen):
    """The daily list, a paper and a search at both widths: nothing scrolls sideways, and the
    screenshots (test-artifacts/*-1280.png, *-390.png) are what docs/web.md compares with HF."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_context.new_page()
    page.set_viewport_size(screen)
    width = screen["width"]
    for name, path in [
        ("daily", "/"),
        ("paper", "/papers/2608.99990"),
        ("search", "/search?q=watermark"),
        ("weekend", "/papers/date/2025-09-13"),
        ("weekly", "/papers/week/2025-W37"),
    ]:
        page.goto(server + path)
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"))
    page.close()


def test_search_results_start_on_a_phones_first_screen(server, browser_context):
    page = browser_context.new_page()
    page.set_viewport_size(PHONE)
    page.goto(server + "/search?q=watermark")
    first = page.locator("article.card").first.bounding_box()
    # The whole first result is on the first screen (below the filters it started at 578 px
    # and ended past the screen's end).
    assert first["y"] + first["height"] <= PHONE["height"], first
    assert page.locator("input[name=q]").count() == 1
    page.close()


def test_a_paper_page_renders_its_latex_and_shows_all_of_its_bibtex(server, browser_context):
    from playwright.sync_api import expect

    page = browser_context.new_page()
    page.set_viewport_size(PHONE)
    page.goto(server + "/papers/2608.99990")
    page.wait_for_selector("h1 .katex")  # $O(n)$ in the title, by the locally served KaTeX
    assert page.locator("h1").inner_text().startswith("Fast")
    assert page.locator("h1 b").inner_text() == "Fast"
    abstract = page.locator(".abstract")
    assert "50%, in 1–2 days, for $400K. ours is at" in abstract.inner_text()
    assert abstract.locator(".katex").count() == 0  # the literal \$ opened no math
    assert abstract.get_by_role("link").get_attribute("href") == "https://github.com/org/fast_attn"
    box = page.locator("#bibtex")
    sizes = box.evaluate("e => [e.scrollHeight, e.clientHeight]")
    assert sizes[0] <= sizes[1], sizes  # no line is cut off, even at 390 px
    assert box.inner_text().rstrip().endswith("}")
    page.get_by_role("button", name="Copy BibTeX").click()
    expect(page.locator("button.copy")).to_have_text("Copied")
    hidden = page.locator(".more-authors")
    assert "Author 39" not in hidden.inner_text()  # closed: only "and 30 more" shows
    page.get_by_text("and 30 more").click()
    assert "Author 39" in hidden.inner_text()
    page.close()
