"""The HTML pages against a real seeded store: feeds, navigation, paper pages, search, escaping."""

from __future__ import annotations

import re
import struct
import urllib.robotparser
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from paperboy import feeds
from paperboy.papers import FeedEntry, Paper
from paperboy.search import open_search, update_indexes
from paperboy.web.app import create_app

from .conftest import HF_DAYS, cards, hf_day, latex_paper, sign_up

LATEST = date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", HF_DAYS[-1].name)[0])
PREVIOUS = date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", HF_DAYS[-2].name)[0])


def expected_day(path) -> list[tuple[str, int]]:
    items = hf_day(path)
    return sorted(((i["paper"]["id"], i["paper"]["upvotes"]) for i in items), key=lambda x: -x[1])


def test_home_shows_the_latest_day_most_upvoted_first(client):
    r = client.get("/")
    assert r.status_code == 200
    shown = cards(r.text)
    want = expected_day(HF_DAYS[-1])
    assert [v for _, v in shown] == sorted((v for _, v in shown), reverse=True)
    assert sorted(shown) == sorted(want)
    assert shown[0] == want[0]
    assert LATEST.strftime("%-d %B %Y") in r.text


def test_previous_link_skips_empty_days(client):
    html = client.get(f"/papers/date/{LATEST}").text
    prev = re.search(r'<a rel="prev" class="button" href="([^"]+)"', html)[1]
    assert prev == f"/papers/date/{PREVIOUS}"  # the days in between have no papers
    assert 'rel="next" class="button"' not in html  # nothing after the newest day
    older = client.get(prev)
    assert sorted(cards(older.text)) == sorted(expected_day(HF_DAYS[-2]))
    assert f'href="/papers/date/{LATEST}"' in older.text


def test_week_and_month_pages_hold_their_days(client, store):
    week = feeds.period_of("week", LATEST)
    r = client.get(f"/papers/week/{week.label}")
    assert r.status_code == 200
    assert len(cards(r.text)) == store.count_between(week.first, week.last)
    month = client.get(f"/papers/month/{LATEST:%Y-%m}")
    assert {pid for pid, _ in cards(month.text)} >= {pid for pid, _ in expected_day(HF_DAYS[-1])}


@pytest.mark.parametrize(
    "url, words",
    [
        ("/papers/date/2026-02-30", "expected YYYY-MM-DD"),
        ("/papers/date/yesterday", "expected YYYY-MM-DD"),
        ("/papers/week/2025-W53", "ISO week"),  # 2025 has 52 ISO weeks
        ("/papers/week/2026-34", "ISO week"),
        ("/papers/month/2026-13", "expected YYYY-MM"),
        ("/papers?page=0", "page"),
        ("/papers?page=abc", "page"),
        ("/search?q=agents&sort=stars", "sort"),
        ("/search?q=agents&date_from=2026-99-01", "expected YYYY-MM-DD"),
        # Room for a pasted abstract, and no more (as in the API and Atom): bounds.QUERY_CHARS
        ("/search?q=" + "agents+" * 720, "at most 5000 characters"),
        ("/search?q=agents&category=" + "cs.CL+" * 100, "at most 500 characters"),
    ],
)
def test_bad_periods_and_parameters_are_400_with_a_clear_message(client, url, words):
    r = client.get(url)
    assert r.status_code == 400
    assert words in r.text


@pytest.mark.parametrize(
    "url",
    [
        "/papers/date/9999-12-31",
        "/papers/week/9999-W52",
        "/papers/month/9999-12",
        "/papers/date/0001-01-01",
        "/api/daily_papers?month=9999-12",
        "/api/daily_papers?week=9999-W52&sort=trending",
    ],
)
def test_periods_at_the_ends_of_the_calendar_answer_not_500(client, url):
    assert client.get(url).status_code == 200


def test_a_page_past_the_end_is_404(client):
    r = client.get(f"/papers/date/{LATEST}?page=2")
    assert r.status_code == 404
    assert "past the end" in r.text


