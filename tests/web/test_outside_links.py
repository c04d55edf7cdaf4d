"""Where outside URLs are rendered, only ones that pass the allow-list become links: paper pages,
cards (feed, trending, search, similar papers), Atom feeds, the JSON API and the digest mail.

The store here holds links written straight into it, as a database from before the check
might: ingest never lets them in any more (tests/test_links.py).
"""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import pytest

from paperboy.links import allowed_url
from paperboy.mail.compose import Composer, select_digest
from paperboy.mail.links import Links
from paperboy.mail.records import Subscriber
from tests.mail_fixtures import mail_settings

BAD = [
    "javascript:alert(document.domain)",
    " JAVASCRIPT:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
]


class Hrefs(HTMLParser):
    """Every URL-valued attribute of a page, as the browser reads it (entities decoded)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [
            value
            for name, value in attrs
            if name in ("href", "src", "action", "formaction") and value is not None
        ]


def page_urls(html: str) -> list[str]:
    parser = Hrefs()
    parser.feed(html)
    return parser.urls


def assert_only_safe_links(urls: list[str], where: str) -> None:
    # Our own links are relative, or absolute on the test client's host in the feeds.
    outside = [u for u in urls if not u.startswith(("/", "#", "?", "http://testserver/"))]
    assert [u for u in outside if allowed_url(u) != u] == [], where


def poison(store, ids: list[str]) -> None:
    """Write script links into stored papers, past every check (as an old database holds them)."""
    with store.transaction() as conn:
        for number, pid in enumerate(ids):
            conn.execute(
                "UPDATE papers SET code_url = ?, project_url = ?, doi = ? WHERE id = ?",
                (BAD[number % len(BAD)], BAD[(number + 1) % len(BAD)], "javascript:alert(3)", pid),
            )


@pytest.fixture
def poisoned(store):
    day = store.latest_day()
    ids = [p.id for p in store.papers_on(day)]
    poison(store, ids)
    return ids


def test_pages_render_no_script_link(client, store, poisoned):
    pages = [
        "/",
        "/papers/trending",
        "/search?q=model",
        f"/papers/month/{store.latest_day():%Y-%m}",
    ]
    pages += [f"/papers/{pid}" for pid in poisoned[: len(BAD)]]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_only_safe_links(page_urls(response.text), path)
        assert "script:" not in response.text.lower().replace("</script>", ""), path


def test_a_paper_page_shows_no_code_or_project_button_for_a_bad_link(client, poisoned):
    html = client.get(f"/papers/{poisoned[0]}").text
    links = html.split('<nav class="links"', 1)[1].split("</nav>", 1)[0]
    assert "arXiv page" in links and "Code" not in links and "Project page" not in links
    assert "DOI:" not in html and "doi.org" not in html


def test_good_links_still_render(client, store):
    pid = store.papers_on(store.latest_day())[0].id
    with store.transaction() as conn:
        conn.execute(
            "UPDATE papers SET code_url = ?, project_url = ?, doi = ? WHERE id = ?",
            (
                "https://github.com/a/b",
                "https://a.github.io/p/",
                "10.1103/PhysRevD.1 10.1016/j.x.1",
                pid,
            ),
        )
    html = client.get(f"/papers/{pid}").text
    urls = page_urls(html)
    assert "https://github.com/a/b" in urls and "https://a.github.io/p/" in urls
    assert "https://doi.org/10.1103/PhysRevD.1" in urls
    assert "https://doi.org/10.1016/j.x.1" in urls


def test_atom_feeds_carry_no_script_link(client, poisoned):
    for path in ["/feeds/daily.atom", "/feeds/trending.atom", "/feeds/search.atom?q=model"]:
        response = client.get(path)
        assert response.status_code == 200, path
        root = ET.fromstring(response.content)
        hrefs = [el.get("href") for el in root.iter() if el.get("href")]
        assert_only_safe_links(hrefs, path)
        assert "script:" not in response.text.lower(), path


def test_the_api_gives_no_script_link(client, poisoned):
    shown = [client.get(f"/api/papers/{pid}").json() for pid in poisoned[: len(BAD)]]
    daily = client.get("/api/daily_papers").json()
    shown += [item["paper"] for item in daily]
    assert shown
    for paper in shown:
        assert paper["githubRepo"] is None or allowed_url(paper["githubRepo"])
        assert paper["projectPage"] is None or allowed_url(paper["projectPage"])
    assert "script:" not in json.dumps(shown).lower().replace("javascript:alert(3)", "")


def test_the_digest_mail_carries_no_script_link(store, poisoned, tmp_path):
    settings = mail_settings(tmp_path / "mail")
    found = store.get_many(poisoned[: len(BAD)])
    papers = [found[pid] for pid in poisoned[: len(BAD)]]
    assert all(p.code_url for p in papers)  # the store holds the bad links
    sub = Subscriber(1, "reader@example.org", topics=[])
    day = store.latest_day()
    digest = select_digest(sub, f"daily:{day}", (day, day), papers, {}, set(), 10, 10)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    raw = Composer(settings, Links(settings)).digest(sub, digest, "<m@example.org>", noon)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert_only_safe_links(page_urls(html), "digest html")
    assert "script:" not in text.lower() and "Code:" not in text


def test_every_template_makes_links_of_outside_urls_only_through_the_filters():
    """A new template (or a new line in one) that prints an outside URL unchecked fails here."""
    import re
    from importlib import resources

    field = re.compile(r"\.(code_url|project_url|doi)\b(?!\s*\|\s*(allowed_url|doi_links))")
    unchecked = []
    for package in ("paperboy.web", "paperboy.mail"):
        for path in (resources.files(package) / "templates").rglob("*"):
            if path.is_file():
                for number, line in enumerate(path.read_text().splitlines(), start=1):
                    if field.search(line):
                        unchecked.append(f"{path.name}:{number}: {line.strip()}")
    assert unchecked == []
