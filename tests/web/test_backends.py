"""The web service on both store backends: a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paperboy.store import open_store
from paperboy.web.app import create_app

from .conftest import cards, seed, sign_up


def test_feed_accounts_votes_and_api_on_each_backend(backend_settings):
    store = open_store(backend_settings)
    try:
        seed(store, backend_settings)
        with TestClient(create_app(backend_settings, store=store)) as client:
            top_id, top_votes = cards(client.get("/").text)[0]
            sign_up(client, "Ada")
            headers = {"X-CSRF-Token": client.cookies["pb_csrf"]}
            voted = client.post(f"/api/papers/{top_id}/upvote", headers=headers).json()
            assert voted["upvotes"] == top_votes + 1
            assert dict(cards(client.get("/").text))[top_id] == top_votes + 1
            assert client.get("/feeds/daily.atom").status_code == 200
            title = store.get(top_id).title  # search: index files, or tables in PostgreSQL
            found = client.get("/api/papers/search", params={"q": title}).json()
            assert found[0]["paper"]["id"] == top_id
            again = TestClient(client.app)
            taken = again.post(
                "/signup",
                data={
                    "name": "ada",
                    "password": "long enough",
                    "csrf_token": again.get("/signin").cookies["pb_csrf"],
                },
            )
            assert taken.status_code == 400 and "taken" in taken.text
    finally:
        store.close()
