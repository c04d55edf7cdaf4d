"""The SQLite store: one file in WAL mode, one writer at a time, readers never blocked.

Each thread gets its own connection; every write goes through `transaction()`, which takes a
process-wide lock and an IMMEDIATE transaction, so a batch of papers and the checkpoint of the
run that wrote it commit together or not at all. The queries themselves live in `store/sql.py`.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paperboy.store import StoreError
from paperboy.store.connection import Connection, Reader
from paperboy.store.sql import SQLStore


class SQLiteStore(SQLStore):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.location = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the data directory {self.path.parent}: {exc}"
            ) from None
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
        self.close_thread()

    def close_thread(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction, one writer at a time in this process (and SQLite's lock
        across processes): committed when the block ends, rolled back when it raises."""
        with self._write_lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def advisory_lock(self, key: int, wait: bool = True) -> Iterator[bool]:
        """One holder at a time across the processes sharing this database: a file lock
        beside it, `<database>.lock-<key>`. Yields whether it is held (with `wait=False`,
        False at once while another process holds it)."""
        with open(self.path.with_name(f"{self.path.name}.lock-{int(key)}"), "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- schema ------------------------------------------------------------------------------
    dialect = "sqlite"

    def columns(self) -> dict[str, list[str]]:
        """Each table of the store with its column names, in order (tests compare backends)."""
        tables = [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            t: [r[1] for r in self.conn.execute(f"PRAGMA table_xinfo({t})")] for t in sorted(tables)
        }

    def _schema_version(self, conn: Reader) -> int:
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        return version

    def _set_schema_version(self, conn: Connection, number: int) -> None:
        conn.execute(f"PRAGMA user_version={int(number)}")
