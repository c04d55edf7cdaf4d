"""Submitting papers by id or URL. A request never calls arXiv: an unknown paper is queued and
the answer says where to follow it; the worker (here `drain`, as `paperboy submissions run`)
fetches it from a real loopback HTTP server serving recorded arXiv API responses
(tests/fixtures/arxiv_api_web)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from paperboy.submissions import drain
from paperboy.web.app import create_app
from paperboy.web.submit import utc_today
from tests.replay import ReplayServer, Reply

from .conftest import FIXTURES, cards, sign_up

RECORDED = json.loads((FIXTURES / "arxiv_api_web/id_1605.08386.json").read_text())
EMPTY = json.loads((FIXTURES / "arxiv_api_web/empty_result.json").read_text())


@pytest.fixture
def arxiv():
    with ReplayServer() as server:
        server.route("/api/query", Reply(200, EMPTY["body"]))  # any other id: not on arXiv
        server.route(
            "/api/query",
            Reply(RECORDED["status_code"], RECORDED["body"]),
            params={"id_list": "1605.08386"},
        )
        yield server


@pytest.fixture
def local(settings, arxiv):
    return replace(
        settings,
        arxiv_api_url=arxiv.url("/api/query"),
        http_min_interval=0.0,
        http_retries=0,
        http_backoff=0.0,
        submissions_retry=0.0,
    )


@pytest.fixture
def client(local, store):
    with TestClient(create_app(local, store=store)) as c:
        yield c


def submit(client, text):
    return client.post(
        "/submit",
        data={"id": text, "csrf_token": client.cookies["pb_csrf"]},
        follow_redirects=False,
    )


def status_of(html: str) -> str:
    return re.search(r'class="submission-status">(\w+)<', html).group(1)


def test_a_new_paper_is_queued_then_fetched_and_joins_todays_feed(client, store, local, arxiv):
    assert client.get("/submit", follow_redirects=False).status_code == 303  # sign in first
    sign_up(client, "sam")
    r = submit(client, "https://arxiv.org/abs/1605.08386v1")
    assert r.status_code == 303 and r.headers["location"].startswith("/submissions/")
    assert arxiv.hits == []  # the request asked nothing of arXiv
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and status_of(page.text) == "queued"
    assert '<meta http-equiv="refresh"' in page.text  # the page follows the queue by itself
    assert store.get("1605.08386") is None
    assert drain(store, local).summary().startswith("stored 1")
    done = client.get(r.headers["location"])
    assert status_of(done.text) == "done" and 'href="/papers/1605.08386"' in done.text
    assert '<meta http-equiv="refresh"' not in done.text
    paper = store.get("1605.08386")
    assert paper.entry.day == utc_today() and paper.entry.submitted_by == "sam"
    assert "1605.08386" in dict(cards(client.get(f"/papers/date/{utc_today()}").text))
    again = submit(client, "1605.08386")
    assert again.status_code == 409 and "already in the feed" in again.text


def test_unknown_ids_fail_with_the_reason_and_bad_input_is_refused_at_once(client, store, local):
    sign_up(client)
    unknown = submit(client, "2412.99999")
    assert unknown.status_code == 303
    drain(store, local)
    failed = client.get(unknown.headers["location"])
    assert status_of(failed.text) == "failed"
    assert "arXiv has no paper 2412.99999: check the id" in failed.text
    invalid = submit(client, "hello world")
    assert invalid.status_code == 400 and "not an arXiv id" in invalid.text
    assert client.get("/submissions/999").status_code == 404


def test_a_down_arxiv_leaves_the_submission_queued_with_the_reason(client, store, local, arxiv):
    sign_up(client)
    arxiv.route("/api/query", Reply(503, "down"))
    queued = submit(client, "2412.99998")
    assert queued.status_code == 303
    report = drain(store, local)
    assert report.problems and "HTTP 503" in report.problems[0]
    page = client.get(queued.headers["location"])
    assert status_of(page.text) == "queued" and "HTTP 503" in page.text


def bearer(store, name: str) -> dict[str, str]:
    from paperboy.web.auth import new_token, token_hash

    user = store.create_user(name, "unused-hash")
    token = new_token()
    store.create_api_token(user.id, "test", token_hash(token))
    return {"Authorization": f"Bearer {token}"}


def test_the_api_answers_202_with_a_status_url_to_follow(client, store, local, arxiv):
    headers = bearer(store, "ann")
    r = client.post("/api/papers/submit", json={"id": "arXiv:1605.08386"}, headers=headers)
    assert r.status_code == 202 and arxiv.hits == []
    body = r.json()
    assert (body["id"], body["status"]) == ("1605.08386", "queued")
    assert r.headers["location"] == body["statusUrl"]
    # The same paper again, by anyone, follows the same submission instead of a second one.
    other = client.post(
        "/api/papers/submit", json={"id": "1605.08386"}, headers=bearer(store, "ben")
    )
    assert other.status_code == 202 and other.json()["submission"] == body["submission"]
    drain(store, local)
    done = client.get(body["statusUrl"]).json()
    assert done["status"] == "done" and done["paperUrl"] == "/api/papers/1605.08386"
    paper = client.get(done["paperUrl"]).json()
    assert paper["submittedOnDailyBy"]["user"] == "ann"
    assert client.get("/api/submissions/999").status_code == 404
    assert client.get("/api/submissions/nope").status_code == 400
    assert client.get(f"/api/submissions/{2**70}").status_code == 400


def test_the_queue_is_bounded_per_user_and_in_total(client, store, local):
    tight = replace(local, submissions_per_user=2, submissions_max=3)
    with TestClient(create_app(tight, store=store)) as c:
        ann, ben = bearer(store, "ann"), bearer(store, "ben")
        for n in (1, 2):
            assert (
                c.post("/api/papers/submit", json={"id": f"2412.9000{n}"}, headers=ann).status_code
                == 202
            )
        mine = c.post("/api/papers/submit", json={"id": "2412.90003"}, headers=ann)
        assert mine.status_code == 429 and "2 submissions waiting" in mine.json()["error"]
        assert int(mine.headers["retry-after"]) > 0
        assert (
            c.post("/api/papers/submit", json={"id": "2412.90004"}, headers=ben).status_code == 202
        )
        full = c.post("/api/papers/submit", json={"id": "2412.90005"}, headers=ben)
        assert full.status_code == 503 and "queue is full" in full.json()["error"]
        assert int(full.headers["retry-after"]) > 0
    drain(store, local)  # fetched (here: not on arXiv), the queue has room again
    with TestClient(create_app(tight, store=store)) as c:
        assert (
            c.post("/api/papers/submit", json={"id": "2412.90003"}, headers=ann).status_code == 202
        )


def test_a_stored_paper_joins_the_feed_without_waiting_for_a_busy_index_writer(
    client, store, local, arxiv
):
    from concurrent.futures import ThreadPoolExecutor

    from paperboy.search.files import writing_indexes

    store.remove_from_feed("2503.13756")  # stored, outside the feed
    headers = bearer(store, "ann")
    # Another process (say a bulk import) holds the index writers' lock for a long time.
    with ThreadPoolExecutor(1) as pool, writing_indexes(local):
        answer = pool.submit(
            client.post, "/api/papers/submit", json={"id": "2503.13756"}, headers=headers
        )
        r = answer.result(timeout=10)
    assert r.status_code == 201 and r.json()["submittedBy"]["name"] == "ann"
    assert store.get("2503.13756").entry.submitted_by == "ann" and arxiv.hits == []
