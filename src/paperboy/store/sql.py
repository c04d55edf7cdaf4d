"""The database object: one per deployment, with its repositories, in SQL that SQLite and
PostgreSQL both run.

    store = open_store(settings)                # SQLiteStore or PostgresStore
    store.papers.upsert(papers); store.papers.get("2405.15738")       # papers.py
    store.run_log.begin_run(...); store.accounts.set_vote(...)       # runs.py, accounts.py
    store.mail.claim_send(...)                                       # mail.py

Subclasses supply the connection: `conn` (autocommit reads) and `transaction()` (one
transaction), both answering `execute(sql, params)` / `executemany(sql, rows)` with `?`
placeholders, and `advisory_lock(key)` (one holder at a time across processes). This keeps one
copy of every query; only connection handling and migrations differ per backend. Here too:
migrations, small state (watermarks, tokens) and named locks. The repositories ask this object
for connections; code above the store (the PostgreSQL search tables, search/postgres/) uses
its public parts only. The methods of the repositories are also kept here under their old
names, each passing to its repository.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, timedelta
from functools import cached_property
from importlib import resources
from typing import Any

from paperboy.papers import Paper
from paperboy.records import SendClaim, Subscriber
from paperboy.store import Run, StoreError, UpsertResult
from paperboy.store.accounts import Accounts, ApiToken, User
from paperboy.store.authors import fill_author_names
from paperboy.store.connection import Connection, Reader
from paperboy.store.mail import Mail
from paperboy.store.papers import Papers
from paperboy.store.runs import Runs
from paperboy.store.submissions import SubmissionQueue

# Data steps: Python run once after the SQL of a migration, in its transaction, for data the
# SQL cannot compute on both dialects (normalized author names fold accents: store/authors.py).
DATA_STEPS: dict[int, Callable[[Connection], None]] = {16: fill_author_names}


class SQLStore(SubmissionQueue, ABC):
    """The database: connections, migrations, state, locks and the repositories (papers, runs,
    accounts, mail). Subclasses: SQLiteStore, PostgresStore. The submissions queue's methods
    live in store/submissions.py."""

    dialect: str  # names the folder of migrations: store/migrations/<dialect>/NNNN_name.sql
    location: str  # where the data is, for messages (a path, or a URL without its password)

    # -- what each backend supplies ----------------------------------------------------------
    @property
    @abstractmethod
    def conn(self) -> Reader:
        """Reads, each statement on its own (autocommit)."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""

    @abstractmethod
    def advisory_lock(self, key: int, wait: bool = True) -> AbstractContextManager[bool]:
        """One holder at a time of lock `key` across processes (and hosts, on PostgreSQL);
        yields whether it is held (with `wait=False`, False at once when it is not free)."""

    @abstractmethod
    def close(self) -> None:
        """Close the store's connections."""

    @abstractmethod
    def columns(self) -> dict[str, list[str]]:
        """Each table of the store with its column names, in order (tests compare backends)."""

    @abstractmethod
    def _schema_version(self, conn: Reader) -> int: ...

    @abstractmethod
    def _set_schema_version(self, conn: Connection, number: int) -> None: ...

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Apply the numbered migration scripts newer than the store's schema version, each
        with its data step (DATA_STEPS), if it has one."""
        folder = resources.files("paperboy.store") / "migrations" / self.dialect
        scripts = sorted(
            (int(f.name.split("_", 1)[0]), f) for f in folder.iterdir() if f.name.endswith(".sql")
        )
        newest = scripts[-1][0] if scripts else 0
        with self.transaction() as conn:  # one process migrates; the others wait, then see it done
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
                if number in DATA_STEPS:
                    DATA_STEPS[number](conn)
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

    @contextmanager
    def schema_transaction(self) -> Iterator[Connection]:
        """A transaction holding the migrations' lock, for schema made outside the numbered
        migrations (the pgvector table of search/postgres/, which needs an extension the rest
        of the store does not)."""
        with self.transaction() as conn:
            self._lock_schema(conn)
            yield conn

    def _lock_schema(self, conn: Connection) -> None:
        """Serialise migrations across processes (SQLite's write transaction already does)."""

    def _lock_papers(self, conn: Connection) -> None:
        """Serialise paper upserts, which read, merge and number changes (see PostgresStore)."""

    # -- the repositories --------------------------------------------------------------------
    @cached_property
    def papers(self) -> Papers:
        return Papers(self)

    @cached_property
    def run_log(self) -> Runs:
        """The runs (`store.runs(limit)` stays the list of the latest)."""
        return Runs(self)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self)

    @cached_property
    def mail(self) -> Mail:
        return Mail(self)

    # -- small state (sync watermarks, harvest tokens) ---------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str, conn: Connection | None = None) -> None:
        """Save a value; with `conn`, inside that caller's open transaction."""
        if conn is None:
            with self.transaction() as own:
                self.set_state(key, value, own)
            return
        conn.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete_state_prefix(self, prefix: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM state WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))

    def take_lock(
        self, name: str, holder: dict[str, Any], is_stale: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        """Take a named lock (kept in `state`); returns None, or the live holder's record.

        `is_stale(record)` decides whether a recorded holder is gone (a crashed process).
        """
        key = f"lock:{name}"
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
            if row:
                current: dict[str, Any] = json.loads(row[0])
                if not is_stale(current):
                    return current
            conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(holder)),
            )
            return None

    def release_lock(self, name: str, holder_id: str) -> None:
        key = f"lock:{name}"
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
            if row and json.loads(row[0]).get("id") == holder_id:
                conn.execute("DELETE FROM state WHERE key = ?", (key,))

    # -- the old names -----------------------------------------------------------------------
    # Each passes to its repository, so callers written before the repositories (and branches
    # still being merged) keep working; new code asks the repository itself.
    # Papers (papers.py)
    def upsert(
        self,
        papers: Iterable[Paper],
        run: Run | None = None,
        checkpoint: dict[str, Any] | None = None,
        rejections: Sequence[tuple[str, str]] = (),
    ) -> UpsertResult:
        return self.papers.upsert(papers, run, checkpoint, rejections)

    def get(self, paper_id: str) -> Paper | None:
        return self.papers.get(paper_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, Paper]:
        return self.papers.get_many(ids)

    def count_papers(self) -> int:
        return self.papers.count_papers()

    def iter_papers(self, batch: int = 5000) -> Iterator[Paper]:
        return self.papers.iter_papers(batch)

    def changed_since(self, seq: int, limit: int = 5000) -> list[tuple[int, Paper]]:
        return self.papers.changed_since(seq, limit)

    def count_changed_since(self, seq: int) -> int:
        return self.papers.count_changed_since(seq)

    def all_paper_ids(self) -> list[str]:
        return self.papers.all_paper_ids()

    def max_seq(self) -> int:
        return self.papers.max_seq()

    def papers_between(
        self, first: date, last: date, limit: int | None = None, offset: int = 0
    ) -> list[Paper]:
        return self.papers.papers_between(first, last, limit, offset)

    def papers_on(self, day: date, limit: int | None = None, offset: int = 0) -> list[Paper]:
        return self.papers.papers_on(day, limit, offset)

    def count_between(self, first: date, last: date) -> int:
        return self.papers.count_between(first, last)

    def latest_day(self) -> date | None:
        return self.papers.latest_day()

    def day_before(self, day: date) -> date | None:
        return self.papers.day_before(day)

    def day_after(self, day: date) -> date | None:
        return self.papers.day_after(day)

    def ranked_between(
        self,
        first: date,
        last: date,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[tuple[Paper, int]]:
        return self.papers.ranked_between(first, last, limit, offset, newest_first)

    def first_day(self) -> date | None:
        return self.papers.first_day()

    def remove_from_feed(self, paper_id: str) -> bool:
        return self.papers.remove_from_feed(paper_id)

    # Runs (runs.py)
    def begin_run(
        self, kind: str, source: str, fingerprint: str, resume_failed: bool = False
    ) -> Run:
        return self.run_log.begin_run(kind, source, fingerprint, resume_failed)

    def finish_run(self, run: Run, status: str = "done", message: str | None = None) -> None:
        return self.run_log.finish_run(run, status, message)

    def rejections(self, run_id: int, limit: int = 20) -> list[tuple[str, str]]:
        return self.run_log.rejections(run_id, limit)

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return self.run_log.latest(limit)

    # Accounts (accounts.py)
    def create_user(
        self, name: str, password_hash: str, email: str | None = None, is_admin: bool = False
    ) -> User:
        return self.accounts.create_user(name, password_hash, email, is_admin)

    def user_by_name(self, name: str) -> User | None:
        return self.accounts.user_by_name(name)

    def credentials(self, name: str) -> tuple[User, str] | None:
        return self.accounts.credentials(name)

    def set_admin(self, name: str, is_admin: bool) -> User | None:
        return self.accounts.set_admin(name, is_admin)

    def users(self) -> list[User]:
        return self.accounts.users()

    def create_session(self, user_id: int, token_hash: str, expires_at: datetime) -> None:
        return self.accounts.create_session(user_id, token_hash, expires_at)

    def session_user(self, token_hash: str) -> User | None:
        return self.accounts.session_user(token_hash)

    def delete_session(self, token_hash: str) -> None:
        return self.accounts.delete_session(token_hash)

    def create_api_token(self, user_id: int, name: str, token_hash: str) -> ApiToken:
        return self.accounts.create_api_token(user_id, name, token_hash)

    def api_tokens(self, user_id: int) -> list[ApiToken]:
        return self.accounts.api_tokens(user_id)

    def revoke_api_token(self, user_id: int, token_id: int) -> bool:
        return self.accounts.revoke_api_token(user_id, token_id)

    def api_token_user(self, token_hash: str) -> User | None:
        return self.accounts.api_token_user(token_hash)

    def set_vote(self, user_id: int, paper_id: str, up: bool) -> int:
        return self.accounts.set_vote(user_id, paper_id, up)

    def local_votes(self, ids: Iterable[str]) -> dict[str, int]:
        return self.accounts.local_votes(ids)

    def voted_by(self, user_id: int, ids: Iterable[str]) -> set[str]:
        return self.accounts.voted_by(user_id, ids)

    def hit_rate_limit(self, key: str, window_seconds: int, now: float) -> int:
        return self.accounts.hit_rate_limit(key, window_seconds, now)

    def signin_failures(
        self, name_key: str, address: str, since: float
    ) -> tuple[int, float | None, int]:
        return self.accounts.signin_failures(name_key, address, since)

    def add_signin_failure(
        self, name_key: str, address: str, at: float, forget_before: float
    ) -> None:
        return self.accounts.add_signin_failure(name_key, address, at, forget_before)

    def forget_signin_failures(self, name_key: str, address: str) -> None:
        return self.accounts.forget_signin_failures(name_key, address)

    # Mail (mail.py)
    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        return self.mail.subscriber(subscriber_id)

    def subscriber_by_email(self, email: str) -> Subscriber | None:
        return self.mail.subscriber_by_email(email)

    def subscribers(
        self, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Subscriber]:
        return self.mail.subscribers(status, limit, offset)

    def count_subscribers(self) -> dict[str, int]:
        return self.mail.count_subscribers()

    def due_subscribers(
        self, frequencies: Iterable[str], email: str | None = None
    ) -> list[Subscriber]:
        return self.mail.due_subscribers(frequencies, email)

    def request_subscription(
        self,
        email: str,
        name: str,
        frequency: str,
        include_top: bool,
        topics: list[str],
        nonce: str,
    ) -> tuple[Subscriber, str | None]:
        return self.mail.request_subscription(email, name, frequency, include_top, topics, nonce)

    def claim_subscription_mail(
        self,
        email: str,
        name: str,
        frequency: str,
        include_top: bool,
        topics: list[str],
        nonce: str,
        now: datetime,
        interval: timedelta,
    ) -> tuple[Subscriber, str | None, bool]:
        return self.mail.claim_subscription_mail(
            email, name, frequency, include_top, topics, nonce, now, interval
        )

    def release_subscription_mail(self, subscriber_id: int, claimed: datetime) -> None:
        return self.mail.release_subscription_mail(subscriber_id, claimed)

    def mark_confirmation_sent(self, subscriber_id: int, when: datetime | None = None) -> None:
        return self.mail.mark_confirmation_sent(subscriber_id, when)

    def confirm_subscriber(self, subscriber_id: int, nonce: str) -> Subscriber | None:
        return self.mail.confirm_subscriber(subscriber_id, nonce)

    def update_subscriber(
        self, subscriber_id: int, frequency: str, include_top: bool, paused: bool, topics: list[str]
    ) -> None:
        return self.mail.update_subscriber(subscriber_id, frequency, include_top, paused, topics)

    def unsubscribe(self, subscriber_id: int) -> bool:
        return self.mail.unsubscribe(subscriber_id)

    def forget_subscriber(self, subscriber_id: int) -> bool:
        return self.mail.forget_subscriber(subscriber_id)

    def finished_sends(self, period: str) -> set[int]:
        return self.mail.finished_sends(period)

    def claim_send(self, subscriber_id: int, period: str, message_id: str) -> SendClaim | None:
        return self.mail.claim_send(subscriber_id, period, message_id)

    def record_sent(
        self, subscriber_id: int, period: str, paper_ids: list[str], covered_through: date
    ) -> None:
        return self.mail.record_sent(subscriber_id, period, paper_ids, covered_through)

    def record_empty(self, subscriber_id: int, period: str, covered_through: date) -> None:
        return self.mail.record_empty(subscriber_id, period, covered_through)

    def record_deferred(
        self, subscriber_id: int, period: str, code: int | None, error: str
    ) -> None:
        return self.mail.record_deferred(subscriber_id, period, code, error)

    def record_rejected(
        self, subscriber_id: int, period: str, code: int | None, error: str, bounce_limit: int
    ) -> str:
        return self.mail.record_rejected(subscriber_id, period, code, error, bounce_limit)

    def sent_paper_ids(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        return self.mail.sent_paper_ids(subscriber_id, paper_ids)

    def forget_sent_papers(self, entered_before: date) -> int:
        return self.mail.forget_sent_papers(entered_before)

    def send_log(
        self, period: str | None = None, subscriber_id: int | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        return self.mail.send_log(period, subscriber_id, limit)

    def send_log_summary(self, periods: int = 10) -> list[tuple[str, str, int]]:
        return self.mail.send_log_summary(periods)

    def bounces(self, subscriber_id: int) -> list[tuple[str | None, int | None, str, str]]:
        return self.mail.bounces(subscriber_id)
