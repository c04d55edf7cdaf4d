"""Discussions, claims and XSS in real headless Chromium against `paperboy serve` on loopback:
comment, reply, edit, delete, report, hide and claim as people do it, and comment Markdown
built to run script (no dialog may open, no script link may exist after KaTeX has run).
"""

from __future__ import annotations

import re

import pytest

from paperboy.config import Settings
from paperboy.store import open_store
from paperboy.web import auth

from .conftest import seed
from .serving import served
from .test_browser import CHROMIUM, FLAGS, ensure_chromium
from .test_markup import ATTACKS

pytestmark = pytest.mark.slow

PAPER = "2503.11945"
PASSWORD = "a long password"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("talk-data")
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    hashed = auth.hash_password(PASSWORD)
    for name in ("ada", "bob"):
        store.create_user(name, hashed)
    store.create_user("root", hashed, is_admin=True)
    store.close()
    with served(data) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def as_user(browser, server):
    """A signed-in page per name, each in its own browser context (its own cookies)."""
    opened, errors, dialogs = [], [], []

    def open_as(name: str):
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server}/signin")
        page.get_by_label("Name").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{server}/")
        opened.append(context)
        return page

    yield open_as
    for context in opened:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
    assert not dialogs, f"a dialog opened: {dialogs}"


def comment(page, server, text: str):
    page.goto(f"{server}/papers/{PAPER}")
    page.get_by_label("Add a comment").fill(text)
    page.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_url(re.compile(rf"/papers/{re.escape(PAPER)}#c-\d+$"))
    return page.url.rsplit("#", 1)[1]


def test_comment_reply_edit_and_delete(server, as_user):
    ada, bob = as_user("ada"), as_user("bob")
    cid = comment(ada, server, "Does **Table 2** hold for $n^2$?")
    ada.wait_for_selector(f"#{cid} .comment-body .katex")  # math rendered by the local KaTeX
    assert ada.locator(f"#{cid} strong").inner_text() == "Table 2"

    bob.goto(f"{server}/papers/{PAPER}")
    thread = bob.locator(".thread", has=bob.locator(f"#{cid}"))
    thread.locator("summary", has_text="Reply").click()
    thread.get_by_label("Your reply").fill("It does.")
    thread.get_by_role("button", name="Reply", exact=True).click()
    bob.wait_for_url(re.compile(r"#c-\d+$"))
    assert bob.locator(".comment.reply .comment-body").last.inner_text() == "It does."

    ada.goto(f"{server}/papers/{PAPER}")
    ada.locator(f"#{cid}").get_by_role("link", name="Edit").click()
    ada.get_by_label("Comment (Markdown)").fill("Does **Table 3** hold?")
    ada.get_by_role("button", name="Save").click()
    ada.wait_for_url(re.compile(rf"#{cid}$"))
    assert "Table 3" in ada.locator(f"#{cid} .comment-body").inner_text()
    assert ada.locator(f"#{cid} .edited").is_visible()

    ada.locator(f"#{cid}").get_by_role("button", name="Delete").click()
    ada.wait_for_load_state()
    assert "deleted by its author" in ada.locator(f"#{cid}").inner_text()
    assert ada.locator(".comment.reply .comment-body").last.inner_text() == "It does."


def test_report_then_an_admin_hides(server, as_user):
    ada, bob, root = as_user("ada"), as_user("bob"), as_user("root")
    cid = comment(ada, server, "Buy cheap pills")
    bob.goto(f"{server}/papers/{PAPER}")
    bob.locator(f"#{cid} summary", has_text="Report").click()
    bob.locator(f"#{cid}").get_by_label("Why should the admins look at it?").fill("spam")
    bob.locator(f"#{cid}").get_by_role("button", name="Send report").click()
    assert "Thank you" in bob.locator(".notice").inner_text()

    root.goto(f"{server}/comments/reported")
    item = root.locator(f"#{cid}")
    assert "bob: spam" in item.inner_text()
    item.get_by_role("button", name="Hide").click()
    root.wait_for_url(re.compile(rf"#{cid}$"))
    bob.goto(f"{server}/papers/{PAPER}")
    assert "hidden by a moderator" in bob.locator(f"#{cid}").inner_text()
    assert "pills" not in bob.content()


def test_claim_then_an_admin_confirms(server, as_user):
    ada, root = as_user("ada"), as_user("root")
    ada.goto(f"{server}/papers/{PAPER}")
    ada.locator("summary", has_text="Are you an author").click()
    author = ada.locator("#author-name option").nth(1).inner_text()
    ada.get_by_label("I am").select_option(author)
    ada.get_by_role("button", name="Claim authorship").click()
    ada.wait_for_load_state()
    assert "waiting for an admin" in ada.locator(".claim-state").inner_text()

    root.goto(f"{server}/papers/{PAPER}")
    root.locator(".claim-pending", has_text="ada").get_by_role("button", name="Confirm").click()
    root.wait_for_load_state()
    assert root.locator("a.claimed").inner_text() == "@ada"
    ada.goto(f"{server}/users/ada")
    assert ada.locator(f"[id='p-{PAPER}']").count() == 1


def test_comment_markdown_built_to_run_script_runs_nothing(server, as_user):
    ada = as_user("ada")  # as_user fails the test if any dialog opened
    for attack in ATTACKS:
        comment(ada, server, attack)
    ada.goto(f"{server}/papers/{PAPER}")
    ada.wait_for_selector(".comment-body .katex")  # KaTeX has run over the comments
    ada.wait_for_timeout(500)  # time for any onload/onerror to fire
    bodies = ada.locator(".comment-body")
    assert bodies.locator("script, svg, img, iframe, style, object, embed").count() == 0
    hrefs = bodies.locator("a[href]").evaluate_all("els => els.map(e => e.href)")
    assert all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
    handlers = bodies.locator("*").evaluate_all(
        "els => els.flatMap(e => [...e.attributes].map(a => a.name))"
        ".filter(n => n.startsWith('on'))"
    )
    assert handlers == []
    assert ada.evaluate("typeof window.__pwned") == "undefined"
