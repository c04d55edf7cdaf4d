"""The store's accounts section: users, sessions, tokens, votes, rate-limit windows.

Runs against both backends (a real SQLite file and a real PostgreSQL database).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from paperboy.papers import FeedEntry, Paper
from paperboy.store.accounts import NameTaken


@pytest.fixture
def store(store):
    store.upsert(
        [
            Paper(
                id=f"2608.0000{i}",
                title=f"Paper {i}",
                abstract="a",
                upvotes=i * 10,
                entry=FeedEntry(date(2026, 8, 21), "hf"),
            )
            for i in range(1, 4)
        ]
    )
    return store


def test_names_are_unique_ignoring_case(store):
    ada = store.create_user("Ada", "hash")
    with pytest.raises(NameTaken):
        store.create_user("ada", "hash")
    assert store.user_by_name("ADA") == ada
    assert store.credentials("ada") == (ada, "hash")
    assert store.set_admin("ada", True).is_admin
    assert store.set_admin("nobody", True) is None


def test_expired_sessions_sign_nobody_in(store):
    ada = store.create_user("ada", "hash")
    now = datetime.now(UTC)
    store.create_session(ada.id, "live", now + timedelta(days=1))
    store.create_session(ada.id, "dead", now - timedelta(seconds=1))
    assert store.session_user("live") == ada
    assert store.session_user("dead") is None
    store.delete_session("live")
    assert store.session_user("live") is None


def test_votes_are_one_per_user_and_change_the_ranking(store):
    users = [store.create_user(f"u{i}", "h") for i in range(25)]
    day = date(2026, 8, 21)
    assert [p.id for p, _ in store.ranked_between(day, day)][0] == "2608.00003"
    for u in users:
        assert store.set_vote(u.id, "2608.00001", True) <= 10 + 25
    assert store.set_vote(users[0].id, "2608.00001", True) == 35  # again: no change
    ranked = store.ranked_between(day, day)
    assert [(p.id, local) for p, local in ranked][0] == ("2608.00001", 25)
    assert store.get("2608.00001").upvotes == 10  # upstream count untouched
    assert store.set_vote(users[0].id, "2608.00001", False) == 34
    assert store.voted_by(users[1].id, ["2608.00001", "2608.00002"]) == {"2608.00001"}
    assert store.local_votes(["2608.00001", "2608.00002"]) == {"2608.00001": 24}


def test_rate_limit_windows_count_and_reset(store):
    assert [store.hit_rate_limit("k", 60, 120.0 + i) for i in range(3)] == [1, 2, 3]
    assert store.hit_rate_limit("k", 60, 180.0) == 1  # the next window starts afresh
    assert store.hit_rate_limit("other", 60, 180.0) == 1


def test_rate_limit_counts_are_exact_under_concurrent_hits(store):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = sorted(pool.map(lambda _: store.hit_rate_limit("k", 60, 130.0), range(24)))
    assert counts == list(range(1, 25))


def test_signin_failures_count_per_name_and_per_address_and_are_forgotten(store):
    for address, at in [("a", 100.0), ("a", 110.0), ("b", 120.0)]:
        store.add_signin_failure("ada", address, at, forget_before=0.0)
    store.add_signin_failure("bob", "a", 125.0, forget_before=0.0)
    assert store.signin_failures("ada", "a", since=0.0) == (3, 120.0, 2)
    assert store.signin_failures("ada", "c", since=0.0) == (3, 120.0, 0)
    assert store.signin_failures("ada", "a", since=105.0) == (2, 120.0, 1)
    assert store.signin_failures("nobody", "a", since=0.0) == (0, None, 0)
    store.forget_signin_failures("ada", "a")  # a right password from a: b's still count
    assert store.signin_failures("ada", "a", since=0.0) == (1, 120.0, 0)
    # Old failures are deleted as new ones come, whatever their name.
    store.add_signin_failure("carol", "c", 2000.0, forget_before=1000.0)
    assert store.signin_failures("ada", "b", since=0.0) == (0, None, 0)
    assert store.signin_failures("carol", "c", since=0.0) == (1, 2000.0, 1)


def test_api_tokens_belong_to_their_user(store):
    ada, bob = store.create_user("ada", "h"), store.create_user("bob", "h")
    token = store.create_api_token(ada.id, "ci", "digest")
    assert store.api_token_user("digest") == ada
    assert store.revoke_api_token(bob.id, token.id) is False
    assert store.revoke_api_token(ada.id, token.id) is True
    assert store.api_token_user("digest") is None
