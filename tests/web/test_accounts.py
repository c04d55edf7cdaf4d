"""Accounts end to end: sign-up/in/out, cookies, CSRF, rate limits, API tokens."""

from __future__ import annotations

import hashlib
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from paperboy.web import limits

from .conftest import csrf_of, sign_up


def set_cookie_headers(response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_sign_up_signs_in_with_a_hardened_cookie(client, store):
    token = csrf_of(client)
    r = client.post(
        "/signup",
        data={"name": "ada", "password": "correct horse", "csrf_token": token},
        follow_redirects=False,
    )
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
        r = client.post(
            "/signup",
            data={
                "name": "bob",
                "password": "long enough",
                "csrf_token": client.cookies["pb_csrf"],
            },
            follow_redirects=False,
        )
        assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


def test_bad_sign_ups_explain_themselves(client):
    sign_up(client, "ada")
    other = TestClient(client.app)
    for data, words in [
        ({"name": "ADA", "password": "another one"}, "taken"),
        ({"name": "x", "password": "long enough"}, "2 to 32"),
        ({"name": "bob", "password": "short"}, "at least 8"),
        ({"name": "bob", "password": "long enough", "email": "nope"}, "email"),
    ]:
        r = other.post("/signup", data=data | {"csrf_token": csrf_of(other)})
        assert r.status_code == 400 and words in r.text, data


def test_sign_in_and_out(client, app):
    sign_up(client, "ada", "correct horse")
    client.post("/signout", data={"csrf_token": client.cookies["pb_csrf"]})
    assert "pb_session" not in client.cookies
    assert client.get("/account", follow_redirects=False).status_code == 303
    wrong = client.post(
        "/signin", data={"name": "ada", "password": "wrong horse", "csrf_token": csrf_of(client)}
    )
    assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    nobody = client.post(
        "/signin", data={"name": "nobody", "password": "whatever1", "csrf_token": csrf_of(client)}
    )
    assert nobody.status_code == 401 and "wrong name or password" in nobody.text
    right = client.post(
        "/signin",
        data={
            "name": "ada",
            "password": "correct horse",
            "csrf_token": csrf_of(client),
            "next": "/account",
        },
        follow_redirects=False,
    )
    assert right.status_code == 303 and right.headers["location"] == "/account"


def test_a_signed_out_session_cookie_is_dead(client, store):
    sign_up(client)
    stolen = client.cookies["pb_session"]
    client.post("/signout", data={"csrf_token": client.cookies["pb_csrf"]})
    assert store.session_user(hashlib.sha256(stolen.encode()).hexdigest()) is None


def test_state_changing_forms_need_the_csrf_token(client):
    csrf_of(client)
    for url, data in [
        ("/signup", {"name": "eve", "password": "long enough"}),
        ("/signin", {"name": "eve", "password": "long enough"}),
        ("/signout", {}),
        ("/papers/2608.19880/upvote", {}),
        ("/submit", {"id": "2608.19880"}),
    ]:
        assert client.post(url, data=data).status_code == 403, url
        assert client.post(url, data=data | {"csrf_token": "forged"}).status_code == 403, url


def test_a_non_ascii_csrf_token_is_refused_not_a_crash(client):
    csrf_of(client)
    assert (
        client.post(
            "/signin", data={"name": "eve", "password": "long enough", "csrf_token": "forgé"}
        ).status_code
        == 403
    )
    sign_up(client)
    assert (
        client.post(
            "/api/papers/2608.19880/upvote", headers={"X-CSRF-Token": "forgé".encode()}
        ).status_code
        == 403
    )


def test_a_foreign_origin_is_refused_even_with_the_token(client):
    r = client.post(
        "/signin",
        data={"name": "ada", "password": "x" * 8, "csrf_token": csrf_of(client)},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403 and "cross-site" in r.text


# -- guessing: limits per address and per name from an address, a backoff per name ---------
class Clock:
    """limits.time, held still unless a test moves it: fixed windows must not roll over
    between two attempts of a test (that would start a count again and make it flaky)."""

    def __init__(self):
        self.now = 999_999_901.0  # one second into a 300 s and a 900 s window

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(limits, "time", clock)
    return clock


@pytest.fixture
def from_address(app):
    """Factory: a test client whose requests come from the given client address."""
    with ExitStack() as stack:
        made: dict[str, TestClient] = {}

        def client_at(address: str) -> TestClient:
            if address not in made:
                made[address] = stack.enter_context(TestClient(app, client=(address, 40000)))
            return made[address]

        yield client_at


def sign_in(client: TestClient, name: str, password: str):
    return client.post(
        "/signin",
        data={"name": name, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )


def guess_wrong(guessers: list[TestClient], clock: Clock, name: str, times: int) -> list[int]:
    """`times` wrong passwords that are really checked, from the guessers in turn (a spread
    attack), waiting out each 429 on the way; the Retry-After of each 429 met."""
    waits, checked, turn = [], 0, 0
    while checked < times:
        r = sign_in(guessers[turn % len(guessers)], name, f"guess-{checked}")
        turn += 1
        if r.status_code == 429:
            assert "wrong passwords for this name" in r.text
            waits.append(int(r.headers["retry-after"]))
            clock.now += waits[-1]
        else:
            assert r.status_code == 401, r.text
            checked += 1
    return waits


def test_wrong_passwords_from_one_address_never_refuse_the_right_one_from_another(
    client, from_address, clock
):
    sign_up(client, "ada", "correct horse")
    attacker, owner = from_address("203.0.113.7"), from_address("198.51.100.2")
    codes = [sign_in(attacker, "ada", f"guess-{i}").status_code for i in range(12)]
    assert codes[: limits.BACKOFF_FREE] == [401] * limits.BACKOFF_FREE
    assert set(codes[limits.BACKOFF_FREE :]) == {429}  # slowed down at once
    # Before the fix this was 429 for up to 5 minutes: the name itself was locked.
    r = sign_in(owner, "ada", "correct horse")
    assert r.status_code == 303 and "pb_session" in owner.cookies
    # The guesser is still held back, even with the right password (12 tries: its budget
    # for the name is spent too).
    r = sign_in(attacker, "ada", "correct horse")
    assert r.status_code == 429 and "too many signin-name attempts" in r.text


def test_a_spread_attack_slows_every_guesser_and_never_the_owner(client, from_address, clock):
    sign_up(client, "ada", "correct horse")
    botnet = [from_address(f"203.0.113.{i}") for i in range(1, 6)]
    guess_wrong(botnet, clock, "ada", 15)
    assert sign_in(botnet[0], "ada", "correct horse").status_code == 429
    assert sign_in(from_address("198.51.100.2"), "ada", "correct horse").status_code == 303


def test_guessers_wait_longer_and_longer_up_to_a_bound(from_address, clock):
    botnet = [from_address(f"203.0.113.{i}") for i in range(1, 1 + limits.BACKOFF_FREE)]
    waits = guess_wrong(botnet, clock, "ada", limits.BACKOFF_FREE + 8)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert [limits.backoff_seconds(n) for n in (0, 2, 3, 4, 9, 50)] == [0, 0, 1, 2, 60, 60]
    # The wait runs from the name's latest wrong password, whoever sent it: a fresh address
    # is checked at once, and its failure restarts everyone's wait.
    clock.now += 59
    assert sign_in(from_address("198.51.100.9"), "ada", "another guess").status_code == 401
    clock.now += 59
    assert sign_in(botnet[0], "ada", "g").status_code == 429
    clock.now += 1
    assert sign_in(botnet[0], "ada", "g").status_code == 401


def test_an_owner_who_mistypes_during_an_attack_waits_like_a_guesser(client, from_address, clock):
    sign_up(client, "ada", "correct horse")
    guess_wrong([from_address(f"203.0.113.{i}") for i in range(1, 4)], clock, "ada", 6)
    owner = from_address("198.51.100.2")
    assert sign_in(owner, "ada", "correct hors").status_code == 401  # checked at once
    r = sign_in(owner, "ada", "correct horse")
    assert r.status_code == 429
    clock.now += int(r.headers["retry-after"])
    assert sign_in(owner, "ada", "correct horse").status_code == 303
    # Signing in forgets this address's own mistakes (not the guessers').
    client.post("/signout", data={"csrf_token": owner.cookies["pb_csrf"]})
    assert sign_in(owner, "ada", "correct horse").status_code == 303


def test_an_address_has_a_budget_for_each_name(from_address, clock):
    attacker = from_address("203.0.113.7")
    for i in range(limits.SIGN_IN_NAME.hits):
        assert sign_in(attacker, "ada", f"guess-{i}").status_code == 401
        clock.now += limits.BACKOFF_MAX  # past any backoff: only the budget can refuse
    r = sign_in(attacker, "ada", "one more")
    assert r.status_code == 429 and "too many signin-name attempts" in r.text
    assert 0 < int(r.headers["retry-after"]) <= limits.SIGN_IN_NAME.seconds
    # Other names are still open to this address, and this name to other addresses.
    assert sign_in(attacker, "bob", "a guess").status_code == 401
    assert sign_in(from_address("198.51.100.2"), "ada", "a guess").status_code == 401


def test_an_address_has_a_budget_for_all_names(from_address, clock):
    attacker = from_address("203.0.113.7")
    codes = [
        sign_in(attacker, f"user{i}", "a guess").status_code for i in range(limits.SIGN_IN.hits + 1)
    ]
    assert codes == [401] * limits.SIGN_IN.hits + [429]
    r = sign_in(attacker, "someone-else", "a guess")
    assert r.status_code == 429 and "too many signin attempts" in r.text
    assert sign_in(from_address("198.51.100.2"), "user0", "a guess").status_code == 401
    clock.now += limits.SIGN_IN.seconds  # the next window
    assert sign_in(attacker, "someone-else", "a guess").status_code == 401


def test_api_tokens_from_the_account_page(client, store):
    sign_up(client)
    r = client.post(
        "/account/tokens", data={"name": "my script", "csrf_token": client.cookies["pb_csrf"]}
    )
    assert r.status_code == 201
    token = r.text.split('<code class="token" id="new-token">')[1].split("<")[0]
    api = TestClient(client.app)
    auth = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/papers/2608.19880/upvote", headers=auth).json()["upvoted"] is True
    token_id = store.api_tokens(store.user_by_name("ada").id)[0].id
    client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": client.cookies["pb_csrf"]}
    )
    revoked = api.post("/api/papers/2608.19880/upvote", headers=auth)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]
