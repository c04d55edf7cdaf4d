"""The domain methods of the store, in SQL that SQLite and PostgreSQL both run.

Subclasses supply the connection: `conn` (autocommit reads) and `_write()` (one transaction),
both answering `execute(sql, params)` / `executemany(sql, rows)` with `?` placeholders. This
keeps one copy of every query; only connection handling and migrations differ per backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from importlib import resources

from paperboy.papers import FeedEntry, Paper
from paperboy.store import Run, StoreError, UpsertResult
from paperboy.store.accounts import ApiToken, NameTaken, User
from paperboy.store.media import record_upstream
from paperboy.store.merge import merge_paper
from paperboy.store.submissions import SubmissionQueue

NO_LIMIT = 2**62  # "LIMIT -1" is SQLite-only and "LIMIT NULL" PostgreSQL-only

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
_LOCAL_VOTES = "(SELECT count(*) FROM votes v WHERE v.paper_id = p.id)"  # accounts section


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _day(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value  # PostgreSQL returns DATE columns as dates already
    return date.fromisoformat(value)


def _stamp(moment: datetime) -> str:
    """A timestamp as stored: ISO text in UTC to the second, so SQLite's text order is time
    order (PostgreSQL reads the same text into TIMESTAMPTZ)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _when(value: str | datetime | None) -> datetime | None:
    """A timestamp stored as ISO text (SQLite) or TIMESTAMPTZ (PostgreSQL)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _row_to_paper(row: tuple) -> Paper:
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


class SQLStore(SubmissionQueue):
    """Papers, the daily feed, runs and state. Subclasses: SQLiteStore, PostgresStore.
    The submissions queue's methods live in store/submissions.py."""

    dialect: str  # names the folder of migrations: store/migrations/<dialect>/NNNN_name.sql

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Apply the numbered migration scripts newer than the store's schema version."""
        folder = resources.files("paperboy.store") / "migrations" / self.dialect
        scripts = sorted(
            (int(f.name.split("_", 1)[0]), f) for f in folder.iterdir() if f.name.endswith(".sql")
        )
        newest = scripts[-1][0] if scripts else 0
        with self._write() as conn:  # one process migrates; the others wait, then see it done
            self._lock_schema(conn)
            current = self._schema_version(conn)
            if current > newest:
                raise StoreError(
                    f"the store {self.location} has schema version {current}, newer than this "
                    f"paperboy knows ({newest}): upgrade paperboy"
                )
            for number, script in scripts:
                if number <= current:
                    continue
                for statement in script.read_text().split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                self._set_schema_version(conn, number)

    @property
    def schema_version(self) -> int:
        return self._schema_version(self.conn)

    def close_thread(self) -> None:
        """A worker thread is done with the store (SQLite closes that thread's connection)."""

    # Bulk copies into this store (store/transfer.py) insert explicit ids.
    insert_override = ""

    def after_bulk_copy(self, tables: list[tuple[str, list[str]]]) -> None:
        """Called after rows with explicit ids were copied in (PostgreSQL resets sequences)."""

    def _lock_schema(self, conn) -> None:
        """Serialise migrations across processes (SQLite's write transaction already does)."""

    def _lock_papers(self, conn) -> None:
        """Serialise paper upserts, which read, merge and number changes (see PostgresStore)."""

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
        with self._write() as conn:
            return self._upsert_in(conn, papers, run, checkpoint, rejections)

    def _upsert_in(self, conn, papers: Iterable[Paper], run: Run | None = None,
                   checkpoint: dict | None = None, rejections: list[tuple[str, str]] = ()
                   ) -> UpsertResult:
        """`upsert` inside the caller's transaction (the submissions queue marks its rows in
        the same one)."""
        incoming: dict[str, Paper] = {}
        for paper in papers:
            # The same paper twice in one batch merges in order, as if sent one by one.
            incoming[paper.id] = merge_paper(incoming[paper.id], paper) if paper.id in incoming \
                else paper
        result = UpsertResult()
        now = _now()
        self._lock_papers(conn)
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
            updates_entry = ", ".join(f"{c} = excluded.{c}" for c in _ENTRY_COLUMNS.split(", "))
            conn.executemany(
                f"INSERT INTO feed_entries (paper_id, {_ENTRY_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT (paper_id) DO UPDATE SET {updates_entry}",
                entries,
            )
        record_upstream(conn, incoming.values())  # summaries and star counts (store/media.py)
        if run is not None:
            run.count(result)
            run.checkpoint = checkpoint
            self._record_rejections(conn, run, rejections)
            self._save_run(conn, run)
        return result

    def _get_many(self, conn, ids: list[str]) -> dict[str, Paper]:
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

    def count_changed_since(self, seq: int) -> int:
        """How many papers were added or changed after change number `seq`."""
        return self.conn.execute("SELECT count(*) FROM papers WHERE seq > ?", (seq,)).fetchone()[0]

    def all_paper_ids(self) -> list[str]:
        """Every paper id, in id order (for `paperboy index --check` and backfills)."""
        return [row[0] for row in self.conn.execute("SELECT id FROM papers ORDER BY id")]

    def max_seq(self) -> int:
        return self.conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0]

    # -- the daily feed ----------------------------------------------------------------------
    def papers_between(self, first: date, last: date, limit: int | None = None,
                       offset: int = 0) -> list[Paper]:
        """Feed papers that entered the feed from `first` to `last` (inclusive), top voted first."""
        rows = self.conn.execute(
            f"{_SELECT_PAPER} WHERE e.day BETWEEN ? AND ? "
            "ORDER BY p.upvotes DESC, e.day DESC, p.id DESC LIMIT ? OFFSET ?",
            (_iso(first), _iso(last), NO_LIMIT if limit is None else limit, offset),
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
    def begin_run(self, kind: str, source: str, fingerprint: str,
                  resume_failed: bool = False) -> Run:
        """Start a run, or resume the unfinished one with the same fingerprint (after a crash;
        with `resume_failed`, also after an error or Ctrl-C marked it failed)."""
        statuses = "('running', 'failed')" if resume_failed else "('running')"
        with self._write() as conn:
            self._lock_papers(conn)
            # A failed run is resumed only while it is the latest with this fingerprint.
            latest = "" if not resume_failed else (
                "AND id = (SELECT max(id) FROM import_runs WHERE fingerprint = ?) ")
            row = conn.execute(
                "SELECT id, added, updated, unchanged, rejected, checkpoint FROM import_runs "
                f"WHERE fingerprint = ? AND status IN {statuses} {latest}"
                "ORDER BY id DESC LIMIT 1",
                (fingerprint, fingerprint) if resume_failed else (fingerprint,),
            ).fetchone()
            if row:
                rid, added, updated, unchanged, rejected, checkpoint = row
                return Run(rid, kind, source, fingerprint, added, updated, unchanged, rejected,
                           json.loads(checkpoint) if checkpoint else None, resumed=True)
            rid = conn.execute(
                "INSERT INTO import_runs (kind, source, fingerprint, status, started_at) "
                "VALUES (?, ?, ?, 'running', ?) RETURNING id",
                (kind, source, fingerprint, _now()),
            ).fetchone()[0]
            return Run(rid, kind, source, fingerprint)

    def _save_run(self, conn, run: Run) -> None:
        conn.execute(
            "UPDATE import_runs SET added = ?, updated = ?, unchanged = ?, rejected = ?, "
            "checkpoint = ?, status = ?, message = ?, finished_at = ? WHERE id = ?",
            (run.added, run.updated, run.unchanged, run.rejected,
             json.dumps(run.checkpoint) if run.checkpoint is not None else None,
             run.status, run.message, None if run.status == "running" else _now(), run.id),
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
            "SELECT location, reason FROM rejections WHERE run_id = ? ORDER BY id LIMIT ?",
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

    def set_state(self, key: str, value: str, conn=None) -> None:
        """Save a value; with `conn`, inside that caller's open transaction."""
        if conn is None:
            with self._write() as conn:
                self.set_state(key, value, conn)
            return
        conn.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete_state_prefix(self, prefix: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM state WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))

    # == accounts, sessions, API tokens, votes, rate limits (web service; migrations 0002, 0006)
    # Shown upvotes are papers.upvotes (upstream) plus the count of local `votes` rows.

    def create_user(self, name: str, password_hash: str, email: str | None = None,
                    is_admin: bool = False) -> User:
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO users (name, name_key, email, password_hash, is_admin, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name_key) DO NOTHING RETURNING id",
                (name, name.lower(), email, password_hash, int(is_admin), _now())).fetchone()
            if row is None:
                raise NameTaken(f"the name {name!r} is taken")
            return self._user_where(conn, "id = ?", row[0])

    def _user_where(self, conn, condition: str, *args) -> User | None:
        row = conn.execute(
            f"SELECT id, name, email, is_admin, created_at FROM users WHERE {condition}", args
        ).fetchone()
        return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def user_by_name(self, name: str) -> User | None:
        return self._user_where(self.conn, "name_key = ?", name.lower())

    def credentials(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, for signing in."""
        user = self.user_by_name(name)
        if user is None:
            return None
        row = self.conn.execute("SELECT password_hash FROM users WHERE id = ?", (user.id,))
        return user, row.fetchone()[0]

    def set_admin(self, name: str, is_admin: bool) -> User | None:
        with self._write() as conn:
            conn.execute("UPDATE users SET is_admin = ? WHERE name_key = ?",
                         (int(is_admin), name.lower()))
            return self._user_where(conn, "name_key = ?", name.lower())

    def users(self) -> list[User]:
        rows = self.conn.execute(
            "SELECT id, name, email, is_admin, created_at FROM users ORDER BY id").fetchall()
        return [User(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def create_session(self, user_id: int, token_hash: str, expires_at: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, user_id, _now(),
                 expires_at.astimezone(timezone.utc).isoformat(timespec="seconds")))

    def session_user(self, token_hash: str) -> User | None:
        """The signed-in user for a session, or None when unknown or expired."""
        row = self.conn.execute(
            "SELECT u.id, u.name, u.email, u.is_admin, u.created_at FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash, _now())).fetchone()
        return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def delete_session(self, token_hash: str) -> None:
        """Sign a session out (and sweep expired ones while at it)."""
        with self._write() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (_now(),))

    def create_api_token(self, user_id: int, name: str, token_hash: str) -> ApiToken:
        now = _now()
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id", (token_hash, user_id, name, now)).fetchone()
        return ApiToken(row[0], name, now)

    def api_tokens(self, user_id: int) -> list[ApiToken]:
        rows = self.conn.execute(
            "SELECT id, name, created_at FROM api_tokens WHERE user_id = ? ORDER BY id",
            (user_id,)).fetchall()
        return [ApiToken(*row) for row in rows]

    def revoke_api_token(self, user_id: int, token_id: int) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ? RETURNING id",
                                (token_id, user_id)).fetchone() is not None

    def api_token_user(self, token_hash: str) -> User | None:
        row = self.conn.execute(
            "SELECT u.id, u.name, u.email, u.is_admin, u.created_at FROM api_tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?", (token_hash,)).fetchone()
        return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def set_vote(self, user_id: int, paper_id: str, up: bool) -> int:
        """Add (up) or remove a user's vote; idempotent. Returns the paper's shown count."""
        with self._write() as conn:
            if up:
                conn.execute(
                    "INSERT INTO votes (user_id, paper_id, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING", (user_id, paper_id, _now()))
            else:
                conn.execute("DELETE FROM votes WHERE user_id = ? AND paper_id = ?",
                             (user_id, paper_id))
            return conn.execute(
                f"SELECT p.upvotes + {_LOCAL_VOTES} FROM papers p WHERE p.id = ?", (paper_id,)
            ).fetchone()[0]

    def local_votes(self, ids: Iterable[str]) -> dict[str, int]:
        """Local vote counts for these papers (papers without votes are left out)."""
        ids = list(ids)
        found: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(self.conn.execute(
                f"SELECT paper_id, count(*) FROM votes WHERE paper_id IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY paper_id", chunk).fetchall())
        return found

    def voted_by(self, user_id: int, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(r[0] for r in self.conn.execute(
                f"SELECT paper_id FROM votes WHERE user_id = ? AND paper_id IN "
                f"({', '.join('?' * len(chunk))})", [user_id, *chunk]).fetchall())
        return found

    def ranked_between(self, first: date, last: date, limit: int | None = None,
                       offset: int = 0, newest_first: bool = False) -> list[tuple[Paper, int]]:
        """Feed papers of days `first`..`last` with their local vote counts, most votes
        (upstream + local) first; with `newest_first`, by feed day first, then votes."""
        head, tail = _SELECT_PAPER.split(" FROM ", 1)
        order = "day DESC, total DESC" if newest_first else "total DESC, day DESC"
        rows = self.conn.execute(
            f"SELECT * FROM (SELECT {head.removeprefix('SELECT ')}, {_LOCAL_VOTES} AS local, "
            f"p.upvotes + {_LOCAL_VOTES} AS total FROM {tail} WHERE e.day BETWEEN ? AND ?) "
            f"AS ranked ORDER BY {order}, id DESC LIMIT ? OFFSET ?",
            (_iso(first), _iso(last), NO_LIMIT if limit is None else limit, offset),
        ).fetchall()
        return [(_row_to_paper(row[:-2]), row[-2]) for row in rows]

    def first_day(self) -> date | None:
        return _day(self.conn.execute("SELECT min(day) FROM feed_entries").fetchone()[0])

    def remove_from_feed(self, paper_id: str) -> bool:
        """Take a paper out of the daily feed (moderation); the paper itself stays stored."""
        with self._write() as conn:
            return conn.execute("DELETE FROM feed_entries WHERE paper_id = ? RETURNING paper_id",
                                (paper_id,)).fetchone() is not None

    def hit_rate_limit(self, key: str, window_seconds: int, now: float) -> int:
        """Count one attempt for `key` in the current fixed window; the window's count so far."""
        window = int(now // window_seconds)
        with self._write() as conn:
            conn.execute("DELETE FROM rate_limits WHERE key = ? AND win < ?", (key, window))
            return conn.execute(
                "INSERT INTO rate_limits (key, win, hits) VALUES (?, ?, 1) "
                "ON CONFLICT (key, win) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
                (key, window)).fetchone()[0]

    def signin_failures(self, name_key: str, address: str, since: float
                        ) -> tuple[int, float | None, int]:
        """Wrong passwords for a name since `since`: (how many, when the last, how many of
        them from `address`)."""
        count, last, mine = self.conn.execute(
            "SELECT count(*), max(at), coalesce(sum(CASE WHEN address = ? THEN 1 ELSE 0 END), 0) "
            "FROM signin_failures WHERE name_key = ? AND at >= ?",
            (address, name_key, since)).fetchone()
        return count, last, int(mine)

    def add_signin_failure(self, name_key: str, address: str, at: float,
                           forget_before: float) -> None:
        """Record one wrong password; failures older than `forget_before` no longer count."""
        with self._write() as conn:
            conn.execute("DELETE FROM signin_failures WHERE at < ?", (forget_before,))
            conn.execute("INSERT INTO signin_failures (name_key, address, at) VALUES (?, ?, ?)",
                         (name_key, address, at))

    def forget_signin_failures(self, name_key: str, address: str) -> None:
        """A right password: this address's wrong ones for the name stop counting (others'
        still do)."""
        with self._write() as conn:
            conn.execute("DELETE FROM signin_failures WHERE name_key = ? AND address = ?",
                         (name_key, address))

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
        # TRUE, not 1: PostgreSQL refuses "WHERE 1" (an integer is not a boolean there).
        where, params = ("status = ?", (status,)) if status else ("TRUE", ())
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
            # Insert first, so two requests for a new address at once cannot both insert it.
            inserted = conn.execute(
                "INSERT INTO subscribers (email, name, status, frequency, include_top, nonce, "
                "created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?) "
                "ON CONFLICT (email) DO NOTHING RETURNING id",
                (email, name, frequency, int(include_top), nonce, now, now),
            ).fetchone()
            if inserted is not None:
                sid, before = inserted[0], None
                self._replace_topics(conn, sid, topics)
            else:
                sid, before = conn.execute("SELECT id, status FROM subscribers WHERE email = ?",
                                           (email,)).fetchone()
                if before in ("pending", "unsubscribed", "bouncing"):
                    conn.execute(
                        "UPDATE subscribers SET name = ?, status = 'pending', frequency = ?, "
                        "include_top = ?, nonce = ?, updated_at = ? WHERE id = ?",
                        (name, frequency, int(include_top), nonce, now, sid),
                    )
                    self._replace_topics(conn, sid, topics)
            return self._subscribers_where(conn, "id = ?", (sid,))[0], before

    def claim_subscription_mail(self, email: str, name: str, frequency: str, include_top: bool,
                                topics: list[str], nonce: str, now: datetime,
                                interval: timedelta) -> tuple[object, str | None, bool]:
        """Record a subscription request and claim the one request mail (confirmation or
        notice) an address may get per `interval`: (subscriber, status before, claimed).

        One transaction, and the claim is one conditional UPDATE: of many requests at once,
        on any number of processes, exactly one finds the last mail older than `interval`
        and stamps it. A request that loses changes nothing (the link in the mail that just
        went out must keep working). Otherwise as `request_subscription`.
        """
        stamp = _stamp(now)
        with self._write() as conn:
            inserted = conn.execute(
                "INSERT INTO subscribers (email, name, status, frequency, include_top, nonce, "
                "created_at, updated_at, confirm_sent_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, "
                "?, ?) ON CONFLICT (email) DO NOTHING RETURNING id",
                (email, name, frequency, int(include_top), nonce, stamp, stamp, stamp),
            ).fetchone()
            if inserted is not None:
                self._replace_topics(conn, inserted[0], topics)
                return self._subscribers_where(conn, "id = ?", (inserted[0],))[0], None, True
            claimed = conn.execute(
                "UPDATE subscribers SET confirm_sent_at = ? WHERE email = ? AND "
                "(confirm_sent_at IS NULL OR confirm_sent_at <= ?) RETURNING id, status",
                (stamp, email, _stamp(now - interval)),
            ).fetchone()
            if claimed is None:
                known = self._subscribers_where(conn, "email = ?", (email,))[0]
                return known, known.status, False
            sid, before = claimed
            if before in ("pending", "unsubscribed", "bouncing"):
                conn.execute(
                    "UPDATE subscribers SET name = ?, status = 'pending', frequency = ?, "
                    "include_top = ?, nonce = ?, updated_at = ? WHERE id = ?",
                    (name, frequency, int(include_top), nonce, stamp, sid),
                )
                self._replace_topics(conn, sid, topics)
            return self._subscribers_where(conn, "id = ?", (sid,))[0], before, True

    def release_subscription_mail(self, subscriber_id: int, claimed: datetime) -> None:
        """Give back a claim whose mail the SMTP server refused, so the next request may send;
        a newer claim is left alone."""
        with self._write() as conn:
            conn.execute("UPDATE subscribers SET confirm_sent_at = NULL "
                         "WHERE id = ? AND confirm_sent_at = ?", (subscriber_id, _stamp(claimed)))

    def mark_confirmation_sent(self, subscriber_id: int, when: datetime | None = None) -> None:
        stamp = _stamp(when or datetime.now(timezone.utc))
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
                "status = CASE WHEN status IN ('active', 'paused') THEN ? ELSE status END "
                "WHERE id = ?",
                (frequency, int(include_top), _now(), "paused" if paused else "active",
                 subscriber_id),
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
            "INSERT INTO sent_papers (subscriber_id, paper_id, period) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(subscriber_id, pid, period) for pid in paper_ids])
        conn.execute(
            "UPDATE subscribers SET covered_through = ? "
            "WHERE id = ? AND (covered_through IS NULL OR covered_through < ?)",
            (_iso(covered_through), subscriber_id, _iso(covered_through)))

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
            "ORDER BY id", (subscriber_id,)).fetchall()

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
        key = f"lock:{name}"
        with self._write() as conn:
            row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
            if row and json.loads(row[0]).get("id") == holder_id:
                conn.execute("DELETE FROM state WHERE key = ?", (key,))
