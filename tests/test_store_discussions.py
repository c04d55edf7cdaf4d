"""The store's discussions (store/discussions.py): comments, replies, edits, deletions, hiding,
reports and counts. Runs against both backends (a real SQLite file and a real PostgreSQL).
"""

from __future__ import annotations

from datetime import date

import pytest

from paperboy.papers import FeedEntry, Paper
from paperboy.store.discussions import MAX_BODY_CHARS, CommentRefused, Discussions

PAPER, OTHER = "2608.00001", "2608.00002"


@pytest.fixture
def talk(store):
    store.upsert(
        [
            Paper(id=pid, title="T", abstract="a", entry=FeedEntry(date(2026, 8, 21), "hf"))
            for pid in (PAPER, OTHER)
        ]
    )
    return Discussions(store)


@pytest.fixture
def ada(store):
    return store.create_user("ada", "hash")


@pytest.fixture
def bob(store):
    return store.create_user("bob", "hash")


def test_comments_and_replies_form_one_level_threads(talk, ada, bob):
    first = talk.add(PAPER, ada.id, "  First!  ")
    reply = talk.add(PAPER, bob.id, "a reply", parent_id=first.id)
    deeper = talk.add(PAPER, ada.id, "a reply to the reply", parent_id=reply.id)
    assert first.body == "First!" and first.author == "ada" and first.parent_id is None
    assert reply.parent_id == first.id
    assert deeper.parent_id == first.id  # joins the top-level thread: one level only
    assert [c.id for c in talk.thread(PAPER)] == [first.id, reply.id, deeper.id]
    assert talk.thread(OTHER) == []
    assert talk.counts([PAPER, OTHER]) == {PAPER: 3}


def test_a_reply_must_be_to_a_comment_on_the_same_paper(talk, ada):
    elsewhere = talk.add(OTHER, ada.id, "on the other paper")
    with pytest.raises(CommentRefused, match="no comment"):
        talk.add(PAPER, ada.id, "reply", parent_id=elsewhere.id)
    with pytest.raises(CommentRefused, match="no comment"):
        talk.add(PAPER, ada.id, "reply", parent_id=10**9)
    assert talk.thread(PAPER) == []


@pytest.mark.parametrize(
    "body, why",
    [
        ("", "needs some text"),
        ("   \n", "needs some text"),
        ("x" * (MAX_BODY_CHARS + 1), "at most"),
    ],
)
def test_empty_or_oversized_comments_are_refused(talk, ada, body, why):
    with pytest.raises(CommentRefused, match=why):
        talk.add(PAPER, ada.id, body)
    assert talk.thread(PAPER) == []


def test_only_the_author_edits_and_the_edit_is_marked(talk, ada, bob):
    c = talk.add(PAPER, ada.id, "tpyo")
    assert c.edited_at is None
    with pytest.raises(CommentRefused):
        talk.edit(c.id, bob.id, "vandalised")
    edited = talk.edit(c.id, ada.id, "typo")
    assert edited.body == "typo" and edited.edited_at is not None
    assert talk.get(c.id).body == "typo"


def test_deleting_keeps_the_place_of_the_replies_and_leaves_the_count(talk, ada, bob):
    c = talk.add(PAPER, ada.id, "to be deleted")
    reply = talk.add(PAPER, bob.id, "still here", parent_id=c.id)
    assert not talk.delete(c.id, bob.id)  # not bob's
    assert talk.delete(c.id, ada.id)
    assert not talk.delete(c.id, ada.id)  # once
    gone = talk.get(c.id)
    assert gone.body == "" and gone.deleted_at and not gone.shown
    assert talk.get(reply.id).body == "still here"
    assert talk.counts([PAPER]) == {PAPER: 1}
    with pytest.raises(CommentRefused, match="deleted"):
        talk.add(PAPER, bob.id, "reply to a deleted comment", parent_id=c.id)
    with pytest.raises(CommentRefused):
        talk.edit(c.id, ada.id, "back from the dead")


def test_hidden_comments_keep_their_body_but_leave_the_count(talk, ada, bob):
    admin = talk.store.create_user("root", "hash", is_admin=True)
    c = talk.add(PAPER, ada.id, "rude")
    assert talk.set_hidden(c.id, admin.id, True)
    assert talk.get(c.id).hidden_at and talk.get(c.id).body == "rude"
    assert talk.counts([PAPER]) == {}
    assert talk.by_user(ada.id) == []
    assert talk.set_hidden(c.id, admin.id, False)
    assert talk.get(c.id).shown and talk.counts([PAPER]) == {PAPER: 1}
    assert not talk.set_hidden(10**9, admin.id, True)


def test_one_report_per_user_and_the_admins_queue(talk, ada, bob):
    carol = talk.store.create_user("carol", "hash")
    quiet = talk.add(PAPER, ada.id, "fine")
    loud = talk.add(PAPER, ada.id, "spam")
    assert talk.report(loud.id, bob.id, "spam")
    assert not talk.report(loud.id, bob.id, "spam again")  # one per user
    assert talk.report(loud.id, carol.id, "")
    assert talk.report(quiet.id, bob.id, "hmm")
    assert [(c.id, c.reports) for c in talk.reported()] == [(loud.id, 2), (quiet.id, 1)]
    assert talk.report_reasons(loud.id) == [("bob", "spam"), ("carol", "no reason given")]


def test_a_reply_queues_one_notice_per_opted_in_commenter_but_its_author(store, talk, ada, bob):
    from paperboy.store.replies import Replies

    replies = Replies(store)
    carol = store.create_user("carol", "hash", email="carol@example.org")
    with store.transaction() as conn:
        conn.execute(
            "UPDATE users SET email = name || '@example.org' WHERE id IN (?, ?)", (ada.id, bob.id)
        )
    assert replies.set_address(ada.id, "ada@example.org")
    assert replies.set_address(bob.id, "bob@example.org")
    assert not replies.set_address(carol.id, "someone@example.org")  # not the account's
    first = talk.add(PAPER, ada.id, "A question")
    talk.add(PAPER, carol.id, "Me too", parent_id=first.id)  # carol never opted in
    reply = talk.add(PAPER, bob.id, "An answer", parent_id=first.id)
    own = talk.add(PAPER, ada.id, "Thanks", parent_id=first.id)
    talk.add(OTHER, bob.id, "Elsewhere")  # no reply: no notice
    assert sorted(replies.due()) == [(reply.id - 1, ada.id), (reply.id, ada.id), (own.id, bob.id)]
    assert replies.claim(reply.id, ada.id) and not replies.claim(reply.id, ada.id)
    notice = replies.notice(reply.id, ada.id)
    assert (notice.address, notice.replier, notice.body, notice.attempts) == (
        "ada@example.org",
        "bob",
        "An answer",
        1,
    )
    replies.finish(reply.id, ada.id, "sent")
    assert replies.counts() == {"queued": 2, "sent": 1}
    replies.set_address(ada.id, None)
    assert replies.address(ada.id) is None
    assert replies.notice(own.id, bob.id).address == "bob@example.org"
