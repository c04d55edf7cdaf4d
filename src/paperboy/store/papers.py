"""The papers repository: papers (upserts merge, never duplicate) and the daily feed.

    store.papers.upsert(papers, run=run, checkpoint={...})   # one transaction with the run
    store.papers.get("2405.15738"); store.papers.ranked_between(first, last, limit=20)

Every change numbers the paper's row with `seq`, the counter the search indexes follow, and
rewrites the paper's rows in the author-name table when its authors change (store/authors.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from paperboy.papers import Paper
from paperboy.store import Run, UpsertResult
from paperboy.store.authors import write_author_names
from paperboy.store.chunks import in_chunks
from paperboy.store.connection import Connection, Reader
from paperboy.store.media import record_upstream
from paperboy.store.merge import merge_paper
from paperboy.store.rows import (
    ENTRY_COLUMNS,
    LOCAL_VOTES,
    NO_LIMIT,
    PAPER_COLUMNS,
    SELECT_PAPER,
    as_day,
    entry_values,
    iso,
    now_iso,
    paper_values,
    row_to_paper,
)

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore


class Papers:
    """Papers and the daily feed: `store.papers.upsert(...)`, `store.papers.get(id)`."""

    def __init__(self, db: SQLStore):
        self.db = db

    def upsert(
        self,
        papers: Iterable[Paper],
        run: Run | None = None,
        checkpoint: dict[str, Any] | None = None,
        rejections: Sequence[tuple[str, str]] = (),
    ) -> UpsertResult:
        """Insert or merge papers in one transaction.

        With `run`, the run's counts, its `checkpoint` (where to resume) and the batch's
        `rejections` (location, reason) are saved in the same transaction, so a crash never
        leaves a checkpoint ahead of the data or a rejection counted twice.
        """
        with self.db.transaction() as conn:
            return self.upsert_in(conn, papers, run, checkpoint, rejections)

    def upsert_in(
        self,
        conn: Connection,
        papers: Iterable[Paper],
        run: Run | None = None,
        checkpoint: dict[str, Any] | None = None,
        rejections: Sequence[tuple[str, str]] = (),
    ) -> UpsertResult:
        """`upsert` inside the caller's transaction (the submissions queue marks its rows in
        the same one)."""
        incoming: dict[str, Paper] = {}
        for paper in papers:
            # The same paper twice in one batch merges in order, as if sent one by one.
            incoming[paper.id] = (
                merge_paper(incoming[paper.id], paper) if paper.id in incoming else paper
            )
        result = UpsertResult()
        now = now_iso()
        self.db._lock_papers(conn)
        stored = self._get_many(conn, list(incoming))
        seq = conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0]
        inserts, updates, entries = [], [], []
        # (id, authors) of new papers, and of stored ones whose author list changed
        new_authors: list[tuple[str, list[str]]] = []
        changed_authors: list[tuple[str, list[str]]] = []
        for pid, paper in incoming.items():
            old = stored.get(pid)
            merged = merge_paper(old, paper)
            if old is not None and merged == old:
                result.unchanged += 1
                continue
            seq += 1
            if old is None:
                result.added += 1
                result.added_ids.append(pid)
                inserts.append(paper_values(merged) + (seq, now, now))
            else:
                result.updated += 1
                updates.append(paper_values(merged)[1:] + (seq, now, pid))
            if merged.entry is not None and merged.entry != (old.entry if old else None):
                entries.append(entry_values(pid, merged.entry))
            if old is None:
                new_authors.append((pid, merged.authors))
            elif merged.authors != old.authors:
                changed_authors.append((pid, merged.authors))
        if inserts:
            conn.executemany(
                f"INSERT INTO papers ({PAPER_COLUMNS}, seq, created_at, modified_at) "
                f"VALUES ({', '.join('?' * 21)})",
                inserts,
            )
        if updates:
            assignments = ", ".join(f"{c} = ?" for c in PAPER_COLUMNS.split(", ")[1:])
            conn.executemany(
                f"UPDATE papers SET {assignments}, seq = ?, modified_at = ? WHERE id = ?",
                updates,
            )
        if entries:
            updates_entry = ", ".join(f"{c} = excluded.{c}" for c in ENTRY_COLUMNS.split(", "))
            conn.executemany(
                f"INSERT INTO feed_entries (paper_id, {ENTRY_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT (paper_id) DO UPDATE SET {updates_entry}",
                entries,
            )
        # The author-name table (store/authors.py), after the papers its rows refer to.
        write_author_names(conn, new_authors, stored=False)
        write_author_names(conn, changed_authors)
        record_upstream(conn, incoming.values())  # summaries and star counts (store/media.py)
        if run is not None:
            run.count(result)
            run.checkpoint = checkpoint
            self.db.run_log.record_rejections(conn, run, rejections)
            self.db.run_log.save(conn, run)
        return result

    def _get_many(self, conn: Reader, ids: list[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        for chunk, marks in in_chunks(ids):
            rows = conn.execute(f"{SELECT_PAPER} WHERE p.id IN ({marks})", chunk)
            for row in rows:
                found[row[0]] = row_to_paper(row)
        return found

    def get(self, paper_id: str) -> Paper | None:
        return self._get_many(self.db.conn, [paper_id]).get(paper_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, Paper]:
        return self._get_many(self.db.conn, list(ids))

    def count_papers(self) -> int:
        return int(self.db.conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def iter_papers(self, batch: int = 5000) -> Iterator[Paper]:
        """Every paper, in id order, read in batches (for index rebuilds and exports)."""
        last = ""
        while True:
            rows = self.db.conn.execute(
                f"{SELECT_PAPER} WHERE p.id > ? ORDER BY p.id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield row_to_paper(row)
            last = rows[-1][0]

    def changed_since(self, seq: int, limit: int = 5000) -> list[tuple[int, Paper]]:
        """Papers added or changed after change number `seq`, oldest change first."""
        rows = self.db.conn.execute(
            f"SELECT p.seq, {SELECT_PAPER.removeprefix('SELECT ')} WHERE p.seq > ? "
            "ORDER BY p.seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [(row[0], row_to_paper(row[1:])) for row in rows]

    def count_changed_since(self, seq: int) -> int:
        """How many papers were added or changed after change number `seq`."""
        return int(
            self.db.conn.execute("SELECT count(*) FROM papers WHERE seq > ?", (seq,)).fetchone()[0]
        )

    def all_paper_ids(self) -> list[str]:
        """Every paper id, in id order (for `paperboy index --check` and backfills)."""
        return [row[0] for row in self.db.conn.execute("SELECT id FROM papers ORDER BY id")]

    def max_seq(self) -> int:
        return int(self.db.conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0])

    # -- the daily feed ----------------------------------------------------------------------
    def papers_between(
        self, first: date, last: date, limit: int | None = None, offset: int = 0
    ) -> list[Paper]:
        """Feed papers that entered the feed from `first` to `last` (inclusive), most votes
        first: the order of `ranked_between` (upstream + local votes, as every surface shows)."""
        return [paper for paper, _ in self.ranked_between(first, last, limit, offset)]

    def papers_on(self, day: date, limit: int | None = None, offset: int = 0) -> list[Paper]:
        return self.papers_between(day, day, limit, offset)

    def count_between(self, first: date, last: date) -> int:
        return int(
            self.db.conn.execute(
                "SELECT count(*) FROM feed_entries WHERE day BETWEEN ? AND ?",
                (iso(first), iso(last)),
            ).fetchone()[0]
        )

    def latest_day(self) -> date | None:
        return as_day(self.db.conn.execute("SELECT max(day) FROM feed_entries").fetchone()[0])

    def day_before(self, day: date) -> date | None:
        """The closest earlier day with papers in the feed (skipping empty days)."""
        return as_day(
            self.db.conn.execute(
                "SELECT max(day) FROM feed_entries WHERE day < ?", (iso(day),)
            ).fetchone()[0]
        )

    def day_after(self, day: date) -> date | None:
        return as_day(
            self.db.conn.execute(
                "SELECT min(day) FROM feed_entries WHERE day > ?", (iso(day),)
            ).fetchone()[0]
        )

    def ranked_between(
        self,
        first: date,
        last: date,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[tuple[Paper, int]]:
        """Feed papers of days `first`..`last` with their local vote counts, most votes
        (upstream + local) first; with `newest_first`, by feed day first, then votes."""
        head, tail = SELECT_PAPER.split(" FROM ", 1)
        order = "day DESC, total DESC" if newest_first else "total DESC, day DESC"
        rows = self.db.conn.execute(
            f"SELECT * FROM (SELECT {head.removeprefix('SELECT ')}, {LOCAL_VOTES} AS local, "
            f"p.upvotes + {LOCAL_VOTES} AS total FROM {tail} WHERE e.day BETWEEN ? AND ?) "
            f"AS ranked ORDER BY {order}, id DESC LIMIT ? OFFSET ?",
            (iso(first), iso(last), NO_LIMIT if limit is None else limit, offset),
        ).fetchall()
        return [(row_to_paper(row[:-2]), row[-2]) for row in rows]

    def first_day(self) -> date | None:
        return as_day(self.db.conn.execute("SELECT min(day) FROM feed_entries").fetchone()[0])

    def remove_from_feed(self, paper_id: str) -> bool:
        """Take a paper out of the daily feed (moderation); the paper itself stays stored."""
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "DELETE FROM feed_entries WHERE paper_id = ? RETURNING paper_id", (paper_id,)
                ).fetchone()
                is not None
            )
