"""Response caps: a paper as big as the ingest bounds allow is cut in lists (API feed and search
items, Atom entries) and whole on its own (`/api/papers/ID`), so no list answer grows with what
an upstream sent (a 50 MB abstract once made one answer 157 MB)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from paperboy import bounds
from paperboy.papers import FeedEntry, Paper
from paperboy.search import open_search
from paperboy.web.app import create_app

A = "{http://www.w3.org/2005/Atom}"
AUTHORS = [f"Author Number{n}" for n in range(500)]
ABSTRACT = " ".join(["zeppelinology"] + [f"word{n}" for n in range(1_200)])  # 9.8k characters


@pytest.fixture
def big(store):
    """The biggest paper the bounds let in, at the top of the newest feed day."""
    day = store.latest_day()
    paper = Paper(
        id="2608.99999",
        title="Zeppelinology at scale",
        abstract=ABSTRACT,
        authors=AUTHORS,
        upvotes=10**6,
        entry=FeedEntry(day=day, source="hf"),
    )
    assert bounds.paper_problems(paper) == []
    assert len(ABSTRACT) > bounds.LIST_ABSTRACT_CHARS
    store.upsert([paper])
    return paper


@pytest.fixture
def client(settings, store, big):
    with TestClient(create_app(settings, store=store, search=open_search(store, settings))) as c:
        yield c


def _is_cut(summary: str) -> bool:
    return (
        len(summary) <= bounds.LIST_ABSTRACT_CHARS + 2
        and summary.endswith(" …")
        and ABSTRACT.startswith(summary[:-2])
    )


def test_feed_items_carry_at_most_the_list_caps(client, big):
    items = client.get(f"/api/daily_papers?date={big.entry.day}&limit=100").json()
    [item] = [i for i in items if i["paper"]["id"] == big.id]
    assert len(item["paper"]["authors"]) == bounds.LIST_AUTHORS
    assert item["paper"]["numAuthors"] == len(AUTHORS)
    assert _is_cut(item["summary"]) and _is_cut(item["paper"]["summary"])


def test_one_paper_comes_whole(client, big):
    paper = client.get(f"/api/papers/{big.id}").json()
    assert [a["name"] for a in paper["authors"]] == AUTHORS
    assert paper["summary"] == ABSTRACT and paper["numAuthors"] == len(AUTHORS)


def test_search_items_and_their_highlights_are_cut_too(client, big):
    [hit] = [
        h
        for h in client.get("/api/papers/search?q=zeppelinology").json()
        if h["paper"]["id"] == big.id
    ]
    assert _is_cut(hit["summary"]) and len(hit["paper"]["authors"]) == bounds.LIST_AUTHORS
    assert "".join(s["text"] for s in hit["highlightedSummary"]) == hit["summary"]
    assert hit["highlightedSummary"][0] == {"text": "zeppelinology", "highlighted": True}


def test_atom_entries_carry_at_most_the_list_caps(client, big):
    root = ET.fromstring(client.get("/feeds/daily.atom").content)
    [entry] = [e for e in root.iter(f"{A}entry") if e.find(f"{A}id").text == big.abs_url]
    assert len(entry.findall(f"{A}author")) == bounds.LIST_AUTHORS
    summary = entry.find(f"{A}summary").text
    assert _is_cut(summary.split("\n\n")[0])
    assert f"{len(AUTHORS)} authors" in summary


def test_list_sizes_are_bounded(client):
    assert client.get(f"/api/daily_papers?limit={bounds.API_PAGE_ITEMS + 1}").status_code == 400
    assert (
        client.get(f"/api/papers/search?q=a&limit={bounds.API_SEARCH_ITEMS + 1}").status_code == 400
    )
    assert client.get(f"/feeds/search.atom?q=a&limit={bounds.ATOM_ENTRIES + 1}").status_code in (
        400,
        422,
    )
