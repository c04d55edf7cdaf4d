"""store/media.py on both backends: HF summaries and star counts kept on import, star growth,
thumbnail bookkeeping, extracted keywords."""

from __future__ import annotations

import json
from datetime import date, timedelta

from paperboy.papers import FeedEntry, Paper
from paperboy.sources.hf import paper_from_hf_item
from paperboy.store.media import Keywords, Stars, Summaries, Thumbnails, github_repo
from tests.replay import FIXTURES

TODAY = date(2026, 8, 21)


def _hf_items() -> list[dict]:
    return json.loads((FIXTURES / "hf_daily_papers_2026-08-21.json").read_text())


def _paper(pid: str, code: str | None = None, day: date | None = TODAY, **extra) -> Paper:
    entry = FeedEntry(day, "hf") if day else None
    return Paper(pid, f"Title {pid}", "An abstract.", code_url=code, entry=entry, **extra)


def test_hf_summaries_and_star_counts_are_kept_on_import(store):
    items = _hf_items()
    papers = [paper_from_hf_item(item) for item in items]
    store.upsert(papers)
    with_summary = {
        i["paper"]["id"]: i["paper"]["ai_summary"] for i in items if i["paper"].get("ai_summary")
    }
    assert with_summary and Summaries(store).of(with_summary) == {
        pid: " ".join(text.split()) for pid, text in with_summary.items()
    }
    starred = {
        github_repo(i["paper"]["githubRepo"]): i["paper"]["githubStars"]
        for i in items
        if i["paper"].get("githubStars") is not None
    }
    counts = Stars(store).of_repos(starred)
    assert {repo: c.stars for repo, c in counts.items()} == starred
    # The same file again the same day adds no history.
    store.upsert(papers)
    repo = next(iter(starred))
    assert len(Stars(store).history(repo)) == 1


def test_star_growth_is_per_day_over_the_last_week(store):
    stars = Stars(store)
    repo = "owner/repo"
    for days_ago, count in ((30, 10), (6, 100), (3, 160), (0, 220)):
        stars.record({repo: count}, TODAY - timedelta(days=days_ago))
    found = stars.of_repos([repo])[repo]
    assert (found.stars, found.day) == (220, TODAY)
    assert found.per_day == (220 - 100) / 6  # the count of 30 days ago is outside the window
    store.upsert([_paper("2608.00001", "https://github.com/Owner/Repo")])
    assert stars.of_papers([store.get("2608.00001")])["2608.00001"].stars == 220


def test_a_github_count_is_not_replaced_by_hfs_copy_of_the_same_day(store):
    stars = Stars(store)
    stars.record({"a/b": 50}, TODAY, "github")
    stars.record({"a/b": 7}, TODAY, "hf")
    assert stars.history("a/b") == [(TODAY, 50, "github")]
    stars.record({"a/b": 51}, TODAY, "github")
    assert stars.history("a/b") == [(TODAY, 51, "github")]


def test_repos_to_read_skips_those_read_today(store):
    store.upsert(
        [
            _paper("2608.00001", "https://github.com/a/one"),
            _paper("2608.00002", "https://github.com/a/two", day=TODAY - timedelta(1)),
            _paper("2608.00003", "https://gitlab.com/a/three"),
        ]
    )
    stars = Stars(store)
    assert stars.repos_to_read(TODAY, 10) == ["a/one", "a/two"]
    stars.record({"a/one": 3}, TODAY, "github")
    assert stars.repos_to_read(TODAY, 10) == ["a/two"]


def test_thumbnails_pending_done_and_failed(store):
    store.upsert(
        [
            _paper("2608.00001"),
            _paper("2608.00002", day=TODAY - timedelta(1)),
            _paper("2608.00003", day=None),
        ]
    )
    thumbs = Thumbnails(store)
    assert thumbs.pending(10) == ["2608.00001", "2608.00002"]
    assert thumbs.pending(10, every_paper=True) == ["2608.00001", "2608.00002", "2608.00003"]
    thumbs.record_done("2608.00001", "2608.00001.webp", 1234)
    thumbs.record_failed("2608.00002", "not a PDF")
    assert thumbs.pending(10) == []
    assert thumbs.pending(10, retry_failed=True) == ["2608.00002"]
    assert thumbs.files(["2608.00001", "2608.00002"]) == {"2608.00001": "2608.00001.webp"}
    assert thumbs.get("2608.00002").reason == "not a PDF"
    assert thumbs.totals() == {"done": (1, 1234), "failed": (1, 0)}


def test_extracted_keywords_only_for_papers_without_upstream_ones(store):
    store.upsert([_paper("2608.00001"), _paper("2608.00002", keywords=["given"])])
    words = Keywords(store)
    assert [row[0] for row in words.missing(10)] == ["2608.00001"]
    words.save({"2608.00001": ["graph neural networks", "protein folding"]}, "static")
    assert words.missing(10) == []
    assert words.extracted(["2608.00001"]) == {
        "2608.00001": ["graph neural networks", "protein folding"]
    }


def test_github_repo_names():
    assert github_repo("https://github.com/Owner/Repo.git") == "owner/repo"
    assert github_repo("https://gitlab.com/owner/repo") is None
    assert github_repo("https://github.com/owner") is None
    assert github_repo(None) is None
    # ".." as the owner would make the API URL name another endpoint (api.github.com/user)
    assert github_repo("https://github.com/../user") is None
    assert github_repo("https://github.com/./repo") is None
