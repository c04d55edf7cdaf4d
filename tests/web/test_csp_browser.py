"""Stored XSS through links, in real headless Chromium against the real server (`paperboy
serve`): a script link an old database holds is never rendered, the Content-Security-Policy
would stop one that was, and every page still works under the policy without a violation.
"""

from __future__ import annotations

import pytest

from paperboy.config import Settings
from paperboy.store import open_store

from .conftest import seed
from .serving import served
from .test_browser import CHROMIUM, FLAGS, ensure_chromium

pytestmark = pytest.mark.slow

PAPER = "2503.11945"  # a paper of the seeded feed whose abstract KaTeX renders
SCRIPT_LINKS = [
    "javascript:window.__pwned='code'",
    " JAVASCRIPT:window.__pwned='project'",
    "java\tscript:window.__pwned='tab'",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
]
# Records every CSP violation the page reports, before any of the page's own script runs.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("csp-data")
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    # As a database from before the allow-list holds them: written past every check.
    ids = [PAPER] + [p.id for p in store.papers_on(store.latest_day())]
    with store.transaction() as conn:
        for number, pid in enumerate(ids):
            conn.execute(
                "UPDATE papers SET code_url = ?, project_url = ? WHERE id = ?",
                (
                    SCRIPT_LINKS[number % len(SCRIPT_LINKS)],
                    SCRIPT_LINKS[(number + 1) % len(SCRIPT_LINKS)],
                    pid,
                ),
            )
    store.close()
    with served(data) as base:
        yield base


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-csp-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        context.add_init_script(WATCH)
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    page.console = []
    page.on("console", lambda m: page.console.append(m.text))
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    page.close()


def violations(page) -> list[str]:
    reported = page.evaluate("window.__violations")
    logged = [m for m in page.console if "Content Security Policy" in m]
    return reported + logged


def links_that_are_not_web(page) -> list[str]:
    # `a.href` is the URL as the browser resolved it: java<TAB>script: reads javascript: here.
    return page.evaluate("""[...document.querySelectorAll('a[href], area[href], form[action]')]
        .map(a => a.href || a.action)
        .filter(u => !/^https?:$/.test(new URL(u, location.href).protocol))""")


def test_a_stored_script_link_is_not_rendered(server, page):
    for path in [f"/papers/{PAPER}", "/", "/papers/trending", "/search?q=watermark"]:
        page.goto(server + path)
        assert links_that_are_not_web(page) == [], path
        assert page.evaluate("window.__pwned") is None
    page.goto(server + f"/papers/{PAPER}")
    nav = page.locator("nav.links")
    assert nav.get_by_role("link", name="arXiv page").is_visible()
    assert nav.get_by_role("link", name="Code").count() == 0
    assert nav.get_by_role("link", name="Project page").count() == 0


def test_the_policy_stops_and_reports_a_script_link_that_got_through(server, page):
    """Were a javascript: link or an inline script on a page, it would not run, and the browser
    would report the violation."""
    page.goto(server + f"/papers/{PAPER}")
    page.evaluate("""() => {
        const a = document.createElement("a");
        a.id = "planted"; a.textContent = "Code"; a.href = "javascript:window.__pwned='link'";
        document.body.append(a);
        const s = document.createElement("script");
        s.textContent = "window.__pwned = 'inline'";
        document.body.append(s);
    }""")
    page.click("#planted")
    page.wait_for_function("window.__violations.length >= 2")
    assert page.evaluate("window.__pwned") is None
    reported = " ".join(page.evaluate("window.__violations"))
    assert "script-src" in reported and "inline" in reported


def test_pages_work_under_the_policy_without_a_violation(server, page):
    for path in [
        "/",
        "/papers/trending",
        "/search?q=agents",
        "/signin",
        "/signup",
        "/subscribe",
        "/papers/9999.99999",
    ]:
        page.goto(server + path)
        page.wait_for_load_state("load")
        assert violations(page) == [], path

    page.goto(server + f"/papers/{PAPER}")
    page.wait_for_selector(".abstract .katex")  # KaTeX (script, CSS, fonts) renders
    page.wait_for_function("document.fonts.status === 'loaded'")
    assert violations(page) == []

    page.goto(server + "/docs")  # Swagger UI, started by static/docs.js
    page.wait_for_selector(".swagger-ui .opblock")
    page.locator(".swagger-ui .opblock").first.click()
    page.wait_for_timeout(300)
    assert violations(page) == []

    page.goto(server + f"/signup?next=/papers/{PAPER}")
    page.get_by_label("Name").fill("csp-reader")
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"**/papers/{PAPER}")
    count = page.locator(".paper-head .count")
    before = int(count.inner_text())
    page.locator(".paper-head .vote-button").click()  # app.js: fetch, no reload
    page.wait_for_function(
        "n => Number(document.querySelector('.paper-head .count').textContent) === n",
        arg=before + 1,
    )
    assert violations(page) == [] and page.errors == []
