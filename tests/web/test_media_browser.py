"""Thumbnails and stars in real headless Chromium, with screenshots of the feed and a paper page
(test-artifacts/media-feed-*.png, media-paper-*.png) set beside Hugging Face's layout in
test-artifacts/hf-comparison-*.html: the screenshots next to the list of HF Daily Papers'
elements, each with where paperboy shows it and how many the live page holds (docs/web.md,
"How it differs from Hugging Face's Daily Papers", has the same table).

The server is `paperboy serve` in a subprocess, on a store seeded from real Hugging Face days,
with thumbnails drawn by `paperboy thumbnails` from a real PDF (tests/fixtures/pdf) served on
loopback; the top paper gets a community (upvoters, a comment with replies, a confirmed author)
through the store's repositories, so the paper page shows every community element.
"""

from __future__ import annotations

import html
import subprocess
import sys

import pytest

from paperboy.config import Settings
from paperboy.store import open_store
from paperboy.store.discussions import Discussions
from paperboy.store.media import Thumbnails
from paperboy.store.people import People
from tests.environment import subprocess_env
from tests.replay import FIXTURES, ReplayServer, Reply

from .conftest import seed
from .serving import served
from .test_browser import ARTIFACTS, CHROMIUM, FLAGS, ensure_chromium

pytestmark = pytest.mark.slow
PDF = (FIXTURES / "pdf" / "2405.15738.pdf").read_bytes()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("media-data")
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    ids = Thumbnails(store).pending(12)
    top = _community(store)
    assert top in ids  # the first card of the feed, with a thumbnail
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
    with served(data, env=env) as base:
        yield base, ids, top


def _community(store) -> str:
    """Upvoters, a discussion with replies and a confirmed author on the feed's top paper."""
    paper = store.papers_on(store.latest_day(), limit=1)[0]
    ada, bob = store.create_user("ada", "h"), store.create_user("bob", "h")
    carol = store.create_user("carol", "h")
    root = store.create_user("root", "h", is_admin=True)
    for user in (ada, bob):
        store.set_vote(user.id, paper.id, True)
    talk = Discussions(store)
    first = talk.add(paper.id, ada.id, "Does the **plug-in** layer cost much? $O(n)$ per step?")
    talk.add(paper.id, carol.id, "About 3% of the rollout time, see Table 4.", parent_id=first.id)
    talk.add(paper.id, bob.id, "Thanks, that answers mine too.", parent_id=first.id)
    people = People(store)
    people.claim(carol.id, paper.id, paper.authors[0])
    people.confirm(carol.id, paper.id, root.id)
    return paper.id


# Hugging Face Daily Papers' elements (the issue's list, and the fields of its API in
# tests/fixtures/hf_daily_papers_api: ai_keywords, ai_summary, githubStars, organization,
# numComments, submittedBy) beside where paperboy shows each, and a script counting them on a
# live page: (element, on HF, in paperboy, count on the paper page, count on the feed).
ELEMENTS = [
    (
        "Threaded discussion",
        "a comment thread on the paper page; authors of the paper marked",
        "Discussion section at the foot of the paper page: comments, one level of replies, "
        "an author badge for confirmed authors, an Atom feed, a JSON API",
        "document.querySelectorAll('#discussion article.comment').length",
        None,
    ),
    (
        "Comment count on cards",
        "the number of comments on each card",
        "'N comments here' (or 'Discuss') linking to the discussion, beside HF's own count "
        "('N comments on Hugging Face')",
        None,
        "document.querySelectorAll('article.card a.talk').length",
    ),
    (
        "Upvote count and button",
        "an upvote button with the count",
        "the button with HF's votes plus local ones, on cards and the paper page",
        "document.querySelectorAll('.vote-button .count').length",
        "document.querySelectorAll('article.card .vote-button .count').length",
    ),
    (
        "Who upvoted",
        "the upvoters' avatars",
        "'Upvoted by ada, bob +N more' (names, first voters first, 12 at most; hidden votes "
        "and HF's votes counted in '+N')",
        "document.querySelectorAll('dd.upvoters a').length",
        None,
    ),
    (
        "Author links, claimed authors",
        "authors who claimed the paper link to their profile",
        "every author links to /authors/{name}; a confirmed claim adds '@user' linking to "
        "/users/{name}",
        "document.querySelectorAll('a[href^=\"/authors/\"]').length"
        " + document.querySelectorAll('a.tag.claimed').length",
        "document.querySelectorAll('article.card a[href^=\"/authors/\"]').length",
    ),
    (
        "Organization",
        "the organization, linking to its page",
        "the organization's name linking to /orgs/{name}, on cards and the paper page",
        "document.querySelectorAll('a[href^=\"/orgs/\"]').length",
        "document.querySelectorAll('article.card a.org').length",
    ),
    (
        "Submitted by",
        "the submitter's avatar",
        "'added by NAME' beside the day it entered the feed (paper page)",
        "document.body.innerText.includes('added by') ? 1 : 0",
        None,
    ),
    (
        "Thumbnail",
        "an image of the paper on every card",
        "the PDF's first page (WebP, drawn here) on cards and the paper page; cards without "
        "one stay text",
        "document.querySelectorAll('.paper-thumb img').length",
        "document.querySelectorAll('article.card .card-thumb img').length",
    ),
    (
        "GitHub stars",
        "the repository's star count",
        "'★ N' after the Code link (growth per day in its title), on cards and the paper page",
        "document.querySelectorAll('.stars').length",
        "document.querySelectorAll('article.card .stars').length",
    ),
    (
        "ai_keywords",
        "keywords highlighted in the abstract",
        "search links under the abstract, 'Keywords (from Hugging Face)'; extracted ones said "
        "to be extracted; not highlighted inside the abstract",
        "document.querySelectorAll('.keywords a.tag').length",
        None,
    ),
    (
        "ai_summary",
        "a one-line AI-generated summary",
        "'Summary' marked machine-written, above the abstract, saying it is from a language "
        "model on HF",
        "document.querySelectorAll('.ai-summary .machine').length",
        None,
    ),
    (
        "Models, datasets, Spaces, collections citing it",
        "lists from the Hugging Face Hub",
        "none: paperboy has no Hub; it shows similar papers from its own index, and users' own "
        "collections",
        None,
        None,
    ),
]


