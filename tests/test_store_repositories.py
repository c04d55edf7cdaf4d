"""The store as repositories over one database object: `store.papers`, `store.run_log`,
`store.accounts`, `store.mail` share the store's connections and transactions, and the old
method names on the store give the same answers (they pass to the repositories)."""

from __future__ import annotations

from datetime import date

from paperboy.papers import FeedEntry, Paper


def _paper(pid: str, day: date) -> Paper:
    return Paper(
        id=pid,
        title=f"Paper {pid}",
        abstract="An abstract.",
        authors=["A B"],
        entry=FeedEntry(day, "hf", None, None, None, 0),
    )


def test_each_repository_works_on_the_one_database(store):
    day = date(2026, 8, 21)
    run = store.run_log.begin_run("import", "file.jsonl", "fp-1")
    result = store.papers.upsert(
        [_paper("2405.00001", day), _paper("2405.00002", day)], run=run, checkpoint={"line": 2}
    )
    store.run_log.finish_run(run)
    assert result.added == 2
    assert store.run_log.latest(1)[0]["added"] == 2  # saved with the batch, in its transaction
    user = store.accounts.create_user("ada", "hash")
    assert store.accounts.set_vote(user.id, "2405.00002", up=True) == 1
    ranked = store.papers.ranked_between(day, day)
    assert [(p.id, local) for p, local in ranked] == [("2405.00002", 1), ("2405.00001", 0)]
    sub, before = store.mail.request_subscription(
        "a@example.org", "A", "daily", True, ["attention"], "nonce"
    )
    assert before is None and store.mail.subscriber(sub.id).topics == ["attention"]


def test_the_old_names_answer_as_the_repositories_do(store):
    day = date(2026, 8, 21)
    store.upsert([_paper("2405.00001", day)])  # old name
    assert store.get("2405.00001") == store.papers.get("2405.00001")
    assert store.papers_on(day) == store.papers.papers_on(day)
    assert store.runs() == store.run_log.latest()
    user = store.create_user("bob", "hash")
    assert store.user_by_name("bob") == store.accounts.user_by_name("bob") == user
    assert store.count_subscribers() == store.mail.count_subscribers() == {}
