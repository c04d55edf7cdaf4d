"""Atom feeds, validated by parsing: required RFC 4287 elements, stable ids, RFC 3339 dates."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from paperboy import feeds
from paperboy.papers import FeedEntry, Paper
from paperboy.search import update_indexes
from paperboy.web.app import create_app

A = "{http://www.w3.org/2005/Atom}"


def parse(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{A}feed"
    return root


def check_atom(root: ET.Element) -> list[ET.Element]:
    """The elements RFC 4287 requires of a feed and of each entry, with valid dates."""
    for name in ("id", "title", "updated"):
        assert root.find(f"{A}{name}") is not None and root.find(f"{A}{name}").text, name
    assert root.find(f"{A}author/{A}name").text
    assert root.find(f"{A}link[@rel='self']") is not None
    datetime.fromisoformat(root.find(f"{A}updated").text.replace("Z", "+00:00"))
    entries = root.findall(f"{A}entry")
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert entry.find(f"{A}{name}").text, name
        for name in ("updated", "published"):
            if entry.find(f"{A}{name}") is not None:
                stamp = entry.find(f"{A}{name}").text
                assert stamp.endswith("Z")
                datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert entry.find(f"{A}link[@rel='alternate']").get("href").startswith("http")
        assert entry.find(f"{A}author/{A}name").text
    ids = [e.find(f"{A}id").text for e in entries]
    assert len(ids) == len(set(ids))
    return entries


def test_daily_feed_is_valid_atom_with_the_newest_day(client, store):
    entries = check_atom(parse(client.get("/feeds/daily.atom")))
    latest = store.latest_day()
    ids = {e.find(f"{A}id").text for e in entries}
    assert ids == {p.abs_url for p in store.papers_on(latest)}
    assert all(e.find(f"{A}updated").text == f"{latest}T00:00:00Z" for e in entries)


def test_entry_ids_are_stable_across_requests_and_hosts(app):
    one = TestClient(app, base_url="http://a.example")
    two = TestClient(app, base_url="https://b.example")
    ids = [
        [e.find(f"{A}id").text for e in parse(c.get("/feeds/trending.atom")).iter(f"{A}entry")]
        for c in (one, one, two)
    ]
    assert ids[0] == ids[1] == ids[2] and ids[0]
    assert all(i.startswith("https://arxiv.org/abs/") for i in ids[0])


def test_trending_and_search_feeds(client):
    check_atom(parse(client.get("/feeds/trending.atom")))
    entries = check_atom(parse(client.get("/feeds/search.atom?q=watermark")))
    assert [e.find(f"{A}id").text for e in entries] == ["https://arxiv.org/abs/2503.11945"]
    cats = [c.get("term") for c in entries[0].findall(f"{A}category")]
    assert cats[0] == "cs.CV"
    assert client.get("/feeds/search.atom").status_code == 400
    assert client.get("/feeds/search.atom?q=x&limit=1000").status_code == 400


@pytest.mark.parametrize("feed", ["/feeds/daily.atom", "/feeds/search.atom?q=inert"])
def test_markup_in_paper_text_stays_text(settings, store, feed):
    title = "Robust <b>bold</b> & brave"
    store.upsert(
        [
            Paper(
                id="2608.99999",
                title=title,
                authors=["Eve"],
                abstract="We show <script>alert('x')</script> is inert & a < b.",
                entry=FeedEntry(store.latest_day(), "hf"),
                upvotes=1,
            )
        ]
    )
    update_indexes(store, settings)  # as every writer does after storing papers
    r = TestClient(create_app(settings, store=store)).get(feed)
    assert b"<script>" not in r.content
    entry = next(
        e for e in parse(r).iter(f"{A}entry") if e.find(f"{A}id").text.endswith("2608.99999")
    )
    assert entry.find(f"{A}title").text == title
    assert "<script>alert('x')</script>" in entry.find(f"{A}summary").text


def test_characters_xml_cannot_hold_are_left_out(client, store):
    store.upsert(
        [
            Paper(
                id="2608.99998",
                title="Ctrl\x01 title",
                authors=["Bell\x07 Labs"],
                abstract="Form\x0cfeed and NUL\x00 inert",
                upvotes=1,
                entry=FeedEntry(store.latest_day(), "hf"),
            )
        ]
    )
    for feed in (
        "/feeds/daily.atom",
        "/feeds/search.atom?q=inert%00%01",
        "/feeds/search.atom?q=%EF%BF%BE",
    ):
        root = parse(client.get(feed))
        check_atom(root)
    entry = next(
        e
        for e in parse(client.get("/feeds/daily.atom")).iter(f"{A}entry")
        if e.find(f"{A}id").text.endswith("2608.99998")
    )
    assert entry.find(f"{A}title").text == "Ctrl title"
    assert entry.find(f"{A}author/{A}name").text == "Bell Labs"


@pytest.mark.parametrize(
    "url, words",
    [
        ("/feeds/search.atom", "q parameter is empty"),
        ("/feeds/search.atom?q=", "q parameter is empty"),
        ("/feeds/search.atom?q=%20%20", "q parameter is empty"),
        ("/feeds/search.atom?q=x&sort=nope", "sort 'nope' is not one of"),
        ("/feeds/search.atom?q=x&limit=1000", "limit"),
        ("/feeds/search.atom?q=x&date_from=yesterday", "not a date"),
        ("/feeds/nothing.atom", "Not Found"),
    ],
)
def test_a_feed_address_that_does_not_work_answers_atom_not_html(client, url, words):
    r = client.get(url)
    assert r.status_code in (400, 404)
    assert r.headers["content-type"].startswith("application/atom+xml")
    assert b"<html" not in r.content and b"<!doctype" not in r.content.lower()
    root = ET.fromstring(r.content)
    assert root.tag == f"{A}feed"
    [entry] = root.findall(f"{A}entry")
    assert words in entry.find(f"{A}title").text
    assert root.find(f"{A}link[@rel='self']") is not None and root.find(f"{A}id").text


def test_the_search_feed_reads_the_search_pages_filters_and_links_back_to_it(client):
    url = "/feeds/search.atom?q=watermark&sort=date&category=cs.CV&limit=5"
    root = parse(client.get(url))
    alternate = root.find(f"{A}link[@rel='alternate']").get("href")
    assert alternate == "http://testserver/search?q=watermark&sort=date&category=cs.CV"
    assert [e.find(f"{A}id").text for e in check_atom(root)] == ["https://arxiv.org/abs/2503.11945"]
    other = parse(client.get("/feeds/search.atom?q=watermark&category=math.AG"))
    assert other.findall(f"{A}entry") == []  # the category filter holds, as on the page
    page = client.get("/search?q=watermark&category=cs.CV").text
    assert 'href="/feeds/search.atom?q=watermark&amp;sort=relevance&amp;category=cs.CV"' in page


@pytest.mark.parametrize("kind, name", [("week", "weekly"), ("month", "monthly")])
def test_weekly_and_monthly_feeds_follow_their_pages(client, store, kind, name):
    period = feeds.period_of(kind, store.latest_day())
    root = parse(client.get(f"/feeds/{name}.atom"))
    entries = check_atom(root)
    want = [p.id for p, _ in store.ranked_between(period.first, period.last, 100)]
    assert [e.find(f"{A}id").text.rsplit("/", 1)[1] for e in entries] == want
    alternate = root.find(f"{A}link[@rel='alternate']").get("href")
    assert alternate == f"http://testserver/papers/{kind}/{period.label}"
    page = client.get(f"/papers/{kind}/{period.label}").text
    assert (
        f'<link rel="alternate" type="application/atom+xml" title="Atom feed of this page" '
        f'href="/feeds/{name}.atom">'
    ) in page


def test_feed_text_shows_latex_as_text(client, store):
    store.upsert(
        [
            Paper(
                id="2608.99997",
                title=r"\textbf{Fast} attention at 50\% cost",
                abstract=r"From \$400K to 1--2 GPUs with \ours.",
                authors=["Ada"],
                entry=FeedEntry(store.latest_day(), "hf"),
                upvotes=3,
            )
        ]
    )
    entry = next(
        e
        for e in parse(client.get("/feeds/daily.atom")).iter(f"{A}entry")
        if e.find(f"{A}id").text.endswith("2608.99997")
    )
    assert entry.find(f"{A}title").text == "Fast attention at 50% cost"
    assert entry.find(f"{A}summary").text.startswith("From $400K to 1–2 GPUs with ours.")
