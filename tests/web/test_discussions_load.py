"""Many users commenting at once on one paper, through the production server (`paperboy serve`,
two worker processes, loopback): every comment and reply is stored exactly once, and the
counts on the page, the card, the Atom feed and the API agree exactly.
Timing figures belong in bench/, not here; this test checks counts only.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from paperboy.config import Settings
from paperboy.store import open_store
from paperboy.store.discussions import Discussions
from paperboy.web import auth

from .conftest import seed
from .serving import free_port, start_serve, stop, wait_until_up

pytestmark = pytest.mark.slow

PAPER = "2503.11945"
USERS = 24
EACH = 4  # comments per user, then one reply from each user to someone else's comment


def test_many_users_commenting_at_once_are_counted_exactly(tmp_path, clean_env):
    data = tmp_path / "data"
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    hashed = auth.hash_password("not used here")  # one argon2 hash: the users sign in by token
    tokens = []
    for n in range(USERS):
        user = store.create_user(f"user{n:02d}", hashed)
        token = auth.new_token()
        store.create_api_token(user.id, "load", auth.token_hash(token))
        tokens.append(token)
    store.close()

    port = free_port()
    proc = start_serve(data, port, tmp_path / "serve.log", workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc, tmp_path / "serve.log", timeout=120)
        with httpx.Client(base_url=base, timeout=60) as client:

            def post(token: str, body: str, parent: int | None = None) -> dict:
                payload = {"body": body} | ({"parentId": parent} if parent else {})
                r = client.post(
                    f"/api/papers/{PAPER}/comments",
                    json=payload,
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert r.status_code == 201, r.text
                return r.json()

            jobs = [(n, k) for k in range(EACH) for n in range(USERS)]
            with ThreadPoolExecutor(max_workers=16) as pool:
                made = list(
                    pool.map(
                        lambda job: post(tokens[job[0]], f"user{job[0]:02d} comment {job[1]}"), jobs
                    )
                )
                # Each user replies to the next user's first comment, all at once too.
                firsts = {c["body"]: c["id"] for c in made if c["body"].endswith(" 0")}
                replies = list(
                    pool.map(
                        lambda n: post(
                            tokens[n],
                            f"user{n:02d} replies",
                            firsts[f"user{(n + 1) % USERS:02d} comment 0"],
                        ),
                        range(USERS),
                    )
                )

            listed = client.get(f"/api/papers/{PAPER}/comments").json()
            page = client.get(f"/papers/{PAPER}").text
            atom = client.get(f"/feeds/discussion/{PAPER}.atom").text
            day = re.search(r'href="/papers/date/(\d{4}-\d{2}-\d{2})"', page)[1]
            feed = client.get(f"/papers/date/{day}").text
    finally:
        stop(proc)

    total = USERS * EACH + USERS
    ids = [c["id"] for c in made + replies]
    assert len(set(ids)) == total  # no id handed out twice
    bodies = [c["body"] for c in listed] + [r["body"] for c in listed for r in c["replies"]]
    assert sorted(bodies) == sorted(c["body"] for c in made + replies)  # each exactly once
    assert all(len(c["replies"]) == (1 if c["body"].endswith(" 0") else 0) for c in listed)
    assert len(re.findall(r'<article class="comment', page)) == total
    assert f"({total} comments)" in page
    assert atom.count("<entry>") == total
    assert f'#discussion">{total} comments here</a>' in feed

    store = open_store(settings)  # and what the store holds, read back directly
    try:
        assert Discussions(store).counts([PAPER]) == {PAPER: total}
        assert len(Discussions(store).thread(PAPER)) == total
    finally:
        store.close()
