"""The "For you" pages over the real app and store: importing a library (real-shaped exports,
broken ones too), the ranking with its reasons, the trending fallback, "not interested", and
the private feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from tests.conftest import FIXTURES
from tests.web.conftest import cards, csrf_of, sign_up

LIB = FIXTURES / "library"
ATOM = "{http://www.w3.org/2005/Atom}"


def upload(client, name: str):
    return client.post(
        "/for-you/library",
        data={"csrf_token": csrf_of(client)},
        files={"file": (name, (LIB / name).read_bytes(), "text/plain")},
    )


def test_import_shows_what_matched_and_what_did_not(client):
    sign_up(client)
    r = upload(client, "zotero.bib")
    assert r.status_code == 200, r.text
    assert "Matched 2 of 3 entries" in r.text
    assert 'href="/papers/2507.16784"' in r.text and "by arXiv id" in r.text
    assert 'href="/papers/2507.16632"' in r.text and "by title" in r.text
    assert "Attention Is All You Need" in r.text and "not stored here" in r.text


def test_a_broken_file_names_the_entry_and_changes_nothing(client):
    sign_up(client)
    upload(client, "scholar.bib")
    r = upload(client, "broken.bib")
    assert r.status_code == 400
    assert "line 6 (@article{broken_one,)" in r.text and "nothing was changed" in r.text
    assert "Imported (1)" in r.text  # the earlier import is still there, whole
    assert upload(client, "broken.ris").status_code == 400
    pasted = client.post(
        "/for-you/library", data={"csrf_token": csrf_of(client), "ids": "2509.07969\nnot-an-id\n"}
    )
    assert pasted.status_code == 400 and "line 2" in pasted.text
    assert "Imported (1)" in client.get("/for-you/library").text


def test_no_history_falls_back_to_trending_and_says_so(client):
    sign_up(client)
    page = client.get("/for-you").text
    assert 'id="fallback"' in page and "trending" in page
    assert cards(page)  # the trending papers themselves


def test_ranked_with_reasons_and_dismissals_are_learned(client):
    sign_up(client)
    upload(client, "zotero.bib")
    page = client.get("/for-you").text
    assert 'id="fallback"' not in page
    ranked = [pid for pid, _ in cards(page)]
    assert ranked and not {"2507.16784", "2507.16632"} & set(ranked)  # seeds are not shown
    assert re.search(r"Why: close to “[^”]+”(?: and “[^”]+”)? in your library", page)
    first = ranked[0]
    r = client.post(
        "/for-you/dismiss",
        data={"paper": first, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert first not in [pid for pid, _ in cards(client.get("/for-you").text)]
    client.post(
        "/for-you/dismiss", data={"paper": first, "undo": "1", "csrf_token": csrf_of(client)}
    )
    assert first in [pid for pid, _ in cards(client.get("/for-you").text)]


def test_the_private_feed_needs_its_token(app, client):
    sign_up(client)
    upload(client, "zotero.bib")
    r = client.post("/for-you/feed", data={"csrf_token": csrf_of(client)})
    url = re.search(r'id="feed-url">([^<]+)<', r.text).group(1)
    path = url.removeprefix("http://testserver")
    with TestClient(app) as reader:  # no cookies
        feed = ET.fromstring(reader.get(path).content)
        assert feed.findall(f"{ATOM}entry")
        assert reader.get("/feeds/for-you/not-the-token.atom").status_code == 404
        client.post("/for-you/feed", data={"csrf_token": csrf_of(client)})
        assert reader.get(path).status_code == 404  # replaced by the new link
