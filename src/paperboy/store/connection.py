"""What a store connection answers, on either backend: the typed seam under `store/sql.py`.

    with store.transaction() as conn:          # conn: Connection
        conn.execute("UPDATE ... WHERE id = ?", (pid,)).rowcount

SQLite's `sqlite3.Connection` answers it as it is; PostgreSQL's pooled reader and transaction
(store/postgres.py) wrap psycopg to answer it with the same `?` placeholders. Rows are tuples
of whatever the driver returns (`Any`): the domain methods turn them into records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Reader(Protocol):
    """`store.conn`: reads, each statement on its own (autocommit)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...


class Connection(Reader, Protocol):
    """What `store.transaction()` yields: statements of one transaction."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...
