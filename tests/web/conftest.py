"""Shared set-up for the web tests: a real SQLite store seeded from tests/fixtures (three real
Hugging Face daily-papers days and three real arXiv listing rows with LaTeX), the app built by
the real factory, and the framework's test client.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.papers import FeedEntry, Paper
from paperboy.store import open_store
from paperboy.web.app import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF_DAYS = sorted((FIXTURES / "hf_daily_papers_api").glob("*.json"))
LISTINGS = FIXTURES / "arxiv_listings_latex.jsonl"


def hf_day(path: Path) -> list[dict]:
    return json.loads(path.read_text())


def latex_paper(day: date) -> Paper:
    """A paper whose title and abstract hold the LaTeX a newcomer met raw on the pages, a URL,
    40 authors, one upvote and one comment upstream, in the feed on `day`."""
    return Paper(
        id="2608.99990",
        title=r"\textbf{Fast} $O(n)$ attention with \ours",
        abstract=(
            r"We cut the cost by 50\%, in 1--2 days, for \$400K. \ours{} is at "
            r"https://github.com/org/fast\_attn. Not a link: http://localhost:8000/x."
        ),
        authors=[f"Author {n}" for n in range(40)],
        categories=["cs.LG"],
        published=date(2026, 8, 20),
        entry=FeedEntry(day, "hf", submitted_by="akhaliq", num_comments=1),
        upvotes=1,
    )


def seed(store, settings) -> None:
    for path in [*HF_DAYS, LISTINGS]:
        import_file(store, path, settings, show_progress=False)


@pytest.fixture
def settings(tmp_path, clean_env) -> Settings:
    return Settings.load(data_dir=tmp_path / "data")


@pytest.fixture
def store(settings):
    store = open_store(settings)
    seed(store, settings)
    yield store
    store.close()


@pytest.fixture
def app(settings, store):
    return create_app(settings, store=store)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def csrf_of(client: TestClient) -> str:
    """The CSRF value a browser would have: the cookie set by any page."""
    if "pb_csrf" not in client.cookies:
        client.get("/signin")
    return client.cookies["pb_csrf"]


def sign_up(client: TestClient, name: str = "ada", password: str = "correct horse") -> None:
    r = client.post(
        "/signup",
        data={"name": name, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "pb_session" in client.cookies


CARD = re.compile(
    r'<article class="card" id="p-([^"]+)">.*?<span class="count">(\d+)</span>', re.DOTALL
)


def cards(html: str) -> list[tuple[str, int]]:
    """(paper id, shown votes) of each card on a page, in page order."""
    return [(pid, int(votes)) for pid, votes in CARD.findall(html)]
