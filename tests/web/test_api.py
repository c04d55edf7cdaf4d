"""The HF-shaped JSON API: shapes, paging with Link headers, bounds, errors, writes."""

from __future__ import annotations

import re
import threading

import pytest
from fastapi.testclient import TestClient

from paperboy import bounds
from paperboy.search import open_search
from paperboy.store.sqlite import SQLiteStore
from paperboy.web.app import create_app

from .conftest import HF_DAYS, hf_day, sign_up

DAY = re.search(r"\d{4}-\d{2}-\d{2}", HF_DAYS[-1].name)[0]


def test_daily_papers_match_the_hf_shape_and_values(client):
    r = client.get(f"/api/daily_papers?date={DAY}&limit=100")
    assert r.status_code == 200
    got = {item["paper"]["id"]: item for item in r.json()}
    upstream = {i["paper"]["id"]: i for i in hf_day(HF_DAYS[-1])}
    assert got.keys() == upstream.keys()
    for pid, theirs in upstream.items():
        mine = got[pid]
        assert mine["paper"]["upvotes"] == theirs["paper"]["upvotes"]
        assert mine["paper"]["title"] == " ".join(theirs["paper"]["title"].split())
        assert [a["name"] for a in mine["paper"]["authors"]] == [
            a["name"] for a in theirs["paper"]["authors"]
        ]
        assert mine["numComments"] == theirs["numComments"]
        assert mine["paper"]["githubRepo"] == theirs["paper"].get("githubRepo")
        assert mine["publishedAt"].startswith(DAY)
        if theirs.get("organization"):
            assert mine["organization"]["name"] == theirs["organization"]["name"]
        for key in (
            "paper",
            "publishedAt",
            "title",
            "summary",
            "numComments",
            "submittedBy",
            "organization",
        ):
            assert key in mine


def test_paging_follows_link_next_without_overlap(client):
    seen, url, pages = [], f"/api/daily_papers?date={DAY}&limit=5", 0
    while url:
        r = client.get(url)
        seen += [i["paper"]["id"] for i in r.json()]
        pages += 1
        link = r.headers.get("link")
        url = re.match(r'<([^>]+)>; rel="next"', link)[1] if link else None
    assert len(seen) == len(set(seen)) == len(hf_day(HF_DAYS[-1]))
    assert pages == -(-len(seen) // 5)


def test_week_month_and_no_period(client):
    week = client.get("/api/daily_papers?week=2026-W34&limit=100").json()
    assert {i["paper"]["id"] for i in week} >= {i["paper"]["id"] for i in hf_day(HF_DAYS[-1])}
    newest_first = client.get("/api/daily_papers?limit=100").json()
    days = [i["publishedAt"][:10] for i in newest_first]
    assert days == sorted(days, reverse=True) and days[0] == DAY
    trending = client.get("/api/daily_papers?sort=trending&limit=3").json()
    assert trending[0]["paper"]["upvotes"] == max(
        i["paper"]["upvotes"] for i in newest_first if i["publishedAt"].startswith(DAY)
    )


@pytest.mark.parametrize(
    "query, words",
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("p=-1", "'p'"),
        ("limit=ten", "limit"),
        ("date=2026-02-30", "YYYY-MM-DD"),
        ("week=2026-W99", "ISO week"),
        ("month=2026-00", "YYYY-MM"),
        (f"date={DAY}&week=2026-W34", "only one"),
        ("sort=hot", "sort"),
    ],
)
def test_bad_parameters_are_400_json(client, query, words):
    r = client.get(f"/api/daily_papers?{query}")
    assert r.status_code == 400
    assert words in r.json()["error"]


def test_one_paper_and_404s(client):
    paper = client.get("/api/papers/2503.11945v1").json()
    assert paper["id"] == "2503.11945" and paper["categories"][0] == "cs.CV"
    missing = client.get("/api/papers/2609.00001")
    assert missing.status_code == 404 and "not stored" in missing.json()["error"]
    invalid = client.get("/api/papers/hello")
    assert invalid.status_code == 404 and "not an arXiv id" in invalid.json()["error"]


def test_search_limits_and_shape(client):
    assert client.get("/api/papers/search?q=agent&limit=121").status_code == 400
    assert client.get("/api/papers/search?q=").status_code == 400
    hits = client.get("/api/papers/search?q=watermark&limit=5").json()
    assert hits[0]["paper"]["id"] == "2503.11945"
    assert {"highlightedTitle", "highlightedSummary"} <= hits[0].keys()


