"""Accounts end to end: sign-up/in/out, cookies, CSRF, rate limits, API tokens."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

from fastapi.testclient import TestClient

from paperboy.web import limits

from .conftest import csrf_of, sign_up


def set_cookie_headers(response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_sign_up_signs_in_with_a_hardened_cookie(client, store):
    token = csrf_of(client)
    r = client.post("/signup", data={"name": "ada", "password": "correct horse",
                                     "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    session = next(h for h in set_cookie_headers(r) if h.startswith("pb_session="))
    assert "HttpOnly" in session and "samesite=lax" in session.lower()
    assert "Secure" not in session  # plain http (tests); see the https test below
    value = client.cookies["pb_session"]
    # Only the hash is stored: the raw cookie value is no key to any session.
    assert store.session_user(hashlib.sha256(value.encode()).hexdigest()).name == "ada"
    assert store.session_user(value) is None
    assert ">ada</a>" in client.get("/").text
    assert client.cookies["pb_csrf"] != token  # rotated at sign-in


def test_cookies_are_secure_over_https(app):
    with TestClient(app, base_url="https://testserver") as client:
        r = client.get("/signin")
        assert "Secure" in r.headers["set-cookie"]
        r = client.post("/signup", data={"name": "bob", "password": "long enough",
                                         "csrf_token": client.cookies["pb_csrf"]},
                        follow_redirects=False)
        assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


def test_bad_sign_ups_explain_themselves(client):
    sign_up(client, "ada")
    other = TestClient(client.app)
    for data, words in [({"name": "ADA", "password": "another one"}, "taken"),
                        ({"name": "x", "password": "long enough"}, "2 to 32"),
                        ({"name": "bob", "password": "short"}, "at least 8"),
                        ({"name": "bob", "password": "long enough", "email": "nope"},
                         "email")]:
        r = other.post("/signup", data=data | {"csrf_token": csrf_of(other)})
        assert r.status_code == 400 and words in r.text, data


def test_sign_in_and_out(client, app):
    sign_up(client, "ada", "correct horse")
    client.post("/signout", data={"csrf_token": client.cookies["pb_csrf"]})
    assert "pb_session" not in client.cookies
    assert client.get("/account", follow_redirects=False).status_code == 303
    wrong = client.post("/signin", data={"name": "ada", "password": "wrong horse",
                                         "csrf_token": csrf_of(client)})
    assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    nobody = client.post("/signin", data={"name": "nobody", "password": "whatever1",
                                          "csrf_token": csrf_of(client)})
    assert nobody.status_code == 401 and "wrong name or password" in nobody.text
    right = client.post("/signin", data={"name": "ada", "password": "correct horse",
                                         "csrf_token": csrf_of(client), "next": "/account"},
                        follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/account"


def test_a_signed_out_session_cookie_is_dead(client, store):
    sign_up(client)
    stolen = client.cookies["pb_session"]
    client.post("/signout", data={"csrf_token": client.cookies["pb_csrf"]})
    assert store.session_user(hashlib.sha256(stolen.encode()).hexdigest()) is None


def test_state_changing_forms_need_the_csrf_token(client):
    csrf_of(client)
    for url, data in [("/signup", {"name": "eve", "password": "long enough"}),
                      ("/signin", {"name": "eve", "password": "long enough"}),
                      ("/signout", {}),
                      ("/papers/2608.19880/upvote", {}),
                      ("/submit", {"id": "2608.19880"})]:
        assert client.post(url, data=data).status_code == 403, url
        assert client.post(url, data=data | {"csrf_token": "forged"}).status_code == 403, url


def test_a_non_ascii_csrf_token_is_refused_not_a_crash(client):
    csrf_of(client)
    assert client.post("/signin", data={"name": "eve", "password": "long enough",
                                        "csrf_token": "forgé"}).status_code == 403
    sign_up(client)
    assert client.post("/api/papers/2608.19880/upvote",
                       headers={"X-CSRF-Token": "forgé".encode()}).status_code == 403


def test_a_foreign_origin_is_refused_even_with_the_token(client):
    r = client.post("/signin", data={"name": "ada", "password": "x" * 8,
                                     "csrf_token": csrf_of(client)},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "cross-site" in r.text


def test_sign_in_is_rate_limited(client, monkeypatch):
    # Limits count in fixed windows; hold the clock mid-window so no attempt crosses into the
    # next one (which would start the count again and make this test flaky).
    monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: 1_000_000_100.0))
    token = csrf_of(client)
    codes = [client.post("/signin", data={"name": "ada", "password": f"guess-{i}",
                                          "csrf_token": token}).status_code
             for i in range(limits.SIGN_IN.hits + 1)]
    assert codes[:-1] == [401] * limits.SIGN_IN.hits
    assert codes[-1] == 429
    r = client.post("/signin", data={"name": "ada", "password": "x", "csrf_token": token})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "too many signin attempts" in r.text


def test_api_tokens_from_the_account_page(client, store):
    sign_up(client)
    r = client.post("/account/tokens", data={"name": "my script",
                                              "csrf_token": client.cookies["pb_csrf"]})
    assert r.status_code == 201
    token = r.text.split('<code class="token" id="new-token">')[1].split("<")[0]
    api = TestClient(client.app)
    auth = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/papers/2608.19880/upvote", headers=auth).json()["upvoted"] is True
    token_id = store.api_tokens(store.user_by_name("ada").id)[0].id
    client.post(f"/account/tokens/{token_id}/revoke",
                data={"csrf_token": client.cookies["pb_csrf"]})
    revoked = api.post("/api/papers/2608.19880/upvote", headers=auth)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]