def _count(page, script: str | None) -> int | None:
    return None if script is None else int(page.evaluate(f"() => {script}"))


def _comparison(width: int, feed_counts: list, paper_counts: list) -> str:
    """test-artifacts/hf-comparison-WIDTH.html: the screenshots beside HF's elements."""
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(hf)}</td><td>{html.escape(ours)}"
        f"</td><td>{'' if p is None else p}</td><td>{'' if f is None else f}</td></tr>"
        for (name, hf, ours, _, _), p, f in zip(ELEMENTS, paper_counts, feed_counts, strict=True)
    )
    return (
        "<!doctype html><meta charset=utf-8><title>paperboy beside HF Daily Papers</title>"
        "<style>body{font:14px sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}"
        ".shots{display:flex;gap:1em;align-items:flex-start}.shots img{max-width:48vw;"
        "border:1px solid #ccc}</style>"
        f"<h1>paperboy at {width} px beside Hugging Face Daily Papers' elements</h1>"
        "<p>HF's pages cannot be fetched from the test machines: its column lists the elements "
        "the issue names and the fields of HF's API (tests/fixtures/hf_daily_papers_api), not a "
        "screenshot. The counts are what this run's live pages held.</p>"
        "<table><tr><th>element</th><th>Hugging Face Daily Papers</th><th>paperboy</th>"
        f"<th>on the paper page</th><th>on the feed</th></tr>{rows}</table>"
        f'<div class="shots"><figure><img src="media-paper-{width}.png" alt="paper page">'
        f"<figcaption>media-paper-{width}.png</figcaption></figure>"
        f'<figure><img src="media-feed-{width}.png" alt="feed">'
        f"<figcaption>media-feed-{width}.png</figcaption></figure></div>"
    )


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
    base, ids, top = site
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
    feed_counts = [_count(page, e[4]) for e in ELEMENTS]
    card = page.locator("article.card:has(.card-thumb)").first
    card.locator("h2 a").click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{base}/papers/{top}"
    if width > 600:
        assert all(_loaded(page, ".paper-thumb img"))
    assert page.locator(".ai-summary .machine").count() in (0, 1)
    paper = ARTIFACTS / f"media-paper-{width}.png"
    page.screenshot(path=str(paper), full_page=True)
    paper_counts = [_count(page, e[3]) for e in ELEMENTS]
    # Every element HF has is on paperboy's pages, but the Hub's lists (the last row).
    assert all(f is None or f > 0 for f in feed_counts), feed_counts
    assert all(p is None or p > 0 for p in paper_counts), paper_counts
    assert paper_counts[0] == 3 and paper_counts[3] == 2  # the comment with 2 replies; ada, bob
    assert page.locator("#discussion .author-badge").count() == 1  # carol, confirmed
    comparison = ARTIFACTS / f"hf-comparison-{width}.html"
    comparison.write_text(_comparison(width, feed_counts, paper_counts))
    print(f"screenshots: {feed} {paper}, beside HF: {comparison}")
    assert not problems, problems
    page.close()