def test_a_pasted_abstract_is_searched_whole(client, store):
    """An abstract pasted into the search (longer than a typed query) is read, not refused:
    the API and the search page find the paper it came from; past the bound is a 400."""
    abstract = store.get("2503.11945").abstract
    assert len(abstract) > 500
    hits = client.get("/api/papers/search", params={"q": abstract, "limit": 3}).json()
    assert hits[0]["paper"]["id"] == "2503.11945"
    page = client.get("/search", params={"q": abstract})
    assert page.status_code == 200 and "/papers/2503.11945" in page.text
    feed = client.get("/feeds/search.atom", params={"q": abstract})
    assert feed.status_code == 200 and "2503.11945" in feed.text
    too_long = "word " * (bounds.QUERY_CHARS // 5 + 1)
    refused = client.get("/api/papers/search", params={"q": too_long})
    assert refused.status_code == 400 and "5000" in refused.text


def test_search_highlights_are_hf_style_segments(settings, store):
    with TestClient(
        create_app(settings, store=store, search=open_search(store, settings))
    ) as client:
        hit = client.get("/api/papers/search?q=watermark").json()[0]
    title = hit["highlightedTitle"]
    assert "".join(s["text"] for s in title) == hit["title"]
    # The search stems: "watermark" matches, and highlights, the whole word "Watermarking".
    assert [s["text"] for s in title if s["highlighted"]] == ["Watermarking"]


def test_writes_need_a_session_with_csrf_or_a_token(client):
    url = "/api/papers/2608.19880/upvote"
    assert client.post(url).status_code == 401
    sign_up(client)
    assert client.post(url).status_code == 403  # a session alone is not enough: CSRF
    ok = client.post(url, headers={"X-CSRF-Token": client.cookies["pb_csrf"]})
    assert ok.status_code == 200
    before = client.get("/api/papers/2608.19880").json()["upvotes"]
    assert ok.json() == {"id": "2608.19880", "upvotes": before, "upvoted": True}
    undone = client.delete(url, headers={"X-CSRF-Token": client.cookies["pb_csrf"]}).json()
    assert undone["upvotes"] == before - 1 and undone["upvoted"] is False
    bad = TestClient(client.app).post(url, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_submit_refusals_are_clear(client, store):
    sign_up(client)
    headers = {"X-CSRF-Token": client.cookies["pb_csrf"]}
    dup = client.post(
        "/api/papers/submit", json={"id": "https://arxiv.org/abs/2608.19880"}, headers=headers
    )
    assert dup.status_code == 409 and "already in the feed" in dup.json()["error"]
    bad = client.post("/api/papers/submit", json={"id": "not an id"}, headers=headers)
    assert bad.status_code == 400 and "arXiv id" in bad.json()["error"]
    shape = client.post("/api/papers/submit", json={"paper": "2608.19880"}, headers=headers)
    assert shape.status_code == 400


def test_a_stored_paper_outside_the_feed_is_submitted_to_today(client, store):
    from paperboy.web.submit import utc_today

    paper = store.get("2503.13756")
    store.remove_from_feed(paper.id)
    sign_up(client, "sam")
    r = client.post(
        "/api/papers/submit",
        json={"id": "2503.13756"},
        headers={"X-CSRF-Token": client.cookies["pb_csrf"]},
    )
    assert r.status_code == 201
    assert r.json()["submittedBy"]["name"] == "sam"
    entry = store.get("2503.13756").entry
    assert entry.day == utc_today() and entry.source == "user"


def test_a_submission_of_a_stored_paper_is_a_recorded_run(client, store):
    """The site's submission goes through the one run loop: it shows in `paperboy runs`."""
    store.remove_from_feed("2503.13756")
    sign_up(client, "sam")
    r = client.post(
        "/api/papers/submit",
        json={"id": "2503.13756"},
        headers={"X-CSRF-Token": client.cookies["pb_csrf"]},
    )
    assert r.status_code == 201
    latest = store.runs()[0]
    assert (latest["kind"], latest["status"], latest["updated"]) == ("submit", "done", 1)
    assert "sam" in latest["source"]


def test_concurrent_votes_are_counted_exactly(client, store):
    users = [store.create_user(f"user{i}", "x") for i in range(12)]
    base = store.get("2608.19880").upvotes
    barrier = threading.Barrier(len(users) * 2)

    def vote(user):
        # A store of its own per thread, like a second server worker: only SQLite's locking
        # keeps the writes apart.
        own = SQLiteStore(store.path)
        barrier.wait()
        own.set_vote(user.id, "2608.19880", True)
        own.close()

    threads = [threading.Thread(target=vote, args=(u,)) for u in users * 2]  # each twice
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.get("/api/papers/2608.19880").json()["upvotes"] == base + len(users)
