"""Author, organization and user pages, claims and upvoters through the real app
(web/people.py), on a real SQLite store seeded from tests/fixtures."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from paperboy.ingest import import_file
from paperboy.papers import FeedEntry, Paper
from paperboy.store import open_store
from tests.environment import subprocess_env

from .conftest import csrf_of, sign_up
from .serving import free_port, start_serve, stop, wait_until_up

PAPER = "2503.11945"


@pytest.fixture
def paper(store):
    return store.get(PAPER)


@pytest.fixture
def admin(app, store):
    with TestClient(app) as c:
        sign_up(c, "root")
        store.set_admin("root", True)
        yield c


def test_authors_and_organizations_link_to_their_pages(client, paper, store):
    name = paper.authors[0]
    page = client.get(f"/papers/{PAPER}").text
    assert f'href="/authors/{quote(name)}"' in page
    listed = client.get(f"/authors/{quote(name)}")
    assert listed.status_code == 200 and f'id="p-{PAPER}"' in listed.text
    assert "Different people can share a name" in listed.text
    assert client.get(f"/authors/{quote(name.upper())}").text.count(f'id="p-{PAPER}"') == 1
    assert client.get("/authors/Nobody%20At%20All").status_code == 404
    org = next(p for p in store.iter_papers() if p.entry and p.entry.organization)
    feed = client.get(f"/papers/date/{org.entry.day.isoformat()}").text
    assert f'href="/orgs/{quote(org.entry.organization)}"' in feed
    org_page = client.get(f"/orgs/{quote(org.entry.organization)}").text
    assert f'id="p-{org.id}"' in org_page
    assert client.get("/orgs/no-such-org").status_code == 404


def test_a_claim_waits_for_an_admin_then_shows_on_the_profile(client, admin, paper):
    sign_up(client)
    author = paper.authors[1]
    r = client.post(
        f"/papers/{PAPER}/claim",
        data={"author_name": author, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "waiting for an admin" in client.get(f"/papers/{PAPER}").text
    assert f'id="p-{PAPER}"' not in client.get("/users/ada").text
    bad = client.post(
        f"/papers/{PAPER}/claim", data={"author_name": "Not Listed", "csrf_token": csrf_of(client)}
    )
    assert bad.status_code == 400 and "not among the authors" in bad.text
    ada_id = re.search(r"/claims/(\d+)/", client.get(f"/papers/{PAPER}").text)[1]
    assert (
        client.post(
            f"/claims/{ada_id}/{PAPER}/confirm", data={"csrf_token": csrf_of(client)}
        ).status_code
        == 403
    )
    r = admin.post(
        f"/claims/{ada_id}/{PAPER}/confirm",
        data={"csrf_token": csrf_of(admin)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert f'id="p-{PAPER}"' in client.get("/users/ada").text
    assert '<a class="tag claimed" href="/users/ada"' in client.get(f"/papers/{PAPER}").text
    assert client.get("/users/nobody").status_code == 404


def test_upvoters_are_named_unless_they_hide_their_votes(client, app, paper):
    sign_up(client)
    csrf = csrf_of(client)
    client.post(f"/papers/{PAPER}/upvote", data={"up": "1", "csrf_token": csrf})
    with TestClient(app) as bob:
        sign_up(bob, "bob")
        bob.post(f"/papers/{PAPER}/upvote", data={"up": "1", "csrf_token": csrf_of(bob)})
        upvoters = re.search(
            r'<dd class="upvoters">(.*?)</dd>', client.get(f"/papers/{PAPER}").text, re.DOTALL
        )[1]
        assert ">ada</a>" in upvoters and ">bob</a>" in upvoters
        # Hugging Face's votes are counted, not named
        assert (f"+{paper.upvotes} more" in upvoters) == (paper.upvotes > 0)
        r = bob.post(
            "/account/votes",
            data={"hidden": "1", "csrf_token": csrf_of(bob)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "Show my upvotes" in bob.get("/account").text
        page = client.get(f"/papers/{PAPER}").text
        assert ">bob</a>" not in page and f"+{paper.upvotes + 1} more" in page
        assert "keeps their upvotes private" in client.get("/users/bob").text
        assert f'id="p-{PAPER}"' in bob.get("/users/bob").text  # they still see their own
        assert f'id="p-{PAPER}"' in client.get("/users/ada").text


ODD_AUTHORS = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv_listings_odd_authors.jsonl"


@pytest.mark.slow
def test_author_names_with_slashes_link_to_their_pages_on_the_real_server(
    backend_settings, tmp_path
):
    """Real arXiv names holding "/" and "\\" (tests/fixtures/arxiv_listings_odd_authors.jsonl):
    the paper page's link, followed on `paperboy serve` (uvicorn decodes %2F before routing),
    lists the paper; on each backend."""
    store = open_store(backend_settings)
    try:
        import_file(store, ODD_AUTHORS, backend_settings, show_progress=False)
        papers = {p.id: p for p in store.iter_papers()}
    finally:
        store.close()
    odd = {
        "2508.07592": "/Shubham Kumar Nigam",
        "2506.05195": "\\\\Ajinkya Umesh Mulik",
        "2512.04219": "Sathyanarayanan N. Aakur\\\\",
    }
    assert all(name in papers[pid].authors for pid, name in odd.items())
    port = free_port()
    env = subprocess_env() | {"PAPERBOY_DATABASE_URL": backend_settings.database_url}
    proc = start_serve(backend_settings.data_dir, port, tmp_path / "serve.log", env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc, tmp_path / "serve.log", timeout=60)
        with httpx.Client(base_url=base, timeout=30) as client:
            for pid, name in odd.items():
                page = client.get(f"/papers/{pid}")
                assert page.status_code == 200
                href = re.search(rf'<a href="(/authors/[^"]*)">{re.escape(name)}</a>', page.text)[1]
                assert href == "/authors/" + quote(name, safe="")  # "/" as %2F, "\" as %5C
                listed = client.get(href)
                assert listed.status_code == 200, (name, listed.text[:300])
                assert re.findall(r'<article class="card" id="p-([^"]+)"', listed.text) == [pid]
                assert f"exactly “{html.escape(name)}”" in listed.text
            assert client.get("/authors/" + quote("/Shubham Kumar", safe="")).status_code == 404
    finally:
        stop(proc)


def test_author_and_organization_pages_come_a_page_at_a_time(client, store):
    store.upsert(
        [
            Paper(
                id=f"2607.{n:05d}",
                title=f"Paper {n}",
                abstract="p",
                authors=["Prolific Person/Lab"],
                published=date(2026, 7, 1 + n % 28),
                entry=FeedEntry(date(2026, 7, 1 + n % 28), "hf", organization="bigorg"),
            )
            for n in range(35)
        ]
    )
    seen = []
    for kind, name in (("authors", "Prolific Person/Lab"), ("orgs", "bigorg")):
        first = client.get(f"/{kind}/{quote(name, safe='')}")
        assert first.status_code == 200 and "35 papers, newest first; page 1 of 2" in first.text
        ids = re.findall(r'<article class="card" id="p-([^"]+)"', first.text)
        more = re.search(r'<a rel="next" href="([^"]+)"', first.text)[1]
        assert more == f"/{kind}/{quote(name, safe='')}?page=2"
        second = client.get(more)
        ids += re.findall(r'<article class="card" id="p-([^"]+)"', second.text)
        assert len(ids) == len(set(ids)) == 35
        assert client.get(f"/{kind}/{quote(name, safe='')}?page=3").status_code == 404
        seen.append(sorted(ids))
    assert seen[0] == seen[1]
