"""Thumbnails, GitHub stars, summaries and keywords on the cards and paper pages (web/media.py),
on the store seeded from real Hugging Face days, with thumbnails drawn from a real PDF served
on loopback."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from paperboy.store.media import Keywords, Stars, Thumbnails
from paperboy.thumbnails import make_thumbnails
from paperboy.web.media import keyword_spans
from tests.replay import FIXTURES, ReplayServer, Reply, loopback_settings

PDF = (FIXTURES / "pdf" / "2405.15738.pdf").read_bytes()


def draw_thumbnails(store, settings, count, tmp_path) -> list[str]:
    """Thumbnails for the first `count` papers waiting for one, from the fixture PDF served on
    loopback; their ids."""
    ids = Thumbnails(store).pending(count)
    with ReplayServer() as server:
        for pid in ids:
            server.route(f"/pdf/{pid}", Reply(200, PDF, content_type="application/pdf"))
        fetching = loopback_settings(
            tmp_path, server, data_dir=settings.data_dir, arxiv_pdf_url=server.url("/pdf")
        )
        run = make_thumbnails(store, fetching, limit=len(ids), show_progress=False)
    assert run.made == len(ids), run.failed
    return ids


def test_cards_show_thumbnails_when_there_are_some_and_stay_fine_without(
    client, store, settings, tmp_path
):
    drawn = draw_thumbnails(store, settings, 3, tmp_path)
    html = client.get("/").text
    shown = re.findall(r'<article class="card" id="p-([^"]+)">(.*?)</article>', html, re.DOTALL)
    with_thumb = {pid for pid, body in shown if 'class="card-thumb"' in body}
    assert with_thumb == set(drawn) and len(shown) > len(drawn)
    assert f'src="/thumbnails/{drawn[0]}.webp"' in html
    image = client.get(f"/thumbnails/{drawn[0]}.webp")
    assert image.status_code == 200 and image.headers["content-type"] == "image/webp"
    assert image.headers["cache-control"] == "public, max-age=604800"
    assert image.content[8:12] == b"WEBP"


@pytest.mark.parametrize(
    "name",
    ["2608.20202.webp", "..%2Fsecret_key", "2608.19880.png", "..%2F..%2Fdata%2Fpaperboy.sqlite3"],
)
def test_only_recorded_thumbnails_are_served(client, store, settings, tmp_path, name):
    assert draw_thumbnails(store, settings, 1, tmp_path) != ["2608.20202"]
    assert client.get(f"/thumbnails/{name}").status_code == 404


def test_stars_show_on_cards_and_the_paper_page(client):
    html = client.get("/").text
    card = re.search(r'id="p-2608.20335">(.*?)</article>', html, re.DOTALL)[1]
    assert "★ 20" in card  # githubStars from Hugging Face, kept on import
    page = client.get("/papers/2608.20335").text
    assert "★ 20" in page and "stars on GitHub" in page


def test_star_growth_lifts_a_paper_in_trending_and_the_formula_says_how(client, store):
    def order():
        return re.findall(
            r'<article class="card" id="p-([^"]+)"', client.get("/papers/trending").text
        )

    before = order()
    assert before.index("2608.20202") > before.index("2608.19880")
    today = datetime.now(UTC).date()
    stars = Stars(store)
    stars.record({"zjunlp/memtrapbench": 100}, today - timedelta(days=6))
    stars.record({"zjunlp/memtrapbench": 12_100}, today)  # 2,000 a day: 200 upvotes' worth
    after = order()
    assert after[0] == "2608.20202"
    page = client.get("/papers/trending").text
    assert "(upvotes + 0.1 × stars per day)" in page and "10 stars a day" in page
    api = client.get("/api/daily_papers", params={"sort": "trending"}).json()
    assert api[0]["paper"]["id"] == "2608.20202"


def test_the_summary_is_marked_machine_written(client):
    page = client.get("/papers/2608.19880").text
    assert "machine-written" in page and 'class="ai-summary"' in page
    assert "not by the authors" in page


def test_upstream_keywords_link_to_a_search_and_extracted_ones_say_so(client, store):
    page = client.get("/papers/2608.19880").text
    assert "Keywords (from Hugging Face)" in page
    assert re.search(r'<a class="tag" href="/search\?q=[^"]+">', page)
    assert "Keywords" not in client.get("/papers/2507.16632").text.split("Cite")[0]
    Keywords(store).save({"2507.16632": ["speech translation", "low-resource languages"]}, "static")
    page = client.get("/papers/2507.16632").text
    assert "Keywords extracted here from the abstract" in page
    assert 'href="/search?q=speech%20translation"' in page


def test_keywords_are_marked_where_they_stand_in_the_abstract(client):
    page = client.get("/papers/2608.19880").text
    abstract = page.split('class="abstract math">', 1)[1].split("</p>", 1)[0]
    assert abstract.startswith("<mark>LLM agents</mark> learn by interacting")
    assert "<mark>Environment Harness</mark> (<mark>EnvHarness</mark>)" in abstract


def test_keyword_spans_take_whole_phrases_only():
    text = "Reinforcement  Learning and reinforcement-learning agents; relearning is not one."
    spans = keyword_spans(text, ["reinforcement learning", "learning", "agents", ""])
    assert [text[s:e] for s, e in spans] == [
        "Reinforcement  Learning",
        "learning",
        "agents",
    ]
    assert keyword_spans("", ["x"]) == [] and keyword_spans("text", []) == []
    assert keyword_spans("a (b) c", ["(b)"]) == [(2, 5)]  # no regex from a keyword
