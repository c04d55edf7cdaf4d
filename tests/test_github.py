"""GitHub star counts against a loopback server answering in the REST API's documented shapes
(https://docs.github.com/en/rest/repos/repos#get-a-repository, and the rate-limit answers of
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api)."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from paperboy.papers import FeedEntry, Paper
from paperboy.stars import read_stars
from paperboy.store import open_store
from paperboy.store.media import Stars
from tests.replay import ReplayServer, Reply, loopback_settings

DAY = date(2026, 8, 21)
RATE_LIMITED = {
    "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
    "Authenticated requests get a higher rate limit. Check out the documentation "
    "for more details.)",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}
NOT_FOUND = {
    "message": "Not Found",
    "status": "404",
    "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
}


def repo_body(full_name: str, stars: int) -> str:
    owner, name = full_name.split("/")
    return json.dumps(
        {
            "id": 1296269,
            "name": name,
            "full_name": full_name,
            "private": False,
            "owner": {"login": owner, "type": "Organization"},
            "html_url": f"https://github.com/{full_name}",
            "fork": False,
            "stargazers_count": stars,
            "watchers_count": stars,
            "forks_count": 9,
            "default_branch": "main",
            "pushed_at": "2026-08-20T10:00:00Z",
        }
    )


def limits(remaining: int, reset: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Used": str(60 - remaining),
        "X-RateLimit-Resource": "core",
        "X-RateLimit-Reset": str(int(reset)),
    }


def ok(full_name: str, stars: int, remaining: int = 59, reset: float = 0) -> Reply:
    return Reply(
        200,
        repo_body(full_name, stars),
        limits(remaining, reset or time.time() + 3600),
        content_type="application/json; charset=utf-8",
    )


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def _setup(tmp_path, server, repos: list[str], **extra):
    settings = loopback_settings(tmp_path, server, github_api_url=server.url("/gh"), **extra)
    store = open_store(settings)
    store.upsert(
        [
            Paper(
                f"2608.{n:05d}",
                f"P{n}",
                "An abstract.",
                code_url=f"https://github.com/{repo}",
                entry=FeedEntry(date(2026, 8, 21 - n), "hf"),
            )
            for n, repo in enumerate(repos)
        ]
    )
    return settings, store


def test_counts_are_read_with_the_token_and_kept_by_day(tmp_path, server):
    settings, store = _setup(tmp_path, server, ["Org/One", "org/two"], github_token="t0ken")
    server.route("/gh/repos/org/one", ok("Org/One", 1500))
    server.route("/gh/repos/org/two", ok("org/two", 7))
    run = read_stars(store, settings, limit=10, day=DAY, show_progress=False)
    assert (run.read, run.failed, run.stopped) == (2, [], None)
    assert Stars(store).history("org/one") == [(DAY, 1500, "github")]
    hit = server.hits[0]
    assert hit.headers["Authorization"] == "Bearer t0ken"
    assert hit.headers["Accept"] == "application/vnd.github+json"
    assert "X-GitHub-Api-Version" in hit.headers
    # Read today already: a second run asks nothing.
    assert read_stars(store, settings, limit=10, day=DAY, show_progress=False).read == 0
    assert len(server.hits) == 2


def test_a_used_up_limit_holds_the_next_request_until_the_reset(tmp_path, server):
    settings, store = _setup(tmp_path, server, ["a/one", "a/two"])
    reset = time.time() + 2
    server.route("/gh/repos/a/one", ok("a/one", 5, remaining=0, reset=reset))
    server.route("/gh/repos/a/two", ok("a/two", 6))
    run = read_stars(store, settings, limit=10, day=DAY, show_progress=False)
    assert run.read == 2
    assert server.hits[1].at - server.hits[0].at >= 1.0  # waited for X-RateLimit-Reset
    assert time.time() >= int(reset)


def test_a_limit_that_resets_too_late_stops_the_run_saying_when(tmp_path, server):
    settings, store = _setup(tmp_path, server, ["a/one", "a/two", "a/three"])
    server.route("/gh/repos/a/one", ok("a/one", 5))
    server.route(
        "/gh/repos/a/two",
        Reply(
            403,
            json.dumps(RATE_LIMITED),
            limits(0, time.time() + 1800),
            content_type="application/json",
        ),
    )
    run = read_stars(store, settings, limit=10, day=DAY, show_progress=False)
    assert run.read == 1 and run.failed == []
    assert "rate limit is used up until" in run.stopped and "github_token" in run.stopped
    assert [h.path for h in server.hits] == ["/gh/repos/a/one", "/gh/repos/a/two"]
    # The next run resumes with the repositories not read today.
    assert Stars(store).repos_to_read(DAY, 10) == ["a/two", "a/three"]


def test_a_secondary_limit_is_waited_out_by_retry_after(tmp_path, server):
    settings, store = _setup(tmp_path, server, ["a/one"])
    secondary = {
        "message": "You have exceeded a secondary rate limit. Please wait a few "
        "minutes before you try again."
    }
    server.route(
        "/gh/repos/a/one",
        [
            Reply(
                403, json.dumps(secondary), {"Retry-After": "1"}, content_type="application/json"
            ),
            ok("a/one", 42),
        ],
    )
    run = read_stars(store, settings, limit=10, day=DAY, show_progress=False)
    assert run.read == 1 and Stars(store).history("a/one") == [(DAY, 42, "github")]
    assert server.hits[1].at - server.hits[0].at >= 1.0


def test_a_missing_or_odd_repository_fails_alone(tmp_path, server):
    settings, store = _setup(tmp_path, server, ["a/gone", "a/odd", "a/fine"])
    server.route(
        "/gh/repos/a/gone", Reply(404, json.dumps(NOT_FOUND), content_type="application/json")
    )
    server.route(
        "/gh/repos/a/odd",
        Reply(200, json.dumps({"stargazers_count": "many"}), content_type="application/json"),
    )
    server.route("/gh/repos/a/fine", ok("a/fine", 3))
    run = read_stars(store, settings, limit=10, day=DAY, show_progress=False)
    assert run.read == 1 and run.stopped is None
    reasons = dict(run.failed)
    assert "HTTP 404: no such public repository" in reasons["a/gone"]
    assert "stargazers_count is 'many'" in reasons["a/odd"]
