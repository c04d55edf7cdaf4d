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

    # -- mail --------------------------------------------------------------------------------
    # Subscribers, saved topics, the send log (exactly-once digests), papers sent, bounces.
    # The protocol lives in paperboy.mail.digests; these methods are its transactions.
    _SUBSCRIBER_COLUMNS = (
        "id, email, name, status, frequency, include_top, nonce, covered_through, failures, "
        "created_at, confirm_sent_at, confirmed_at"
    )

    def _subscribers_where(self, conn, where: str, params: tuple, tail: str = "") -> list:
        from paperboy.mail.records import Subscriber

        rows = conn.execute(
            f"SELECT {self._SUBSCRIBER_COLUMNS} FROM subscribers WHERE {where} ORDER BY id "
            f"{tail}", params,
        ).fetchall()
        found = {}
        for (sid, email, name, status, frequency, include_top, nonce, covered, failures,
             created, confirm_sent, confirmed) in rows:
            found[sid] = Subscriber(
                id=sid, email=email, name=name, status=status, frequency=frequency,
                include_top=bool(include_top), nonce=nonce, covered_through=_day(covered),
                failures=failures, created_at=_when(created), confirm_sent_at=_when(confirm_sent),
                confirmed_at=_when(confirmed),
            )
        if found:
            ids = list(found)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for sid, query in conn.execute(
                    f"SELECT subscriber_id, query FROM topics WHERE subscriber_id IN "
                    f"({', '.join('?' * len(chunk))}) ORDER BY subscriber_id, position", chunk
                ):
                    found[sid].topics.append(query)
        return list(found.values())

    def subscriber(self, subscriber_id: int):
        found = self._subscribers_where(self.conn, "id = ?", (subscriber_id,))
        return found[0] if found else None

    def subscriber_by_email(self, email: str):
        found = self._subscribers_where(self.conn, "email = ?", (email,))
        return found[0] if found else None

    def subscribers(self, status: str | None = None, limit: int = 100, offset: int = 0) -> list:
        where, params = ("status = ?", (status,)) if status else ("1", ())
        return self._subscribers_where(self.conn, where, params + (limit, offset),
                                       "LIMIT ? OFFSET ?")

    def count_subscribers(self) -> dict[str, int]:
        return dict(self.conn.execute(
            "SELECT status, count(*) FROM subscribers GROUP BY status").fetchall())

    def due_subscribers(self, frequencies: Iterable[str], email: str | None = None) -> list:
        """Active subscribers with one of these frequencies (or just `email`), with topics."""
        frequencies = list(frequencies)
        if not frequencies:
            return []
        where = f"status = 'active' AND frequency IN ({', '.join('?' * len(frequencies))})"
        params = tuple(frequencies)
        if email is not None:
            where += " AND email = ?"
            params += (email,)
        return self._subscribers_where(self.conn, where, params)

    @staticmethod
    def _replace_topics(conn, subscriber_id: int, topics: list[str]) -> None:
        conn.execute("DELETE FROM topics WHERE subscriber_id = ?", (subscriber_id,))
        conn.executemany(
            "INSERT INTO topics (subscriber_id, position, query) VALUES (?, ?, ?)",
            [(subscriber_id, i, q) for i, q in enumerate(topics)],
        )

    def request_subscription(self, email: str, name: str, frequency: str, include_top: bool,
                             topics: list[str], nonce: str) -> tuple[object, str | None]:
        """Record a subscription request; returns (subscriber, status before or None if new).

        A new, pending, unsubscribed or bouncing address becomes pending with these choices and
        this nonce (older confirmation links stop working). An active or paused subscriber is
        left as it is: only a signed preferences link may change it.
        """
        now = _now()
        with self._write() as conn:
            row = conn.execute("SELECT id, status FROM subscribers WHERE email = ?",
                               (email,)).fetchone()
            before = row[1] if row else None
            if row is None:
                sid = conn.execute(
                    "INSERT INTO subscribers (email, name, status, frequency, include_top, nonce, "
                    "created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)",
                    (email, name, frequency, int(include_top), nonce, now, now),
                ).lastrowid
                self._replace_topics(conn, sid, topics)
            elif before in ("pending", "unsubscribed", "bouncing"):
                sid = row[0]
                conn.execute(
                    "UPDATE subscribers SET name = ?, status = 'pending', frequency = ?, "
                    "include_top = ?, nonce = ?, updated_at = ? WHERE id = ?",
                    (name, frequency, int(include_top), nonce, now, sid),
                )
                self._replace_topics(conn, sid, topics)
            else:
                sid = row[0]
            return self._subscribers_where(conn, "id = ?", (sid,))[0], before

    def mark_confirmation_sent(self, subscriber_id: int, when: datetime | None = None) -> None:
        stamp = (when or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        with self._write() as conn:
            conn.execute("UPDATE subscribers SET confirm_sent_at = ? WHERE id = ?",
                         (stamp, subscriber_id))

    def confirm_subscriber(self, subscriber_id: int, nonce: str):
        """pending -> active when the nonce is the latest one; returns the subscriber or None."""
        with self._write() as conn:
            now = _now()
            conn.execute(
                "UPDATE subscribers SET status = 'active', confirmed_at = ?, updated_at = ?, "
                "failures = 0 WHERE id = ? AND nonce = ? AND status = 'pending'",
                (now, now, subscriber_id, nonce),
            )
            found = self._subscribers_where(conn, "id = ? AND nonce = ?", (subscriber_id, nonce))
        return found[0] if found else None

    def update_subscriber(self, subscriber_id: int, frequency: str, include_top: bool,
                          paused: bool, topics: list[str]) -> None:
        """Save preferences; pausing and resuming only applies to active or paused subscribers."""
        with self._write() as conn:
            conn.execute(
                "UPDATE subscribers SET frequency = ?, include_top = ?, updated_at = ?, "
                "status = CASE WHEN status IN ('active', 'paused') "
                "THEN (CASE WHEN ? THEN 'paused' ELSE 'active' END) ELSE status END "
                "WHERE id = ?",
                (frequency, int(include_top), _now(), int(paused), subscriber_id),
            )
            self._replace_topics(conn, subscriber_id, topics)

    def unsubscribe(self, subscriber_id: int) -> bool:
        """Stop all mail to this subscriber; False when there is no such subscriber."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE subscribers SET status = 'unsubscribed', updated_at = ? WHERE id = ?",
                (_now(), subscriber_id))
            return cur.rowcount > 0

    def forget_subscriber(self, subscriber_id: int) -> bool:
        """Delete a subscriber with their topics, send log, sent papers and bounces."""
        with self._write() as conn:
            return conn.execute("DELETE FROM subscribers WHERE id = ?",
                                (subscriber_id,)).rowcount > 0

    def finished_sends(self, period: str) -> set[int]:
        """Subscribers whose digest for this period needs nothing more (sent, rejected, empty)."""
        return {row[0] for row in self.conn.execute(
            "SELECT subscriber_id FROM send_log WHERE period = ? "
            "AND status IN ('sent', 'rejected', 'empty')", (period,))}

    def claim_send(self, subscriber_id: int, period: str, message_id: str):
        """Write `sending` to the send log before the SMTP transaction; None if already done.

        A row left in `sending` by a crashed run (or `deferred` by a failed one) is claimed
        again and keeps its Message-ID, so a resent copy is recognisably the same message.
        """
        from paperboy.mail.records import FINAL_SEND_STATES, SendClaim

        with self._write() as conn:
            row = conn.execute(
                "SELECT status, message_id, attempts FROM send_log "
                "WHERE subscriber_id = ? AND period = ?", (subscriber_id, period)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO send_log (subscriber_id, period, status, message_id, attempts, "
                    "started_at) VALUES (?, ?, 'sending', ?, 1, ?)",
                    (subscriber_id, period, message_id, _now()))
                return SendClaim(subscriber_id, period, message_id, 1, None)
            status, kept_id, attempts = row
            if status in FINAL_SEND_STATES:
                return None
            conn.execute(
                "UPDATE send_log SET status = 'sending', attempts = ?, started_at = ?, "
                "message_id = ? WHERE subscriber_id = ? AND period = ?",
                (attempts + 1, _now(), kept_id or message_id, subscriber_id, period))
            return SendClaim(subscriber_id, period, kept_id or message_id, attempts + 1, status)

    def record_sent(self, subscriber_id: int, period: str, paper_ids: list[str],
                    covered_through: date) -> None:
        """After the SMTP server accepted the digest: sent, its papers, the window it covered."""
        with self._write() as conn:
            conn.execute(
                "UPDATE send_log SET status = 'sent', papers = ?, code = NULL, error = NULL, "
                "finished_at = ? WHERE subscriber_id = ? AND period = ?",
                (len(paper_ids), _now(), subscriber_id, period))
            self._cover(conn, subscriber_id, period, paper_ids, covered_through)
            conn.execute("UPDATE subscribers SET failures = 0 WHERE id = ?", (subscriber_id,))

    def record_empty(self, subscriber_id: int, period: str, covered_through: date) -> None:
        """A digest with nothing new in it: no mail, but the period is done."""
        with self._write() as conn:
            now = _now()
            conn.execute(
                "INSERT INTO send_log (subscriber_id, period, status, started_at, finished_at) "
                "VALUES (?, ?, 'empty', ?, ?) ON CONFLICT (subscriber_id, period) DO UPDATE "
                "SET status = 'empty', finished_at = excluded.finished_at",
                (subscriber_id, period, now, now))
            self._cover(conn, subscriber_id, period, [], covered_through)

    @staticmethod
    def _cover(conn, subscriber_id: int, period: str, paper_ids: list[str],
               covered_through: date) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO sent_papers (subscriber_id, paper_id, period) VALUES (?, ?, ?)",
            [(subscriber_id, pid, period) for pid in paper_ids])
        conn.execute(
            "UPDATE subscribers SET covered_through = max(coalesce(covered_through, ''), ?) "
            "WHERE id = ?", (_iso(covered_through), subscriber_id))

    def record_deferred(self, subscriber_id: int, period: str, code: int | None,
                        error: str) -> None:
        """A transient failure: the next run tries this digest again."""
        with self._write() as conn:
            conn.execute(
                "UPDATE send_log SET status = 'deferred', code = ?, error = ?, finished_at = ? "
                "WHERE subscriber_id = ? AND period = ?",
                (code, error[:1000], _now(), subscriber_id, period))

    def record_rejected(self, subscriber_id: int, period: str, code: int | None, error: str,
                        bounce_limit: int) -> str:
        """A permanent failure: logged as a bounce; after `bounce_limit` in a row the address
        is marked bouncing. Returns the subscriber's status afterwards."""
        with self._write() as conn:
            now = _now()
            conn.execute(
                "UPDATE send_log SET status = 'rejected', code = ?, error = ?, finished_at = ? "
                "WHERE subscriber_id = ? AND period = ?",
                (code, error[:1000], now, subscriber_id, period))
            conn.execute(
                "INSERT INTO bounces (subscriber_id, period, code, message, at) "
                "VALUES (?, ?, ?, ?, ?)", (subscriber_id, period, code, error[:1000], now))
            conn.execute(
                "UPDATE subscribers SET failures = failures + 1, status = CASE "
                "WHEN failures + 1 >= ? AND status = 'active' THEN 'bouncing' ELSE status END, "
                "updated_at = ? WHERE id = ?", (bounce_limit, now, subscriber_id))
            return conn.execute("SELECT status FROM subscribers WHERE id = ?",
                                (subscriber_id,)).fetchone()[0]

    def sent_paper_ids(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        """Which of these papers this subscriber was already sent."""
        ids = list(paper_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(row[0] for row in self.conn.execute(
                "SELECT paper_id FROM sent_papers WHERE subscriber_id = ? AND paper_id IN "
                f"({', '.join('?' * len(chunk))})", (subscriber_id, *chunk)))
        return found

    def forget_sent_papers(self, entered_before: date) -> int:
        """Drop the record of papers sent that entered the feed before this day: no digest
        reaches back that far, so they can no longer be candidates. Returns rows dropped."""
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM sent_papers WHERE paper_id IN "
                "(SELECT paper_id FROM feed_entries WHERE day < ?)", (_iso(entered_before),)
            ).rowcount

    def send_log(self, period: str | None = None, subscriber_id: int | None = None,
                 limit: int = 1000) -> list[dict]:
        """Send log rows, newest period first."""
        where, params = [], []
        if period:
            where.append("l.period = ?")
            params.append(period)
        if subscriber_id is not None:
            where.append("l.subscriber_id = ?")
            params.append(subscriber_id)
        cur = self.conn.execute(
            "SELECT l.subscriber_id, s.email, l.period, l.status, l.message_id, l.attempts, "
            "l.papers, l.code, l.error, l.started_at, l.finished_at FROM send_log l "
            "JOIN subscribers s ON s.id = l.subscriber_id "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            "ORDER BY l.period DESC, l.subscriber_id LIMIT ?", (*params, limit))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def send_log_summary(self, periods: int = 10) -> list[tuple[str, str, int]]:
        """(period, status, count) for the most recent periods."""
        return self.conn.execute(
            "SELECT period, status, count(*) FROM send_log WHERE period IN "
            "(SELECT DISTINCT period FROM send_log ORDER BY period DESC LIMIT ?) "
            "GROUP BY period, status ORDER BY period DESC, status", (periods,)).fetchall()

    def bounces(self, subscriber_id: int) -> list[tuple[str | None, int | None, str, str]]:
        return self.conn.execute(
            "SELECT period, code, message, at FROM bounces WHERE subscriber_id = ? "
            "ORDER BY rowid", (subscriber_id,)).fetchall()

    def take_lock(self, name: str, holder: dict, is_stale) -> dict | None:
        """Take a named lock (kept in `state`); returns None, or the live holder's record.

        `is_stale(record)` decides whether a recorded holder is gone (a crashed process).
        """
        key = f"lock:{name}"
        with self._write() as conn:
            row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
            if row:
                current = json.loads(row[0])
                if not is_stale(current):
                    return current
            conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(holder)))
            return None

    def release_lock(self, name: str, holder_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM state WHERE key = ? AND json_extract(value, '$.id') = ?",
                         (f"lock:{name}", holder_id))


def _when(value: str | None) -> datetime | None:  # mail: timestamps stored as ISO text
    return datetime.fromisoformat(value) if value else None
