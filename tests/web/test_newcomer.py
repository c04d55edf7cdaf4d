"""A newcomer's first hour, as the README tells it (issue 13).

From a fresh clone's point of view: `paperboy demo` fills `.demo-data/` (what `make demo`
does, less the serving), then every `.venv/bin/paperboy` line of the README's command blocks
runs as written, as a subprocess in the clone's folder, with no PAPERBOY_DATA_DIR: the CLI must
find the demo's store itself and show something real. Lines that need the internet or a file
the reader brings are listed in OFFLINE_SKIPS with the reason; a new README line is either run
here or listed there. Then the site, in headless Chromium, on the demo's store: the home page,
the previous day, the weekly view, a search with a category and a phrase, a paper and its
BibTeX, sign-up with the digest box, an upvote, and the confirmation mail in the demo's
outbox (/_outbox), confirmed there; screenshots at desktop and phone widths go to
test-artifacts/newcomer-*.png.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environment import subprocess_env
from tests.web.serving import free_port, stop, wait_until_up
from tests.web.test_browser import ARTIFACTS, CHROMIUM, FLAGS, ensure_chromium

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
# README lines not run here, and why (the tests reach nothing beyond loopback).
OFFLINE_SKIPS = {
    "import": "needs a file the reader brings (FILE.jsonl.gz); tests/test_cli.py imports one",
    "sync": "reaches Hugging Face and arXiv (tests/test_sync_commands.py replays them)",
    "harvest": "reaches arXiv's OAI-PMH (tests/test_oai.py replays it)",
    "fetch": "reaches the arXiv API (tests/test_arxiv_api.py replays it)",
    "thumbnails": "reaches arxiv.org for PDFs (tests/test_thumbnails.py serves a real one)",
    "stars": "reaches the GitHub API (tests/test_github.py replays its shapes)",
    "serve": "runs until stopped: the browser part below serves the demo this way",
}
EMAIL = "newcomer@example.org"


def readme_lines() -> list[list[str]]:
    """The `.venv/bin/paperboy` lines of the README's ```sh blocks, split as the shell would
    (comments dropped)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()]
    return [
        shlex.split(line, comments=True) for line in lines if line.startswith(".venv/bin/paperboy ")
    ]


def paperboy(clone: Path, args: list[str], stdin: str | None = None, **env):
    return subprocess.run(
        [sys.executable, "-m", "paperboy", *args],
        cwd=clone,
        env=subprocess_env() | {"HOME": str(clone)} | env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A folder where `make demo` ran: the demo loaded into `.demo-data/`."""
    folder = tmp_path_factory.mktemp("clone")
    loaded = paperboy(folder, ["demo", "--no-serve"], PAPERBOY_DATA_DIR=".demo-data")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo corpus: added 2996" in loaded.stdout
    return folder


def test_every_readme_command_works_as_written_after_make_demo(clone):
    lines = readme_lines()
    assert len(lines) >= 12
    ran = []
    for line in lines:
        args = line[1:]
        if args[0] in OFFLINE_SKIPS:
            continue
        stdin = "a long password\n" if args[:2] == ["user", "create"] else None
        result = paperboy(clone, args, stdin=stdin)
        shown = " ".join(line)
        assert result.returncode == 0, f"{shown}:\n{result.stdout}\n{result.stderr}"
        assert "using the demo's store in .demo-data/" in result.stderr, shown
        assert "Traceback" not in result.stderr, shown
        ran.append((args, result.stdout))
    outputs = {
        args[0] if args[0] not in ("user", "digest") else " ".join(args[:2]): out
        for args, out in ran
    }
    # Each shows something real from the demo, not an empty store.
    assert re.match(r"2026-08-21: \d+ papers", outputs["papers"])
    assert "import" in outputs["runs"] and "added 2996" in outputs["runs"]
    found = re.match(r"(\d+) papers? found", outputs["search"])
    assert found and int(found.group(1)) > 10, outputs["search"]
    assert "confirmation mail sent" in outputs["subscribe"] and "/_outbox" in outputs["subscribe"]
    assert len(outputs["user token"].strip()) >= 20
    assert (clone / ".demo-data" / "outbox").is_dir()


@pytest.fixture(scope="module")
def site(clone):
    """`paperboy serve` from the clone, as the README runs it, on the demo's store."""
    port = free_port()
    log = clone / "serve.log"
    env = subprocess_env() | {"HOME": str(clone)}
    with open(log, "w") as out:  # the child keeps its own copy open
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperboy", "serve", "--port", str(port), "--workers", "1"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", proc, log, timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"newcomer-{name}.png"), full_page=False)