def test_paper_page_shows_everything_a_reader_needs(client):
    item = max(hf_day(HF_DAYS[-1]), key=lambda i: i["paper"]["upvotes"])["paper"]
    r = client.get(f"/papers/{item['id']}")
    assert r.status_code == 200
    html = r.text
    for author in item["authors"]:
        assert author["name"] in html
    assert f'href="https://arxiv.org/pdf/{item["id"]}"' in html
    assert item["githubRepo"] in html
    assert "@misc{" in html and f"eprint={{{item['id']}}}" in html
    assert f'<span class="count">{item["upvotes"]}</span>' in html


@pytest.mark.parametrize(
    "form", ["2608.19880v3", "arXiv:2608.19880", "https://arxiv.org/abs/2608.19880"]
)
def test_any_id_form_redirects_to_the_canonical_page(client, form):
    r = client.get(f"/papers/{form}", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == "/papers/2608.19880"


def test_unknown_and_invalid_ids(client):
    unknown = client.get("/papers/2609.00001")
    assert unknown.status_code == 404
    assert "not stored here yet" in unknown.text and "Sign in" in unknown.text
    sign_up(client)
    offer = client.get("/papers/2609.00001")
    assert 'action="/submit"' in offer.text and 'value="2609.00001"' in offer.text
    invalid = client.get("/papers/not-a-paper")
    assert invalid.status_code == 404
    assert "is not an arXiv id" in invalid.text


def test_latex_abstracts_are_served_with_local_katex(client):
    html = client.get("/papers/2503.11945").text
    assert "$W_*$" in html  # left for KaTeX to render in the browser
    assert 'class="abstract math"' in html
    for asset in re.findall(r'(?:src|href)="(/static/katex/[^"]+)"', html):
        assert client.get(asset).status_code == 200
    assert "cdn" not in html.lower()


def test_text_is_escaped_everywhere(settings, store):
    evil = Paper(
        id="2608.99999",
        title="Robust <b>bold</b> & brave",
        abstract="We show <script>alert('x')</script> is inert & a < b.",
        authors=["Eve <img src=x onerror=alert(1)>"],
        entry=FeedEntry(LATEST, "hf", organization_name="<i>org</i>"),
        upvotes=500,
    )
    store.upsert([evil])
    update_indexes(store, settings)  # as every writer does after storing papers
    client = TestClient(create_app(settings, store=store))
    for url in [f"/papers/{evil.id}", "/", "/search?q=inert", "/papers/trending"]:
        html = client.get(url).text
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html and "<b>bold</b>" not in html, url
        assert "&lt;script&gt;" in html or "&lt;b&gt;bold" in html, url


def test_search_highlights_matches_and_jumps_to_ids(settings, store):
    app = create_app(settings, store=store, search=open_search(store, settings))
    with TestClient(app) as client:
        r = client.get("/search?q=watermark")
        assert r.status_code == 200
        assert [pid for pid, _ in cards(r.text)][0] == "2503.11945"
        assert "<mark>watermark</mark>" in r.text
        jump = client.get("/search?q=https://arxiv.org/abs/2503.11945v2", follow_redirects=False)
        assert jump.headers["location"] == "/papers/2503.11945"
        legacy = client.get("/papers?q=watermark", follow_redirects=False)
        assert legacy.status_code == 307 and legacy.headers["location"] == "/search?q=watermark"


def test_trending_ranks_by_decayed_votes_and_says_how(client):
    r = client.get("/papers/trending")
    assert "2<sup>−age / 3 days</sup>" in r.text
    newest = LATEST
    scored = []
    for path in HF_DAYS:
        day = date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", path.name)[0])
        if (newest - day).days >= feeds.TRENDING_WINDOW_DAYS:
            continue
        for item in hf_day(path):
            votes = item["paper"]["upvotes"]
            scored.append((votes * 0.5 ** ((newest - day).days / 3), item["paper"]["id"]))
    want = [pid for _, pid in sorted(scored, reverse=True)][:5]
    assert [pid for pid, _ in cards(r.text)][:5] == want


def test_upvote_form_without_javascript(client, store):
    paper_id, votes = expected_day(HF_DAYS[-1])[3]
    anonymous = client.post(
        f"/papers/{paper_id}/upvote",
        data={
            "csrf_token": client.get("/").cookies.get("pb_csrf") or client.cookies["pb_csrf"],
            "next": "/",
        },
        follow_redirects=False,
    )
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    sign_up(client)
    token = client.cookies["pb_csrf"]
    r = client.post(
        f"/papers/{paper_id}/upvote",
        data={"csrf_token": token, "up": "1", "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    page = dict(cards(client.get("/").text))
    assert page[paper_id] == votes + 1
    client.post(f"/papers/{paper_id}/upvote", data={"csrf_token": token, "up": "0"})
    assert dict(cards(client.get("/").text))[paper_id] == votes


def test_upvote_refuses_open_redirects(client):
    sign_up(client)
    r = client.post(
        "/papers/2608.19880/upvote",
        data={"csrf_token": client.cookies["pb_csrf"], "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/papers/2608.19880"


def test_admin_removes_a_paper_from_the_feed(client, store):
    sign_up(client, "root")
    token = client.cookies["pb_csrf"]
    refused = client.post("/papers/2608.19880/remove", data={"csrf_token": token})
    assert refused.status_code == 403
    store.set_admin("root", True)
    client.post("/papers/2608.19880/remove", data={"csrf_token": token})
    assert "2608.19880" not in dict(cards(client.get("/").text))
    assert store.get("2608.19880") is not None  # the paper itself stays


def test_subscribe_slot_is_on_feed_pages(app):
    source = app.state.web.templates.loader.get_source(app.state.web.templates, "feed.html")[0]
    assert "{% block subscribe %}" in source


def test_a_search_without_matches_says_so(client):
    r = client.get("/search?q=zzzyzzqx")
    assert r.status_code == 200
    # Hybrid search still shows the nearest papers by meaning, but says none holds the words.
    assert "no paper contains these words" in r.text and "<mark>" not in r.text


def test_an_empty_day_still_navigates(client):
    r = client.get("/papers/date/2026-01-01")
    assert r.status_code == 200 and "No papers entered the feed" in r.text
    assert re.search(r'<a rel="prev" class="button" href="/papers/date/\d{4}-\d{2}-\d{2}"', r.text)
    assert re.search(r'<a rel="next" class="button" href="/papers/date/\d{4}-\d{2}-\d{2}"', r.text)


def test_unknown_paths_get_a_page_not_a_traceback(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "Not found" in r.text
    assert client.get("/api/nothing").json() == {"error": "Not Found"}


def test_feed_pages_offer_the_digest_sign_up(client, store):
    page = client.get("/").text
    assert 'action="/subscribe"' in page and 'name="email"' in page
    answer = client.post(
        "/subscribe", data={"email": "reader@example.org", "frequency": "daily", "include_top": "1"}
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    subscriber = store.subscriber_by_email("reader@example.org")
    assert subscriber.status == "pending" and subscriber.frequency == "daily"


LATEX_PAPER = latex_paper(LATEST)


@pytest.fixture
def latex_client(settings, store):
    store.upsert([LATEX_PAPER])
    with TestClient(create_app(settings, store=store)) as client:
        yield client


def test_paper_page_shows_text_mode_latex_as_text_and_math_for_katex(latex_client):
    html = latex_client.get(f"/papers/{LATEX_PAPER.id}").text
    assert '<h1 class="math"><b>Fast</b> $O(n)$ attention with ours</h1>' in html
    assert "<title>Fast $O(n)$ attention with ours · paperboy</title>" in html
    abstract = re.search(r'<p class="abstract math">(.*?)</p>', html, re.DOTALL)[1]
    assert "cost by 50%, in 1–2 days, for " in abstract
    assert '<span class="tex-dollar">$</span>400K. ours is at ' in abstract
    for raw in ("\\textbf", "\\%", "--", "\\$", "\\ours"):
        assert raw not in abstract and raw not in html.split("<h1")[1].split("</h1>")[0]
    # The feed's card shows the same title.
    feed = latex_client.get(f"/papers/date/{LATEST}").text
    assert "<b>Fast</b> $O(n)$ attention with ours</a>" in feed


def test_urls_in_abstracts_are_links_through_the_allow_list(latex_client):
    html = latex_client.get(f"/papers/{LATEX_PAPER.id}").text
    abstract = re.search(r'<p class="abstract math">(.*?)</p>', html, re.DOTALL)[1]
    assert (
        '<a href="https://github.com/org/fast_attn" rel="noopener nofollow">'
        "https://github.com/org/fast_attn</a>."
    ) in abstract
    assert "http://localhost:8000/x" in abstract and 'href="http://localhost' not in abstract


def test_dates_say_which_is_arxiv_and_which_is_the_daily_feed(latex_client):
    html = latex_client.get(f"/papers/{LATEX_PAPER.id}").text
    dates = re.search(r'<dl class="dates">(.*?)</dl>', html, re.DOTALL)[1]
    assert "<dt>Published on arXiv</dt>" in dates and "<dt>In the daily papers</dt>" in dates
    assert ", added by akhaliq" in dates
    assert "Submitted" not in dates and "submitted" not in dates


def test_a_long_author_list_opens_on_demand_and_keeps_every_name(latex_client):
    html = latex_client.get(f"/papers/{LATEX_PAPER.id}").text
    authors = re.search(r'<div class="authors-all">(.*?)</div>', html, re.DOTALL)[1]
    shown, hidden = authors.split('<details class="more-authors">')
    assert shown.count("Author ") == 10 and "<summary>and 30 more</summary>" in hidden
    assert all(f"Author {n}" in authors for n in range(40))


def test_upstream_comments_say_where_they_are(latex_client):
    link = (
        '<a class="comments" href="https://huggingface.co/papers/2608.99990" '
        'rel="noopener nofollow">1 comment on Hugging Face</a>'
    )
    assert link in latex_client.get(f"/papers/date/{LATEST}").text
    assert link in latex_client.get(f"/papers/{LATEX_PAPER.id}").text
    assert re.search(r"\d comments?<", latex_client.get("/").text) is None  # never bare


def test_one_upvote_is_singular(latex_client):
    said = re.compile(
        r'<span class="count">(\d+)</span>\s*'
        r'<span class="visually-hidden said">(upvotes?)</span>'
    )
    for url in (f"/papers/{LATEX_PAPER.id}", f"/papers/date/{LATEST}"):
        pairs = said.findall(latex_client.get(url).text)
        assert ("1", "upvote") in pairs, url
        assert all((count == "1") == (word == "upvote") for count, word in pairs), url
    atom = latex_client.get("/feeds/daily.atom").text
    assert re.search(r"\n1 upvote\b(?!s)", atom) and re.search(r"\b1 upvotes", atom) is None


def test_the_bibtex_box_holds_every_line_of_the_entry(latex_client):
    html = latex_client.get(f"/papers/{LATEX_PAPER.id}").text
    box = re.search(r'<pre id="bibtex" class="bibtex"[^>]*>(.*?)</pre>', html, re.DOTALL)[1]
    assert box.startswith("@misc{") and box.rstrip().endswith("}")
    assert box.startswith("@misc{02026fast,")  # the key's word is the title's, not \textbf's
    assert "Author 39" in box and "url={https://arxiv.org/abs/2608.99990}" in box
    assert "<textarea" not in html  # rows counted lines, not wrapped lines: it cut them off


@pytest.fixture
def search_client(settings, store):
    app = create_app(settings, store=store, search=open_search(store, settings))
    with TestClient(app) as client:
        yield client


def test_the_search_page_has_one_search_box(search_client):
    for url in ("/search", "/search?q=watermark"):
        html = search_client.get(url).text
        assert len(re.findall(r'<input[^>]* name="q"', html)) == 1, url
        assert html.count('role="search"') == 1, url
    assert len(re.findall(r'<input[^>]* name="q"', search_client.get("/").text)) == 1


def test_search_results_carry_no_debug_label(search_client):
    html = search_client.get("/search?q=watermark images").text
    assert cards(html)
    for label in ("keyword + semantic", ">semantic<", ">keyword<", 'class="why"'):
        assert label not in html


def test_no_results_is_said_once(search_client):
    html = search_client.get("/search?q=watermark&category=zz.NONE").text
    assert not cards(html)
    main = html.split('<main id="main">')[1].split("</main>")[0]
    said = re.findall(r"no papers? match", main, re.IGNORECASE)
    assert len(said) == 1, said
    assert "0 papers found" not in main


def test_search_filters_fold_away_until_used(search_client):
    plain = search_client.get("/search?q=watermark").text
    assert re.search(r'<details class="filters">', plain)  # closed: results come first
    used = search_client.get("/search?q=watermark&category=cs.CV").text
    assert re.search(r'<details class="filters" open>', used)


SATURDAY = PREVIOUS + timedelta(days=5 - PREVIOUS.weekday())  # after PREVIOUS, before LATEST


def test_a_weekend_shows_the_day_before_with_papers_and_says_so(client):
    assert PREVIOUS.weekday() < 5 and PREVIOUS < SATURDAY < LATEST
    r = client.get(f"/papers/date/{SATURDAY}")
    assert r.status_code == 200
    weekday = client.get(f"/papers/date/{PREVIOUS}")
    assert cards(r.text) == cards(weekday.text) and cards(r.text)
    note = re.search(r'<p class="notice" role="status">(.*?)</p>', r.text)[1]
    assert note == (
        f"No papers entered the feed on {SATURDAY:%A %-d %B %Y}: showing "
        f"{PREVIOUS:%A %-d %B %Y}, the closest earlier day with papers."
    )
    assert f'<link rel="canonical" href="/papers/date/{PREVIOUS}">' in r.text
    assert 'class="notice"' not in weekday.text  # a day with papers needs no note


def test_a_future_day_shows_the_newest_day(client):
    r = client.get("/papers/date/2099-01-01")
    assert sorted(cards(r.text)) == sorted(expected_day(HF_DAYS[-1]))
    assert "is after the newest day with papers" in r.text


def test_the_api_lists_the_nearest_day_with_papers_and_says_which(client):
    r = client.get(f"/api/daily_papers?date={SATURDAY}")
    assert r.status_code == 200
    assert {i["paper"]["id"] for i in r.json()} == {pid for pid, _ in expected_day(HF_DAYS[-2])}
    assert r.headers["x-paperboy-date"] == PREVIOUS.isoformat()
    assert SATURDAY.strftime("%A %-d %B %Y") in r.headers["x-paperboy-date-note"]
    future = client.get("/api/daily_papers?date=2099-01-01")
    assert future.headers["x-paperboy-date"] == LATEST.isoformat()
    assert len(future.json()) == len(expected_day(HF_DAYS[-1]))
    plain = client.get(f"/api/daily_papers?date={LATEST}")
    assert plain.headers["x-paperboy-date"] == LATEST.isoformat()
    assert "x-paperboy-date-note" not in plain.headers


def test_the_favicon_is_a_real_icon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/vnd.microsoft.icon"
    icon = r.content
    reserved, kind, count = struct.unpack("<HHH", icon[:6])
    assert (reserved, kind) == (0, 1) and count >= 1  # an ICO directory
    sizes = []
    for n in range(count):
        width, height, _, _, _, _, length, offset = struct.unpack(
            "<BBBBHHII", icon[6 + 16 * n : 22 + 16 * n]
        )
        png = icon[offset : offset + length]
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == length
        assert struct.unpack(">II", png[16:24]) == (width, height)  # IHDR agrees
        sizes.append(width)
    assert 32 in sizes


def test_robots_txt_keeps_crawlers_to_the_feeds_and_paper_pages(client):
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(r.text.splitlines())
    for allowed in (
        "/",
        f"/papers/date/{LATEST}",
        "/papers/2503.11945",
        "/papers/trending",
        "/feeds/daily.atom",
        "/favicon.ico",
    ):
        assert robots.can_fetch("AnyBot", allowed), allowed
    for refused in (
        "/search?q=agents",
        "/papers?q=agents",
        "/feeds/search.atom?q=x",
        "/api/daily_papers",
        "/account",
        "/signin?next=/",
        "/subscribe",
    ):
        assert not robots.can_fetch("AnyBot", refused), refused


def test_serving_loads_the_search_model_before_the_first_request(settings, store):
    update_indexes(store, settings)
    lazy = create_app(settings, store=store, search=open_search(store, settings))
    with TestClient(lazy):
        assert lazy.state.web.search.indexes._encoders == {}  # tests and scripts: on demand
    warmed = create_app(settings, store=store, search=open_search(store, settings), warm=True)
    with TestClient(warmed) as client:
        loaded = warmed.state.web.search.indexes._encoders
        assert set(loaded) == {settings.search_model}  # before any request
        before = dict(loaded)
        assert cards(client.get("/search?q=watermark").text)
        assert loaded == before  # the first search used the warmed model, loaded nothing
