"""The Hugging Face /api/daily_papers client, against recorded days served on loopback."""

from __future__ import annotations

import json
from datetime import date

import pytest

from paperboy.papers import Paper
from paperboy.sources import Rejected, SourceError
from paperboy.sources.hf import fetch_daily
from paperboy.sources.http import PoliteClient
from tests.replay import FIXTURES, ReplayServer, Reply, loopback_settings

DAILY = "/api/daily_papers"


def recorded_day(day: str) -> list:
    return json.loads((FIXTURES / "hf_api" / f"{day}.json").read_text(encoding="utf-8"))


def as_json(items) -> Reply:
    return Reply(200, json.dumps(items), content_type="application/json")


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def fetch(server, tmp_path, day: date, **kwargs):
    settings = loopback_settings(tmp_path, server)
    with PoliteClient(settings) as client:
        return fetch_daily(client, settings, day, **kwargs)


def test_a_day_of_daily_papers_is_dated_by_that_day(server, tmp_path):
    items = recorded_day("2024-05-27")
    server.route(DAILY, as_json(items), {"date": "2024-05-27"})
    papers = fetch(server, tmp_path, date(2024, 5, 27))
    assert [p.id for p in papers] == [item["paper"]["id"] for item in items]
    assert all(p.entry.day == date(2024, 5, 27) and p.entry.source == "hf" for p in papers)
    first = papers[0]
    assert first.id == "2405.15738"
    assert first.upvotes == items[0]["paper"]["upvotes"]
    assert first.authors[0] == items[0]["paper"]["authors"][0]["name"]
    assert server.hits[0].params == {"date": "2024-05-27", "limit": "100", "p": "0"}


def test_github_repository_and_submitter_come_along(server, tmp_path):
    items = recorded_day("2025-09-10")
    server.route(DAILY, as_json(items), {"date": "2025-09-10"})
    papers = {p.id: p for p in fetch(server, tmp_path, date(2025, 9, 10))}
    with_repo = [i for i in items if i["paper"].get("githubRepo")]
    assert with_repo, "the recorded day has papers with a GitHub repository"
    for item in with_repo:
        assert papers[item["paper"]["id"]].code_url == item["paper"]["githubRepo"]
    submitted = [i for i in items if i.get("submittedBy") or i["paper"].get("submittedOnDailyBy")]
    assert submitted
    assert all(papers[i["paper"]["id"]].entry.submitted_by for i in submitted)


def test_a_long_day_is_read_page_by_page(server, tmp_path):
    items = recorded_day("2024-05-27")  # 13 items, asked for 5 at a time
    for page in range(3):
        server.route(
            DAILY, as_json(items[page * 5 : page * 5 + 5]), {"date": "2024-05-27", "p": page}
        )
    papers = fetch(server, tmp_path, date(2024, 5, 27), page_size=5)
    assert len(papers) == 13
    assert [h.params["p"] for h in server.hits] == ["0", "1", "2"]


def test_a_server_that_ignores_paging_does_not_loop(server, tmp_path):
    items = recorded_day("2024-05-27")
    server.route(DAILY, as_json(items[:5]))  # the same five for every page
    papers = fetch(server, tmp_path, date(2024, 5, 27), page_size=5)
    assert len(papers) == 5 and len(server.hits) == 2


def test_unusable_items_are_rejected_and_the_rest_kept(server, tmp_path):
    items = recorded_day("2025-09-10")
    broken = dict(items[2])
    del broken["paper"]
    wrong_type = dict(items[3], title=["a", "list"])
    server.route(
        DAILY, as_json(items[:2] + [broken, {"paper": {"id": "nonsense"}}, wrong_type] + items[4:])
    )
    got = fetch(server, tmp_path, date(2025, 9, 10))
    papers = [g for g in got if isinstance(g, Paper)]
    rejected = [g for g in got if isinstance(g, Rejected)]
    assert len(papers) == len(items) - 2
    assert [r.location.rsplit("#", 1)[1] for r in rejected] == ["item3", "item4", "item5"]
    assert rejected[0].reason == "missing required field 'paper'"
    assert "'nonsense' is not an arXiv id" in rejected[1].reason
    assert rejected[2].reason == "title: expected a string, got array"


def test_an_empty_day_is_no_error(server, tmp_path):
    server.route(DAILY, as_json([]))
    assert fetch(server, tmp_path, date(2026, 8, 22)) == []


def test_an_answer_that_is_no_list_is_a_clear_error(server, tmp_path):
    server.route(DAILY, as_json({"error": "Invalid date"}))
    with pytest.raises(SourceError) as err:
        fetch(server, tmp_path, date(2026, 8, 22))
    assert "daily_papers?date=2026-08-22" in str(err.value)
    assert "expected a JSON list of daily papers, got dict" in str(err.value)
