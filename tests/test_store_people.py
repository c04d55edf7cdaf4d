"""The store's people (store/people.py): upvoters and hidden votes, authors by normalized
name, organizations, authorship claims. Runs against both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from paperboy.papers import FeedEntry, Paper
from paperboy.store.people import ClaimRefused, People, normalize_name


@pytest.fixture
def people(store):
    store.upsert(
        [
            Paper(
                id="2608.00001",
                title="A",
                abstract="a",
                authors=["José M. García", "Ada Lovelace"],
                published=date(2026, 8, 1),
                entry=FeedEntry(
                    date(2026, 8, 21),
                    "hf",
                    organization="utokyo",
                    organization_name="The University of Tokyo",
                ),
            ),
            Paper(
                id="2608.00002",
                title="B",
                abstract="b",
                authors=["jose m garcia"],
                published=date(2026, 8, 2),
                entry=FeedEntry(date(2026, 8, 21), "hf"),
            ),
            Paper(id="2608.00003", title="C", abstract="c", authors=["José García-Ruiz"]),
        ]
    )
    return People(store)


def test_names_compare_without_case_accents_or_dots():
    assert normalize_name("José  M. García") == normalize_name("jose m garcia") == "jose m garcia"
    assert normalize_name("García-Ruiz") != normalize_name("García")


def test_an_author_s_papers_by_exact_normalized_name(people):
    assert people.papers_by_author("Jose M Garcia") == ["2608.00002", "2608.00001"]
    assert people.papers_by_author("José García") == []  # not a prefix or substring match
    assert people.papers_by_author("José García-Ruiz") == ["2608.00003"]
    assert people.author_spellings("jose m. garcia", ["2608.00001", "2608.00002"]) == [
        "José M. García",
        "jose m garcia",
    ]


def test_an_organization_s_papers_by_handle_or_full_name(people):
    assert people.papers_of_org("utokyo") == ("The University of Tokyo", ["2608.00001"])
    assert people.papers_of_org("the university of tokyo")[1] == ["2608.00001"]
    assert people.papers_of_org("nobody") == (None, [])


def test_upvoters_leave_out_those_hiding_their_votes(people, store):
    ada, bob, eve = (store.create_user(n, "h") for n in ("ada", "bob", "eve"))
    for user in (ada, bob, eve):
        store.set_vote(user.id, "2608.00001", True)
    people.set_votes_hidden(bob.id, True)
    assert people.votes_hidden(bob.id) and not people.votes_hidden(ada.id)
    assert people.upvoters("2608.00001") == (["ada", "eve"], 1)
    assert people.upvoters("2608.00001", limit=1) == (["ada"], 2)
    assert people.upvoted(bob.id) == ["2608.00001"]  # still counted and still theirs


def test_claims_wait_for_an_admin(people, store):
    ada, root = store.create_user("ada", "h"), store.create_user("root", "h", is_admin=True)
    with pytest.raises(ClaimRefused, match="not among the authors"):
        people.claim(ada.id, "2608.00001", "Someone Else")
    with pytest.raises(ClaimRefused, match="no paper"):
        people.claim(ada.id, "2699.00001", "Ada Lovelace")
    assert people.claim(ada.id, "2608.00001", "Ada Lovelace")
    assert not people.claim(ada.id, "2608.00001", "Ada Lovelace")  # once
    assert [c.status for c in people.pending_claims()] == ["pending"]
    assert people.confirm(ada.id, "2608.00001", root.id)
    assert [(c.user, c.author_name, c.status) for c in people.claims_by(ada.id)] == [
        ("ada", "Ada Lovelace", "confirmed")
    ]
    assert people.pending_claims() == []
    assert people.withdraw(ada.id, "2608.00001") and people.claims_on("2608.00001") == []
