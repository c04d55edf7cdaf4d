"""The submissions queue in the store, on SQLite and on a real PostgreSQL: bounds, atomic
claims, exactly-once completion, retries and the rows a killed worker leaves behind."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from paperboy.papers import FeedEntry, Paper
from paperboy.store import open_store
from paperboy.store.submissions import QueueFull, stamp


def paper(pid: str, who: str = "ada") -> Paper:
    return Paper(
        id=pid,
        title=f"Paper {pid}",
        abstract="An abstract.",
        authors=["A. Author"],
        entry=FeedEntry(day=date(2026, 8, 21), source="user", submitted_by=who),
    )


@pytest.fixture
def users(store):
    return [store.create_user(name, "unused-hash") for name in ("ada", "bob")]


def enqueue(store, user, pid, per_user=20, total=1000):
    return store.enqueue_submission(pid, user.id, user.name, per_user, total)


def test_a_paper_is_queued_once_and_bounds_hold_per_user_and_in_total(store, users):
    ada, bob = users
    first, new = enqueue(store, ada, "2405.00001")
    assert new and first.status == "queued" and first.submitted_by == "ada"
    again, new = enqueue(store, bob, "2405.00001")  # someone else asks for the same paper
    assert not new and again.id == first.id
    enqueue(store, ada, "2405.00002", per_user=2)
    with pytest.raises(QueueFull) as full:
        enqueue(store, ada, "2405.00003", per_user=2)
    assert full.value.scope == "user" and "2 submissions waiting" in str(full.value)
    with pytest.raises(QueueFull) as full:
        enqueue(store, bob, "2405.00004", total=2)
    assert full.value.scope == "total" and "queue is full" in str(full.value)
    assert store.count_submissions() == {"queued": 2}


def test_concurrent_enqueues_never_exceed_the_bound(store, users, backend_settings):
    ada = users[0]
    outcomes = []

    def submit(n: int) -> None:
        # Each thread its own store, as each server worker has: the bound must hold across them.
        own = open_store(backend_settings)
        try:
            own.enqueue_submission(f"2405.{n:05d}", ada.id, ada.name, 5, 1000)
            outcomes.append("queued")
        except QueueFull:
            outcomes.append("full")
        finally:
            own.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("queued") == 5 and outcomes.count("full") == 7
    assert store.count_submissions() == {"queued": 5}


def test_concurrent_claims_never_take_a_row_twice(store, users, backend_settings):
    ada = users[0]
    for n in range(40):
        enqueue(store, ada, f"2405.{n:05d}", per_user=100)
    taken: list[int] = []
    lock = threading.Lock()

    def claimer() -> None:
        own = open_store(backend_settings)
        try:
            while True:
                _, rows = own.claim_submissions(3)
                if not rows:
                    return
                with lock:
                    taken.extend(r.id for r in rows)
        finally:
            own.close()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 40 and len(set(taken)) == 40
    assert store.count_submissions() == {"fetching": 40}


def test_completion_stores_papers_and_marks_rows_in_one_step_for_the_claim_holder(store, users):
    ada = users[0]
    a, _ = enqueue(store, ada, "2405.00001")
    b, _ = enqueue(store, ada, "2405.00002")
    claim, rows = store.claim_submissions(10)
    assert [r.id for r in rows] == [a.id, b.id] and all(r.attempts == 1 for r in rows)
    run = store.begin_run("submissions", "http://arxiv.test", "submissions")
    # A stale claim (another worker took the rows over) completes nothing and stores nothing.
    assert (
        store.complete_submissions("not-the-claim", [(rows[0], paper(a.paper_id))], [], run) == []
    )
    assert store.get(a.paper_id) is None
    done = store.complete_submissions(
        claim, [(rows[0], paper(a.paper_id))], [(rows[1], "arXiv has no paper 2405.00002")], run
    )
    assert done == [a.id, b.id]
    assert store.get(a.paper_id).entry.submitted_by == "ada"
    assert store.submission(a.id).status == "done" and store.submission(a.id).run_id == run.id
    failed = store.submission(b.id)
    assert failed.status == "failed" and failed.message == "arXiv has no paper 2405.00002"
    assert (run.added, run.rejected) == (1, 1)
    assert store.rejections(run.id) == [
        (f"submission {b.id} (2405.00002)", "arXiv has no paper 2405.00002")
    ]
    # Completing the same claim again (a retried call) changes nothing.
    assert store.complete_submissions(claim, [(rows[0], paper(a.paper_id))], [], run) == []
    assert run.added == 1 and store.count_submissions() == {"done": 1, "failed": 1}


def test_a_failed_fetch_requeues_until_the_last_attempt(store, users):
    ada = users[0]
    sub, _ = enqueue(store, ada, "2405.00001")
    for attempt in (1, 2):
        claim, rows = store.claim_submissions(10)
        assert rows[0].attempts == attempt
        assert (
            store.retry_submissions(
                claim, [sub.id], "the last try failed: down", stamp(), max_attempts=3
            )
            == 0
        )
        again = store.submission(sub.id)
        assert again.status == "queued" and again.message == "the last try failed: down"
    later = stamp(time.time() + 3600)
    claim, rows = store.claim_submissions(10)
    assert store.retry_submissions(claim, [sub.id], "the last try failed: down", later, 3) == 1
    assert store.submission(sub.id).status == "failed"


def test_a_retry_waits_until_it_is_due(store, users):
    sub, _ = enqueue(store, users[0], "2405.00001")
    claim, _ = store.claim_submissions(10)
    later = stamp(time.time() + 3600)
    store.retry_submissions(claim, [sub.id], "down", later, max_attempts=5)
    assert store.claim_submissions(10)[1] == []
    assert store.next_submission_due() == later


def test_rows_a_dead_worker_was_fetching_go_back_in_the_queue(store, users):
    sub, _ = enqueue(store, users[0], "2405.00001")
    dead_claim, _ = store.claim_submissions(10)
    assert store.claim_submissions(10)[1] == []  # nobody else takes a row being fetched
    assert store.requeue_abandoned() == 1
    claim, rows = store.claim_submissions(10)
    assert [r.id for r in rows] == [sub.id] and rows[0].attempts == 2
    run = store.begin_run("submissions", "http://arxiv.test", "submissions")
    # The dead worker's late completion (it was only slow) stores nothing: no duplicate.
    assert store.complete_submissions(dead_claim, [(rows[0], paper(sub.paper_id))], [], run) == []
    assert store.complete_submissions(claim, [(rows[0], paper(sub.paper_id))], [], run) == [sub.id]
    assert run.added == 1 and run.unchanged == 0
