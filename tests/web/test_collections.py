"""Collections through the pages, the exports, the Atom feed and the API, with privacy: a
private collection is seen by its owner only, by any route. Real SQLite store, real app."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import bibtexparser
import rispy
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of, latex_paper, sign_up

ATOM = "{http://www.w3.org/2005/Atom}"


def make(client, name: str, public: bool = False) -> int:
    data = {"name": name, "csrf_token": csrf_of(client)} | ({"public": "1"} if public else {})
    r = client.post("/collections", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def save(client, cid: int, paper: str, note: str = "") -> None:
    r = client.post(
        f"/collections/{cid}/papers",
        follow_redirects=False,
        data={"paper": paper, "note": note, "csrf_token": csrf_of(client)},
    )
    assert r.status_code == 303, r.text


def token_for(client) -> str:
    r = client.post("/account/tokens", data={"name": "t", "csrf_token": csrf_of(client)})
    return re.search(r'id="new-token">([^<]+)<', r.text).group(1)


def test_crud_through_the_pages(client):
    sign_up(client)
    cid = make(client, "To read")
    save(client, cid, "2507.16784", "the threads idea")
    save(client, cid, "https://arxiv.org/abs/2509.07980v1")
    page = client.get(f"/collections/{cid}").text
    assert "the threads idea" in page and "2 papers" in page
    assert (
        client.post(
            f"/collections/{cid}/papers",
            data={"paper": "2401.99999", "csrf_token": csrf_of(client)},
        ).status_code
        == 404
    )
    assert (
        client.post(f"/collections/{cid}/papers", data={"paper": "2507.16784"}).status_code == 403
    )  # no CSRF token
    client.post(
        f"/collections/{cid}/papers/2509.07980/remove", data={"csrf_token": csrf_of(client)}
    )
    client.post(
        f"/collections/{cid}/edit",
        data={"name": "Read soon", "public": "1", "csrf_token": csrf_of(client)},
    )
    page = client.get("/collections").text
    assert "Read soon" in page and "1 paper · public" in page
    client.post(f"/collections/{cid}/delete", data={"csrf_token": csrf_of(client)})
    assert client.get(f"/collections/{cid}").status_code == 404


def test_private_collections_are_hidden_everywhere(app, client):
    sign_up(client)
    private, public = make(client, "secret"), make(client, "shared", public=True)
    for cid in (private, public):
        save(client, cid, "2507.16784", "my note")
    token = token_for(client)
    with TestClient(app) as stranger:
        for cid, seen in ((private, 404), (public, 200)):
            for path in (
                f"/collections/{cid}",
                f"/collections/{cid}.bib",
                f"/collections/{cid}.ris",
                f"/feeds/collections/{cid}.atom",
                f"/api/collections/{cid}",
            ):
                assert stranger.get(path).status_code == seen, path
        sign_up(stranger, "bob")
        assert stranger.get(f"/collections/{private}").status_code == 404
        assert (
            stranger.post(
                f"/collections/{public}/papers",
                data={"paper": "2509.07980", "csrf_token": csrf_of(stranger)},
            ).status_code
            == 403
        )
        assert (
            stranger.delete(
                f"/api/collections/{public}", headers={"x-csrf-token": csrf_of(stranger)}
            ).status_code
            == 404
        )
        assert stranger.get("/api/collections").json() == []
    # The owner sees the private one by page and API, never by feed (readers have no cookies).
    assert client.get(f"/collections/{private}").status_code == 200
    assert client.get(f"/feeds/collections/{private}.atom").status_code == 404
    mine = client.get("/api/collections", headers={"authorization": f"Bearer {token}"}).json()
    assert {c["name"] for c in mine} == {"secret", "shared"}


def test_the_api_reads_and_edits_with_a_token(app, client):
    sign_up(client)
    bearer = {"authorization": f"Bearer {token_for(client)}"}
    with TestClient(app) as api:  # no cookies at all: the token alone
        r = api.post("/api/collections", json={"name": "Agents", "public": False}, headers=bearer)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert (
            api.post("/api/collections", json={"name": "Agents"}, headers=bearer).status_code == 409
        )
        assert api.put(
            f"/api/collections/{cid}/papers/2507.16784", json={"note": "n1"}, headers=bearer
        ).json() == {"collection": cid, "id": "2507.16784", "note": "n1"}
        got = api.get(f"/api/collections/{cid}", headers=bearer).json()
        assert [(p["paper"]["id"], p["note"]) for p in got["papers"]] == [("2507.16784", "n1")]
        assert (
            api.patch(f"/api/collections/{cid}", json={"public": True}, headers=bearer).json()[
                "public"
            ]
            is True
        )
        assert api.get(f"/api/collections/{cid}").status_code == 200  # public now
        assert (
            api.delete(f"/api/collections/{cid}/papers/2507.16784", headers=bearer).status_code
            == 200
        )
        assert api.post("/api/collections", json={"name": "x"}).status_code == 401
        assert api.delete(f"/api/collections/{cid}", headers=bearer).status_code == 200
        assert api.get(f"/api/collections/{cid}", headers=bearer).status_code == 404


def test_exports_read_back_with_real_parsers(client, store):
    store.upsert([latex_paper(date(2026, 8, 21))])
    sign_up(client)
    cid = make(client, "Export me", public=True)
    save(client, cid, "2507.16784", "a note {with braces}")
    save(client, cid, "2608.99990")  # the LaTeX-titled fixture paper: \textbf, $O(n)$
    save(client, cid, "2509.07980")
    bib = client.get(f"/collections/{cid}.bib")
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    parsed = bibtexparser.parse_string(bib.text)
    assert not parsed.failed_blocks
    by_id = {e.fields_dict["eprint"].value: e for e in parsed.entries}
    assert set(by_id) == {"2507.16784", "2608.99990", "2509.07980"}
    assert len({e.key for e in parsed.entries}) == 3
    assert by_id["2507.16784"].fields_dict["note"].value == "a note {with braces}"
    assert by_id["2507.16784"].fields_dict["title"].value == store.get("2507.16784").title
    ris = rispy.loads(client.get(f"/collections/{cid}.ris").text)
    assert {r["doi"] for r in ris} == {f"10.48550/arXiv.{i}" for i in by_id}
    assert all(r["authors"] and r["title"] for r in ris)
    feed = ET.fromstring(client.get(f"/feeds/collections/{cid}.atom").content)
    assert len(feed.findall(f"{ATOM}entry")) == 3
    assert "Export me" in feed.find(f"{ATOM}title").text


def test_a_paper_is_saved_from_its_page_into_a_chosen_collection(app, client):
    sign_up(client)
    first, second = make(client, "To read"), make(client, "Reading group")
    page = client.get("/papers/2507.16784").text
    assert 'action="/collections/save"' in page and "Reading group" in page
    r = client.post(
        "/collections/save",
        follow_redirects=False,
        data={
            "collection": str(second),
            "paper": "2507.16784",
            "note": "for Friday",
            "next": "/papers/2507.16784",
            "csrf_token": csrf_of(client),
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/papers/2507.16784"
    assert "for Friday" in client.get(f"/collections/{second}").text
    assert "2507.16784" not in client.get(f"/collections/{first}").text
    assert "Saved in" in client.get("/papers/2507.16784").text
    with TestClient(app) as stranger:  # nobody else saves into it, nor sees the form
        assert 'action="/collections/save"' not in stranger.get("/papers/2507.16784").text
        sign_up(stranger, "mallory")
        r = stranger.post(
            "/collections/save",
            data={
                "collection": str(second),
                "paper": "2509.07980",
                "csrf_token": csrf_of(stranger),
            },
        )
        assert r.status_code == 404  # a private collection of someone else: as if absent


def test_caps_and_the_save_rate_answer_with_why_by_page_and_api(settings, store):
    """collections_per_user, collection_papers (400) and collection_saves_per_minute (429
    with Retry-After), each saying why, on the form pages and the API alike."""
    from dataclasses import replace

    from paperboy.web.app import create_app

    tight = replace(
        settings, collections_per_user=2, collection_papers=2, collection_saves_per_minute=4
    )
    with TestClient(create_app(tight, store=store)) as client:
        sign_up(client)
        token = {"Authorization": f"Bearer {token_for(client)}"}
        first = make(client, "one")
        second = client.post("/api/collections", json={"name": "two"}, headers=token)
        assert second.status_code in (200, 201), second.text
        page = client.post("/collections", data={"name": "three", "csrf_token": csrf_of(client)})
        assert page.status_code == 400
        assert "the most allowed here (2)" in page.text and "collections_per_user" in page.text
        api = client.post("/api/collections", json={"name": "three"}, headers=token)
        assert api.status_code == 400 and "you have 2 collections" in api.json()["error"]
        names = [c["name"] for c in client.get("/api/collections", headers=token).json()]
        assert sorted(names) == ["one", "two"]  # nothing made by the refused ones

        save(client, first, "2507.16784")  # save 1
        ok = client.put(f"/api/collections/{first}/papers/2509.07980", headers=token)  # save 2
        assert ok.status_code == 200, ok.text
        full = client.post(  # save 3: a third paper
            f"/collections/{first}/papers",
            data={"paper": "2507.16632", "csrf_token": csrf_of(client)},
        )
        assert full.status_code == 400
        assert "holds 2 papers, the most allowed here (2)" in full.text
        assert "collection_papers" in full.text
        again = client.put(f"/api/collections/{first}/papers/2507.16632", headers=token)  # 4
        assert again.status_code == 400 and "holds 2 papers" in again.json()["error"]
        fast = client.put(  # save 5 in the minute: over the rate, whatever the paper
            f"/api/collections/{first}/papers/2507.16784", json={"note": "n"}, headers=token
        )
        assert fast.status_code == 429 and int(fast.headers["retry-after"]) > 0
        assert "at most 4 every minute" in fast.json()["error"]
        form = client.post(
            f"/collections/{first}/papers",
            data={"paper": "2507.16784", "csrf_token": csrf_of(client)},
        )
        assert form.status_code == 429 and "collection save" in form.text
        kept = client.get(f"/api/collections/{first}", headers=token).json()
        assert sorted(p["paper"]["id"] for p in kept["papers"]) == ["2507.16784", "2509.07980"]
