"""The submissions queue in the store (migration 0005): papers users asked for by arXiv id.

    sub, new = store.enqueue_submission("2405.15738", user.id, user.name, per_user=20, total=1000)
    claim, batch = store.claim_submissions(limit=100)      # the worker, atomically
    store.complete_submissions(claim, papers, missing, run)  # papers + statuses, one transaction

A web request only adds a row. The worker (paperboy/submissions.py) claims due rows: status
`fetching` and a fresh claim token, in one UPDATE, so two claimers never take the same row.
Completing stores the papers (through the same upsert as every run) and marks the rows in one
transaction, and only the rows that still carry that claim: a claim taken over from a worker
that was presumed dead is never stored twice. A worker killed mid-fetch leaves its rows in
`fetching`; the next worker to hold the queue puts them back (`requeue_abandoned`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from paperboy.papers import Paper
from paperboy.store import Run, StoreError
from paperboy.store.chunks import in_chunks
from paperboy.store.connection import Connection, Reader

if TYPE_CHECKING:
    from paperboy.store.papers import Papers

PENDING = ("queued", "fetching")
_COLUMNS = (
    "id, paper_id, user_id, submitted_by, status, attempts, message, run_id, created_at, "
    "finished_at, due_at"
)
_LOCK_QUEUE = 7_243_005  # PostgreSQL advisory lock: one enqueue at a time, so bounds are exact


def stamp(epoch: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds: one fixed width, so the text compares like the time."""
    when = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC)
    return when.isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    paper_id: str
    user_id: int | None
    submitted_by: str
    status: str  # queued, fetching, done, failed
    attempts: int
    message: str | None
    run_id: int | None
    created_at: str
    finished_at: str | None
    due_at: str

    @property
    def pending(self) -> bool:
        return self.status in PENDING


class QueueFull(StoreError):
    """The queue holds as many pending submissions as allowed, for this user or in total."""

    def __init__(self, scope: str, limit: int):
        self.scope, self.limit = scope, limit
        if scope == "user":
            text = (
                f"you have {limit} submissions waiting to be fetched, the most one user may "
                "have; submit more once some of them are done"
            )
        else:
            text = (
                f"the submission queue is full ({limit} papers waiting to be fetched from "
                "arXiv); try again in a few minutes"
            )
        super().__init__(text)


def _submission(row: Sequence[Any]) -> Submission:
    return Submission(*row)