def test_a_newcomer_reads_searches_signs_up_and_reads_the_mail(site, browser, clone):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site + "/")
    assert page.locator("h1").inner_text().startswith("Daily papers")
    assert page.locator("article.card").count() > 5
    shoot(page, "home")
    page.get_by_role("link", name="← Previous").click()
    page.wait_for_url(re.compile(r"/papers/date/\d{4}-\d{2}-\d{2}$"))
    assert page.locator("article.card").count() > 0
    page.get_by_role("link", name="Weekly", exact=True).click()
    page.wait_for_url(re.compile(r"/papers/week/\d{4}-W\d{2}$"))
    assert page.locator("h1").inner_text().startswith("Weekly papers")
    # A search with a category and a phrase finds papers of that category.
    page.goto(site + "/search?q=" + '"reinforcement learning" cat:cs.LG')
    results = page.locator("article.card h2 a")
    assert results.count() > 5
    shoot(page, "search")
    results.first.click()
    page.wait_for_url(re.compile(r"/papers/\d{4}\.\d{4,5}$"))
    assert "cs.LG" in page.locator(".tag").all_inner_texts()
    bibtex = page.locator("#bibtex").inner_text()
    assert "primaryClass={" in bibtex and "archivePrefix={arXiv}" in bibtex
    assert page.get_by_role("button", name="Copy BibTeX").is_visible()
    paper_url = page.url
    shoot(page, "paper")
    # Sign up with the digest box ticked; come back to the paper and upvote it.
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Name").fill("newcomer")
    page.get_by_label("Email (optional)").fill(EMAIL)
    page.get_by_label("Mail me the daily").check()
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(paper_url)
    before = int(page.locator(".paper-head .count").inner_text())
    page.locator(".paper-head .vote-button").click()
    page.wait_for_function(
        "n => Number(document.querySelector('.paper-head .count').textContent) === n",
        arg=before + 1,
    )
    # The confirmation mail is in the demo's outbox; its link confirms the subscription.
    page.goto(site + "/_outbox")
    letter = page.locator("article.letter").filter(has_text=EMAIL).first
    assert "Confirm your paperboy subscription" in letter.inner_text()
    shoot(page, "outbox")
    letter.locator("a[href^='/subscriptions/confirm']").click()
    page.get_by_role("button", name="Confirm my subscription").click()
    assert page.locator("h1").inner_text() == "You are subscribed"
    # The digest she will get, as she will read it.
    dry = paperboy(clone, ["digest", "send", "--dry-run", "--to", EMAIL])
    assert dry.returncode == 0, dry.stderr
    assert re.search(rf"^To: .*{EMAIL}", dry.stdout, re.MULTILINE)
    assert "\nSubject: " in dry.stdout
    assert "=?utf-8?" not in dry.stdout and "Content-Transfer-Encoding" not in dry.stdout
    # The same pages on a phone.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    for name, path in (
        ("home", "/"),
        ("paper", paper_url.removeprefix(site)),
        ("search", "/search?q=cat:cs.CL"),
    ):
        small.goto(site + path)
        assert small.evaluate("document.documentElement.scrollWidth") <= 390, name
        shoot(small, f"{name}-390")
    phone.close()
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
