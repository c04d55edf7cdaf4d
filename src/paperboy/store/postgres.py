"""The PostgreSQL store, for deployments that outgrow one SQLite file.

Same domain methods (store/sql.py), same migrations path (store/migrations/postgres/); only the
connection differs: a psycopg 3 connection pool, shared by the threads of one process, and
transactions that serialise where SQLite's single writer did implicitly (paper upserts and
migrations take an advisory lock; votes and the rest rely on row locks and constraints).

    PAPERBOY_DATABASE_URL=postgresql://paperboy@localhost/paperboy paperboy serve
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from paperboy.store import StoreError
from paperboy.store.connection import Connection, Reader
from paperboy.store.sql import SQLStore

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

_LOCK_SCHEMA = 7_243_001
_LOCK_PAPERS = 7_243_002


@lru_cache(maxsize=512)
def _to_pyformat(sql: str) -> str:
    """`?` placeholders (shared SQL) to psycopg's `%s`, escaping literal percent signs."""
    return sql.replace("%", "%%").replace("?", "%s")


def redact(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class _Result:
    """Rows fetched on a pooled connection that has already gone back to the pool."""

    def __init__(self, cursor: psycopg.Cursor[Any]):
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self._rows = cursor.fetchall() if cursor.description else []
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class _Reader:
    """Autocommit reads: each statement borrows a pooled connection for its own duration."""

    def __init__(self, pool: ConnectionPool[Any]):
        self._pool = pool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Result:
        with self._pool.connection() as conn:
            return _Result(conn.execute(_to_pyformat(sql), params))


class _Transaction:
    """The statements of one `transaction()` block, on one connection, in one transaction."""

    def __init__(self, conn: psycopg.Connection[Any]):
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self._conn.execute(_to_pyformat(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(_to_pyformat(sql), rows)

    def copy_binary(self, table: str, columns: list[str], payload: bytes) -> None:
        """COPY a ready-made binary-format stream into a table (search/postgres/)."""
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.write(payload)

    def copy_rows(self, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
        """COPY rows into a table: the fast path for bulk loads (search/postgres/)."""
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


class PostgresStore(SQLStore):
    dialect = "postgres"

    def __init__(self, url: str, max_connections: int = 10):
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:  # pragma: no cover - depends on the install
            raise StoreError(
                "PAPERBOY_DATABASE_URL names PostgreSQL, but psycopg is not installed: "
                "pip install 'paperboy[postgres]'"
            ) from None
        self.location = redact(url)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            open=False,
            kwargs={"autocommit": True},
            name="paperboy",
        )
        try:
            self._pool.open(wait=True, timeout=15)
        except (psycopg.Error, Exception) as exc:  # PoolTimeout hides the cause in its message
            self._pool.close()
            raise StoreError(f"cannot connect to PostgreSQL at {self.location}: {exc}") from None
        self._reader = _Reader(self._pool)
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    @property
    def conn(self) -> _Reader:
        return self._reader

    def close(self) -> None:
        self._pool.close()

    def columns(self) -> dict[str, list[str]]:
        """Each table of the store with its column names, in order (tests compare backends)."""
        found: dict[str, list[str]] = {}
        for table, column in self.conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall():
            found.setdefault(table, []).append(column)
        return found

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        """One transaction on one pooled connection: committed when the block ends, rolled
        back when it raises."""
        with self._pool.connection() as conn, conn.transaction():
            yield _Transaction(conn)

    @contextmanager
    def advisory_lock(self, key: int, wait: bool = True) -> Iterator[bool]:
        """A session-level advisory lock, held on one pooled connection for the whole block:
        one holder at a time across every host. Yields whether it is held (with `wait=False`,
        False at once while another session holds it)."""
        with self._pool.connection() as conn:
            if wait:
                conn.execute("SELECT pg_advisory_lock(%s)", (key,))
                got = True
            else:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                got = bool(row and row[0])
            try:
                yield got
            finally:
                if got:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    # -- bulk copies (store/transfer.py) ------------------------------------------------------
    insert_override = "OVERRIDING SYSTEM VALUE"  # keep the source's ids in identity columns

    def after_bulk_copy(self, tables: list[tuple[str, list[str]]]) -> None:
        """Move each identity sequence past the largest copied id, so new rows don't collide."""
        with self.transaction() as conn:
            for name, pk in tables:
                if len(pk) != 1:
                    continue
                seq = conn.execute("SELECT pg_get_serial_sequence(?, ?)", (name, pk[0])).fetchone()
                if seq and seq[0]:
                    conn.execute(
                        f"SELECT setval(?, coalesce((SELECT max({pk[0]}) FROM {name}), 0) + 1, "
                        "false)",
                        (seq[0],),
                    )

    # -- schema ------------------------------------------------------------------------------
    def _lock_schema(self, conn: Connection) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_SCHEMA,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")

    def _lock_papers(self, conn: Connection) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_PAPERS,))

    def _schema_version(self, conn: Reader) -> int:
        # The table is created under the schema lock (`_lock_schema`) on the first open.
        version: int = conn.execute(
            "SELECT coalesce(max(version), 0) FROM schema_version"
        ).fetchone()[0]
        return version

    def _set_schema_version(self, conn: Connection, number: int) -> None:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
