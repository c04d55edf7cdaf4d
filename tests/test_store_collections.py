"""Collections and the "For you" profile in the store (store/collections.py,
store/library.py), on both backends: a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from datetime import date

import pytest

from paperboy.papers import FeedEntry, Paper
from paperboy.store import StoreError
from paperboy.store.collections import CollectionLimit, CollectionNameTaken, Collections
from paperboy.store.library import Library


@pytest.fixture
def store(store):
    store.upsert(
        [
            Paper(
                id=f"2608.0000{i}",
                title=f"Paper {i}",
                abstract="a",
                doi=f"10.1000/P{i}" if i == 2 else None,
                entry=FeedEntry(date(2026, 8, 21), "hf"),
            )
            for i in range(1, 4)
        ]
    )
    return store


def test_collections_are_their_owners_to_change(store):
    ada, bob = store.create_user("ada", "h"), store.create_user("bob", "h")
    shelf = Collections(store)
    mine = shelf.create(ada.id, "To read")
    with pytest.raises(CollectionNameTaken):
        shelf.create(ada.id, "To read")
    assert shelf.create(bob.id, "To read").owner == "bob"  # names are per user
    assert shelf.add(mine.id, ada.id, "2608.00001", "first")
    assert shelf.add(mine.id, ada.id, "2608.00001", "changed note")  # again: note replaced
    assert not shelf.add(mine.id, ada.id, "2608.99999")  # not stored
    assert not shelf.add(mine.id, bob.id, "2608.00002")  # not bob's
    assert [(e.paper_id, e.note) for e in shelf.entries(mine.id)] == [
        ("2608.00001", "changed note")
    ]
    assert shelf.get(mine.id).size == 1 and not shelf.get(mine.id).is_public
    assert shelf.update(mine.id, bob.id, public=True) is None
    assert shelf.update(mine.id, ada.id, name="Reading", public=True).is_public
    assert [c.name for c in shelf.of_user(ada.id, public_only=True)] == ["Reading"]
    assert not shelf.remove(mine.id, bob.id, "2608.00001")
    assert shelf.remove(mine.id, ada.id, "2608.00001")
    assert not shelf.delete(mine.id, bob.id)
    assert shelf.delete(mine.id, ada.id) and shelf.get(mine.id) is None


def test_the_caps_on_collections_and_their_papers_hold_and_change_nothing(store):
    ada, bob = store.create_user("ada", "h"), store.create_user("bob", "h")
    shelf = Collections(store)
    first, _ = shelf.create(ada.id, "one", most=2), shelf.create(ada.id, "two", most=2)
    with pytest.raises(CollectionLimit, match=r"you have 2 collections, the most allowed here"):
        shelf.create(ada.id, "three", most=2)
    assert [c.name for c in shelf.of_user(ada.id)] == ["two", "one"]  # nothing made
    assert shelf.create(bob.id, "three", most=2).owner == "bob"  # a cap per user
    assert shelf.add(first.id, ada.id, "2608.00001", most=2)
    assert shelf.add(first.id, ada.id, "2608.00002", most=2)
    with pytest.raises(CollectionLimit, match=r"holds 2 papers, the most allowed here \(2\)"):
        shelf.add(first.id, ada.id, "2608.00003", "lost?", most=2)
    assert shelf.add(first.id, ada.id, "2608.00002", "a new note", most=2)  # not a new paper
    assert {e.paper_id: e.note for e in shelf.entries(first.id)} == {
        "2608.00001": "",
        "2608.00002": "a new note",
    }
    assert shelf.get(first.id).size == 2


def test_library_replace_is_all_or_nothing_and_seeds_merge(store):
    ada = store.create_user("ada", "h")
    lib, shelf = Library(store), Collections(store)
    assert lib.replace(ada.id, [("2608.00001", "arXiv id"), ("2608.00002", "DOI")]) == 2
    with pytest.raises(StoreError, match="1 of the library's papers are not stored"):
        lib.replace(ada.id, [("2608.00003", "title"), ("2608.99999", "title")])
    assert lib.papers(ada.id) == [("2608.00001", "arXiv id"), ("2608.00002", "DOI")]
    store.set_vote(ada.id, "2608.00001", True)
    store.set_vote(ada.id, "2608.00003", True)
    c = shelf.create(ada.id, "x")
    shelf.add(c.id, ada.id, "2608.00003")
    assert lib.seeds(ada.id) == {
        "2608.00001": "library",
        "2608.00002": "library",
        "2608.00003": "saved",
    }


def test_lookups_dismissals_and_the_feed_token(store):
    ada = store.create_user("ada", "h")
    lib = Library(store)
    assert lib.lookup_arxiv(["2608.00001", "2608.99999"]) == {"2608.00001"}
    assert lib.lookup_dois(["10.1000/p2", "10.1000/none"]) == {"10.1000/p2": "2608.00002"}
    assert ("2608.00003", "Paper 3") in list(lib.titles())
    assert lib.dismiss(ada.id, "2608.00001") and lib.dismiss(ada.id, "2608.00001")
    assert not lib.dismiss(ada.id, "2608.99999")
    assert lib.dismissed(ada.id) == {"2608.00001"}
    lib.dismiss(ada.id, "2608.00001", dismissed=False)
    assert lib.dismissed(ada.id) == set()
    assert lib.feed_user("h1") is None and not lib.has_feed(ada.id)
    lib.set_feed_token(ada.id, "h1")
    lib.set_feed_token(ada.id, "h2")  # a new link retires the old one
    assert lib.feed_user("h1") is None and lib.feed_user("h2") == ada