class SubmissionQueue:
    """Mixed into SQLStore: the queue's transactions (`transaction` and `papers.upsert_in` come
    from there)."""

    dialect: str
    if TYPE_CHECKING:  # supplied by SQLStore

        @property
        def conn(self) -> Reader: ...
        @property
        def papers(self) -> Papers: ...
        def transaction(self) -> AbstractContextManager[Connection]: ...
        def _lock_papers(self, conn: Connection) -> None: ...

    def _lock_queue(self, conn: Connection) -> None:
        # SQLite's write transaction already serialises; PostgreSQL's READ COMMITTED would let
        # two enqueues both count 19 and both insert.
        if self.dialect == "postgres":
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_QUEUE,))

    def enqueue_submission(
        self, paper_id: str, user_id: int, submitted_by: str, per_user: int, total: int
    ) -> tuple[Submission, bool]:
        """Queue `paper_id` for fetching; (the submission, whether it is new).

        A paper already pending answers with that submission. `QueueFull` when this user has
        `per_user` pending submissions, or the queue `total`."""
        with self.transaction() as conn:
            self._lock_queue(conn)
            found = conn.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE paper_id = ? AND status IN (?, ?)",
                (paper_id, *PENDING),
            ).fetchone()
            if found:
                return _submission(found), False
            mine = conn.execute(
                "SELECT count(*) FROM submissions WHERE user_id = ? AND status IN (?, ?)",
                (user_id, *PENDING),
            ).fetchone()[0]
            if mine >= per_user:
                raise QueueFull("user", per_user)
            waiting = conn.execute(
                "SELECT count(*) FROM submissions WHERE status IN (?, ?)", PENDING
            ).fetchone()[0]
            if waiting >= total:
                raise QueueFull("total", total)
            now = stamp()
            row = conn.execute(
                "INSERT INTO submissions (paper_id, user_id, submitted_by, status, due_at, "
                f"created_at) VALUES (?, ?, ?, 'queued', ?, ?) RETURNING {_COLUMNS}",
                (paper_id, user_id, submitted_by, now, now),
            ).fetchone()
            return _submission(row), True

    def submission(self, submission_id: int) -> Submission | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM submissions WHERE id = ?", (submission_id,)
        ).fetchone()
        return _submission(row) if row else None

    def submissions(self, status: str | None = None, limit: int = 100) -> list[Submission]:
        """Newest first; only those with `status` when given."""
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM submissions {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        ).fetchall()
        return [_submission(r) for r in rows]

    def count_submissions(self) -> dict[str, int]:
        return dict(
            self.conn.execute("SELECT status, count(*) FROM submissions GROUP BY status").fetchall()
        )

    def next_submission_due(self) -> str | None:
        """When the earliest queued submission may be tried (None: nothing queued)."""
        due: str | None = self.conn.execute(
            "SELECT min(due_at) FROM submissions WHERE status = 'queued'"
        ).fetchone()[0]
        return due

    def requeue_abandoned(self) -> int:
        """Put rows left in `fetching` by a worker that is gone back in the queue, due now.

        Only the worker that holds the queue claims rows, one batch at a time, so when it
        starts a batch any row still `fetching` is a dead worker's (a kill -9 mid-fetch)."""
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE submissions SET status = 'queued', claim = NULL, due_at = ? "
                "WHERE status = 'fetching'",
                (stamp(),),
            ).rowcount

    def claim_submissions(self, limit: int) -> tuple[str, list[Submission]]:
        """Take up to `limit` due submissions, oldest first: (claim token, rows)."""
        claim, now = secrets.token_hex(16), stamp()
        with self.transaction() as conn:
            # The status test is repeated outside the subquery: PostgreSQL re-checks it on a
            # row another claimer changed meanwhile, so the row is not taken twice.
            rows = conn.execute(
                "UPDATE submissions SET status = 'fetching', claim = ?, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM submissions WHERE status = 'queued' AND due_at <= ? "
                "ORDER BY id LIMIT ?) AND status = 'queued' AND due_at <= ? "
                f"RETURNING {_COLUMNS}",
                (claim, now, limit, now),
            ).fetchall()
        return claim, sorted((_submission(r) for r in rows), key=lambda s: s.id)

    def _finish(
        self,
        conn: Connection,
        claim: str,
        ids: list[int],
        status: str,
        message: str | None,
        run_id: int | None,
    ) -> set[int]:
        """Mark the rows of `ids` still held by `claim`; the ids that were."""
        done: set[int] = set()
        for chunk, marks in in_chunks(ids):
            done.update(
                r[0]
                for r in conn.execute(
                    "UPDATE submissions SET status = ?, message = ?, run_id = ?, claim = NULL, "
                    f"finished_at = ? WHERE claim = ? AND status = 'fetching' AND id IN ({marks}) "
                    "RETURNING id",
                    (status, message, run_id, stamp(), claim, *chunk),
                ).fetchall()
            )
        return done

    def complete_submissions(
        self,
        claim: str,
        found: Iterable[tuple[Submission, Paper]],
        missing: Iterable[tuple[Submission, str]],
        run: Run,
    ) -> list[int]:
        """Store the fetched papers (`found`: each with its feed entry) as part of `run` and
        mark them done; mark `missing` failed with its reason (also a rejection of the run).
        One transaction, for the rows `claim` still holds; returns the ids completed here."""
        found, missing = list(found), list(missing)
        with self.transaction() as conn:
            self._lock_papers(conn)  # first, as every upsert does, so locks come in one order
            ours = self._finish(conn, claim, [s.id for s, _ in found], "done", None, run.id)
            failed = {sub.id: reason for sub, reason in missing}
            for reason in set(failed.values()):
                ours |= self._finish(
                    conn,
                    claim,
                    [i for i, r in failed.items() if r == reason],
                    "failed",
                    reason,
                    run.id,
                )
            rejections = [
                (f"submission {sub.id} ({sub.paper_id})", reason)
                for sub, reason in missing
                if sub.id in ours
            ]
            self.papers.upsert_in(
                conn, [paper for sub, paper in found if sub.id in ours], run, rejections=rejections
            )
        return sorted(ours)

    def retry_submissions(
        self, claim: str, ids: list[int], reason: str, due_at: str, max_attempts: int
    ) -> int:
        """A fetch failed: back in the queue, due at `due_at`, or failed for good after
        `max_attempts`. Returns how many failed for good."""
        with self.transaction() as conn:
            given_up = 0
            for chunk, marks in in_chunks(ids):
                given_up += conn.execute(
                    "UPDATE submissions SET status = 'failed', claim = NULL, message = ?, "
                    "finished_at = ? WHERE claim = ? AND status = 'fetching' AND attempts >= ? "
                    f"AND id IN ({marks})",
                    (reason, stamp(), claim, max_attempts, *chunk),
                ).rowcount
                conn.execute(
                    "UPDATE submissions SET status = 'queued', claim = NULL, message = ?, "
                    f"due_at = ? WHERE claim = ? AND status = 'fetching' AND id IN ({marks})",
                    (reason, due_at, claim, *chunk),
                )
            return given_up
