"""The "For you" journey in real headless Chromium against `paperboy serve` on loopback: sign
up, import a library file, see the ranking with its reasons, save a pick to a collection and
export that collection as BibTeX (read back with bibtexparser)."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
import pytest

from paperboy.config import Settings
from paperboy.search import update_indexes
from paperboy.store import open_store
from tests.conftest import FIXTURES

from .conftest import seed
from .serving import served
from .test_browser import CHROMIUM, FLAGS, ensure_chromium

pytestmark = pytest.mark.slow

LIBRARY = FIXTURES / "library" / "zotero.bib"
SEEDS = {"2507.16784", "2507.16632"}  # what zotero.bib matches (tests/web/test_foryou.py)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("foryou-data")
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    update_indexes(store, settings)  # the vectors the ranking reads
    store.close()
    with served(data) as base:
        yield base


@pytest.fixture
def page(server):
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(
            viewport={"width": 1200, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        context.close()
        browser.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_import_see_for_you_save_and_export(server, page):
    page.goto(server + "/signup")
    page.get_by_label("Name").fill("reader")
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_load_state()

    page.goto(server + "/for-you")  # no history yet: trending, and it says so
    assert page.locator("#fallback").is_visible()

    page.goto(server + "/for-you/library")
    page.get_by_label("BibTeX or RIS file").set_input_files(str(LIBRARY))
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()
    assert "Matched 2 of 3 entries" in page.content()

    page.goto(server + "/collections")
    page.get_by_label("Name").fill("To read")
    page.get_by_role("button", name="Make it").click()
    page.wait_for_load_state()

    page.goto(server + "/for-you")
    assert page.locator("#fallback").count() == 0
    picks = page.locator("div.pick")
    assert picks.count() > 0
    first = picks.first
    why = first.locator("p.why").inner_text()
    assert re.fullmatch(r"Why: close to “[^”]+”(?: and “[^”]+”)? in your library", why), why
    paper = first.locator("input[name=paper]").first.get_attribute("value")
    assert paper and paper not in SEEDS
    first.get_by_placeholder("note (optional)").fill("read section 4")
    first.get_by_role("button", name="Save to “To read”").click()
    page.wait_for_load_state()

    page.goto(server + "/collections")
    page.get_by_role("link", name="To read").click()
    page.wait_for_load_state()
    assert page.locator(f'a[href="/papers/{paper}"]').count() > 0
    with page.expect_download() as download:
        page.get_by_role("link", name="BibTeX").click()
    path = download.value.path()
    parsed = bibtexparser.parse_string(Path(path).read_text(encoding="utf-8"))
    assert not parsed.failed_blocks
    [entry] = parsed.entries
    assert entry.fields_dict["eprint"].value == paper
    assert entry.fields_dict["note"].value == "read section 4"
