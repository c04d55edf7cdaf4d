"""The SQLite store: one file in WAL mode, one writer at a time, readers never blocked.

Each thread gets its own connection; every write goes through `_write()`, which takes a
process-wide lock and an IMMEDIATE transaction, so a batch of papers and the checkpoint of the
run that wrote it commit together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path

from paperboy.papers import FeedEntry, Paper
from paperboy.store import Run, StoreError, UpsertResult
from paperboy.store.merge import merge_paper

_PAPER_COLUMNS = (
    "id, version, title, abstract, authors, categories, primary_category, published, updated, "
    "announced, comment, journal_ref, doi, license, code_url, project_url, upvotes, keywords"
)
_ENTRY_COLUMNS = "day, source, submitted_by, organization, organization_name, num_comments"
_SELECT_PAPER = (
    f"SELECT p.{_PAPER_COLUMNS.replace(', ', ', p.')}, "
    f"e.{_ENTRY_COLUMNS.replace(', ', ', e.')} "
    "FROM papers p LEFT JOIN feed_entries e ON e.paper_id = p.id"
)
MAX_REJECTIONS_KEPT = 1000  # per run; the count stays exact beyond it


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _row_to_paper(row: sqlite3.Row | tuple) -> Paper:
    (pid, version, title, abstract, authors, categories, primary, published, updated, announced,
     comment, journal_ref, doi, license_, code_url, project_url, upvotes, keywords,
     day, source, submitted_by, org, org_name, num_comments) = row
    entry = None
    if day is not None:
        entry = FeedEntry(_day(day), source, submitted_by, org, org_name, num_comments)
    return Paper(
        id=pid, version=version, title=title, abstract=abstract, authors=json.loads(authors),
        categories=json.loads(categories), primary_category=primary, published=_day(published),
        updated=_day(updated), announced=_day(announced), comment=comment,
        journal_ref=journal_ref, doi=doi, license=license_, code_url=code_url,
        project_url=project_url, upvotes=upvotes, keywords=json.loads(keywords), entry=entry,
    )


def _paper_values(p: Paper) -> tuple:
    return (
        p.id, p.version, p.title, p.abstract, json.dumps(p.authors, ensure_ascii=False),
        json.dumps(p.categories), p.primary_category, _iso(p.published), _iso(p.updated),
        _iso(p.announced), p.comment, p.journal_ref, p.doi, p.license, p.code_url, p.project_url,
        p.upvotes or 0, json.dumps(p.keywords, ensure_ascii=False),
    )


def _entry_values(paper_id: str, e: FeedEntry) -> tuple:
    return (paper_id, _iso(e.day), e.source, e.submitted_by, e.organization, e.organization_name,
            e.num_comments or 0)


class SQLiteStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {self.path.parent}: {exc}") from None
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._migrate()

    # -- connections -------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot open the store {self.path}: {exc}") from None
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self) -> None:
        folder = resources.files("paperboy.store") / "migrations" / "sqlite"
        scripts = sorted(
            (int(f.name.split("_", 1)[0]), f) for f in folder.iterdir() if f.name.endswith(".sql")
        )
        current = self.schema_version
        newest = scripts[-1][0] if scripts else 0
        if current > newest:
            raise StoreError(
                f"the store {self.path} has schema version {current}, newer than this paperboy "
                f"knows ({newest}): upgrade paperboy"
            )
        for number, script in scripts:
            if number <= current:
                continue
            with self._write() as conn:
                for statement in script.read_text().split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # -- papers ------------------------------------------------------------------------------
    def upsert(
        self,
        papers: Iterable[Paper],
        run: Run | None = None,
        checkpoint: dict | None = None,
        rejections: list[tuple[str, str]] = (),
    ) -> UpsertResult:
        """Insert or merge papers in one transaction.

        With `run`, the run's counts, its `checkpoint` (where to resume) and the batch's
        `rejections` (location, reason) are saved in the same transaction, so a crash never
        leaves a checkpoint ahead of the data or a rejection counted twice.
        """
        incoming: dict[str, Paper] = {}
        for paper in papers:
            # The same paper twice in one batch merges in order, as if sent one by one.
            incoming[paper.id] = merge_paper(incoming[paper.id], paper) if paper.id in incoming \
                else paper
        result = UpsertResult()
        now = _now()
        with self._write() as conn:
            stored = self._get_many(conn, list(incoming))
            seq = conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0]
            inserts, updates, entries = [], [], []
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
                    inserts.append(_paper_values(merged) + (seq, now, now))
                else:
                    result.updated += 1
                    updates.append(_paper_values(merged)[1:] + (seq, now, pid))
                if merged.entry is not None and merged.entry != (old.entry if old else None):
                    entries.append(_entry_values(pid, merged.entry))
            if inserts:
                conn.executemany(
                    f"INSERT INTO papers ({_PAPER_COLUMNS}, seq, created_at, modified_at) "
                    f"VALUES ({', '.join('?' * 21)})",
                    inserts,
                )
            if updates:
                assignments = ", ".join(f"{c} = ?" for c in _PAPER_COLUMNS.split(", ")[1:])
                conn.executemany(
                    f"UPDATE papers SET {assignments}, seq = ?, modified_at = ? WHERE id = ?",
                    updates,
                )
            if entries:
                conn.executemany(
                    f"INSERT OR REPLACE INTO feed_entries (paper_id, {_ENTRY_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    entries,
                )
            if run is not None:
                run.count(result)
                run.checkpoint = checkpoint
                self._record_rejections(conn, run, rejections)
                self._save_run(conn, run)
        return result

    def _get_many(self, conn: sqlite3.Connection, ids: list[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = conn.execute(
                f"{_SELECT_PAPER} WHERE p.id IN ({', '.join('?' * len(chunk))})", chunk
            )
            for row in rows:
                found[row[0]] = _row_to_paper(row)
        return found

    def get(self, paper_id: str) -> Paper | None:
        return self._get_many(self.conn, [paper_id]).get(paper_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, Paper]:
        return self._get_many(self.conn, list(ids))

    def count_papers(self) -> int:
        return self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]

    def iter_papers(self, batch: int = 5000) -> Iterator[Paper]:
        """Every paper, in id order, read in batches (for index rebuilds and exports)."""
        last = ""
        while True:
            rows = self.conn.execute(
                f"{_SELECT_PAPER} WHERE p.id > ? ORDER BY p.id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _row_to_paper(row)
            last = rows[-1][0]

    def changed_since(self, seq: int, limit: int = 5000) -> list[tuple[int, Paper]]:
        """Papers added or changed after change number `seq`, oldest change first."""
        rows = self.conn.execute(
            f"SELECT p.seq, {_SELECT_PAPER.removeprefix('SELECT ')} WHERE p.seq > ? "
            "ORDER BY p.seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [(row[0], _row_to_paper(row[1:])) for row in rows]

    def max_seq(self) -> int:
        return self.conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0]

    # -- the daily feed ----------------------------------------------------------------------
    def papers_between(self, first: date, last: date, limit: int | None = None,
                       offset: int = 0) -> list[Paper]:
        """Feed papers that entered the feed from `first` to `last` (inclusive), top voted first."""
        rows = self.conn.execute(
            f"{_SELECT_PAPER} WHERE e.day BETWEEN ? AND ? "
            "ORDER BY p.upvotes DESC, e.day DESC, p.id DESC LIMIT ? OFFSET ?",
            (_iso(first), _iso(last), -1 if limit is None else limit, offset),
        ).fetchall()
        return [_row_to_paper(row) for row in rows]

    def papers_on(self, day: date, limit: int | None = None, offset: int = 0) -> list[Paper]:
        return self.papers_between(day, day, limit, offset)

    def count_between(self, first: date, last: date) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM feed_entries WHERE day BETWEEN ? AND ?", (_iso(first), _iso(last))
        ).fetchone()[0]

    def latest_day(self) -> date | None:
        return _day(self.conn.execute("SELECT max(day) FROM feed_entries").fetchone()[0])

    def day_before(self, day: date) -> date | None:
        """The closest earlier day with papers in the feed (skipping empty days)."""
        return _day(self.conn.execute(
            "SELECT max(day) FROM feed_entries WHERE day < ?", (_iso(day),)).fetchone()[0])

    def day_after(self, day: date) -> date | None:
        return _day(self.conn.execute(
            "SELECT min(day) FROM feed_entries WHERE day > ?", (_iso(day),)).fetchone()[0])

    # -- runs --------------------------------------------------------------------------------
    def begin_run(self, kind: str, source: str, fingerprint: str) -> Run:
        """Start a run, or resume the unfinished one with the same fingerprint (after a crash)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, added, updated, unchanged, rejected, checkpoint FROM import_runs "
                "WHERE fingerprint = ? AND status = 'running' ORDER BY id DESC LIMIT 1",
                (fingerprint,),
            ).fetchone()
            if row:
                rid, added, updated, unchanged, rejected, checkpoint = row
                return Run(rid, kind, source, fingerprint, added, updated, unchanged, rejected,
                           json.loads(checkpoint) if checkpoint else None, resumed=True)
            cur = conn.execute(
                "INSERT INTO import_runs (kind, source, fingerprint, status, started_at) "
                "VALUES (?, ?, ?, 'running', ?)",
                (kind, source, fingerprint, _now()),
            )
            return Run(cur.lastrowid, kind, source, fingerprint)

    def _save_run(self, conn: sqlite3.Connection, run: Run) -> None:
        conn.execute(
            "UPDATE import_runs SET added = ?, updated = ?, unchanged = ?, rejected = ?, "
            "checkpoint = ?, status = ?, message = ?, "
            "finished_at = CASE WHEN ? = 'running' THEN NULL ELSE ? END WHERE id = ?",
            (run.added, run.updated, run.unchanged, run.rejected,
             json.dumps(run.checkpoint) if run.checkpoint is not None else None,
             run.status, run.message, run.status, _now(), run.id),
        )

    def _record_rejections(self, conn, run: Run, rejections: list[tuple[str, str]]) -> None:
        """Keep the first MAX_REJECTIONS_KEPT reasons of a run; the count stays exact."""
        if not rejections:
            return
        room = max(0, MAX_REJECTIONS_KEPT - run.rejected)
        conn.executemany(
            "INSERT INTO rejections (run_id, location, reason) VALUES (?, ?, ?)",
            [(run.id, loc, reason) for loc, reason in rejections[:room]],
        )
        run.rejected += len(rejections)

    def finish_run(self, run: Run, status: str = "done", message: str | None = None) -> None:
        run.status, run.message = status, message
        with self._write() as conn:
            self._save_run(conn, run)

    def rejections(self, run_id: int, limit: int = 20) -> list[tuple[str, str]]:
        return self.conn.execute(
            "SELECT location, reason FROM rejections WHERE run_id = ? ORDER BY rowid LIMIT ?",
            (run_id, limit),
        ).fetchall()

    def runs(self, limit: int = 20) -> list[dict]:
        cur = self.conn.execute(
            "SELECT id, kind, source, status, started_at, finished_at, added, updated, unchanged, "
            "rejected, message FROM import_runs ORDER BY id DESC LIMIT ?", (limit,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    # -- small state (sync watermarks, harvest tokens) ---------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- search index support (hybrid search) ------------------------------------------------
    def count_changed_since(self, seq: int) -> int:
        """How many papers were added or changed after change number `seq`."""
        return self.conn.execute("SELECT count(*) FROM papers WHERE seq > ?", (seq,)).fetchone()[0]

    def all_paper_ids(self) -> list[str]:
        """Every paper id, in id order (for `paperboy index --check` and backfills)."""
        return [row[0] for row in self.conn.execute("SELECT id FROM papers ORDER BY id")]
