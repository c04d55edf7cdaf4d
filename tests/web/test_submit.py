"""Submitting papers by id or URL: the arXiv look-up goes to a real loopback HTTP server that
serves recorded arXiv API responses (tests/fixtures/arxiv_api_web)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from paperboy.web.app import create_app
from paperboy.web.submit import utc_today

from .conftest import FIXTURES, cards, sign_up

pytest.importorskip("paperboy.sources.arxiv_api", reason="the arXiv API source is not merged")

RECORDED = {"1605.08386": json.loads((FIXTURES / "arxiv_api_web/id_1605.08386.json").read_text())}
EMPTY = json.loads((FIXTURES / "arxiv_api_web/empty_result.json").read_text())


class FakeArxiv(BaseHTTPRequestHandler):
    """Answers id_list look-ups with the recorded response for that id, or an empty feed."""

    down = False

    def do_GET(self):
        if self.server.down:
            self.send_response(503)
            self.end_headers()
            return
        ids = parse_qs(urlsplit(self.path).query).get("id_list", [""])[0].split(",")
        recorded = RECORDED.get(ids[0].split("v")[0], EMPTY)
        body = recorded["body"].encode()
        self.send_response(recorded["status_code"])
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def arxiv():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeArxiv)
    server.down = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(settings, store, arxiv):
    from dataclasses import replace

    local = replace(settings, arxiv_api_url=f"http://127.0.0.1:{arxiv.server_port}/api/query",
                    http_min_interval=0.0, http_retries=0, http_backoff=0.0)
    with TestClient(create_app(local, store=store)) as c:
        yield c


def submit(client, text):
    return client.post("/submit", data={"id": text, "csrf_token": client.cookies["pb_csrf"]})


def test_a_new_paper_is_fetched_and_joins_todays_feed(client, store):
    assert client.get("/submit", follow_redirects=False).status_code == 303  # sign in first
    sign_up(client, "sam")
    r = submit(client, "https://arxiv.org/abs/1605.08386v1")
    assert r.status_code == 201 and "Added to today's feed" in r.text
    paper = store.get("1605.08386")
    assert paper.entry.day == utc_today() and paper.entry.submitted_by == "sam"
    today = client.get(f"/papers/date/{utc_today()}")
    assert "1605.08386" in dict(cards(today.text))
    again = submit(client, "1605.08386")
    assert again.status_code == 409 and "already in the feed" in again.text


def test_unknown_ids_and_a_down_arxiv_say_what_happened(client, arxiv):
    sign_up(client)
    unknown = submit(client, "2412.99999")
    assert unknown.status_code == 404 and "arXiv has no paper 2412.99999" in unknown.text
    invalid = submit(client, "hello world")
    assert invalid.status_code == 400 and "not an arXiv id" in invalid.text
    arxiv.down = True
    down = submit(client, "2412.99998")
    assert down.status_code == 502 and "could not fetch 2412.99998 from arXiv" in down.text
