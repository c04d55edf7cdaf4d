"""Move a whole deployment from one store to another (SQLite to PostgreSQL, usually).

    paperboy migrate-store --from sqlite:///srv/paperboy.sqlite3 --to postgresql://pb@db/pb

Tables are copied in the order their migrations created them (so foreign keys hold), in
primary-key order and in batches, each batch one transaction with `ON CONFLICT DO NOTHING`:
a rerun after an interruption starts each table after the largest key already there and never
duplicates a row. At the end every table's row count must match, or the command says which not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from paperboy.store import StoreError

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

BATCH = 5000
MARK = "migrate-store:"  # state keys in the target: the last key copied per table


@dataclass
class TableCopy:
    name: str
    source_rows: int
    copied: int
    target_rows: int


def _sqlite_tables(source: SQLStore) -> list[tuple[str, list[str], list[str]]]:
    """(table, primary-key columns, copyable columns) in creation order."""
    tables = []
    for (name,) in source.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY rowid"
    ).fetchall():
        info = source.conn.execute(f"PRAGMA table_xinfo({name})").fetchall()
        # table_xinfo: cid, name, type, notnull, default, pk, hidden (2/3: generated column)
        columns = [row[1] for row in info if row[6] == 0]
        pk = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5] > 0]
        tables.append((name, pk, columns))
    return tables


def copy_store(
    source: SQLStore, target: SQLStore, on_progress: Callable[[str, int], None] | None = None
) -> list[TableCopy]:
    """Copy every table of an SQLite `source` into `target`; resumable; counts verified."""
    if source.dialect != "sqlite":
        raise StoreError("migrate-store copies from an SQLite store (sqlite:///path)")
    report = []
    for name, pk, columns in _sqlite_tables(source):
        report.append(_copy_table(source, target, name, pk, columns, on_progress))
    target.delete_state_prefix(MARK)
    report = [replace(t, target_rows=_count(target, t.name)) for t in report]
    wrong = [t for t in report if t.source_rows != t.target_rows]
    if wrong:
        details = ", ".join(
            f"{t.name}: {t.source_rows} in source, {t.target_rows} in target" for t in wrong
        )
        raise StoreError(f"row counts differ after the copy ({details}); run the command again")
    target.after_bulk_copy([(name, pk) for name, pk, _ in _sqlite_tables(source)])
    return report


def _copy_table(
    source: SQLStore,
    target: SQLStore,
    name: str,
    pk: list[str],
    columns: list[str],
    on_progress: Callable[[str, int], None] | None,
) -> TableCopy:
    total = _count(source, name)
    column_list = ", ".join(columns)
    placeholders = ", ".join("?" * len(columns))
    insert = (
        f"INSERT INTO {name} ({column_list}) {target.insert_override} "
        f"VALUES ({placeholders}) ON CONFLICT DO NOTHING"
    )
    copied = 0
    if len(pk) == 1:
        # Resume after the last key copied, as the source orders keys (the target's collation
        # may order text differently), saved in the target with each batch.
        key, mark = pk[0], f"{MARK}{name}"
        last = json.loads(target.get_state(mark) or "null")
        while True:
            where, params = (f"WHERE {key} > ?", (last,)) if last is not None else ("", ())
            rows = source.conn.execute(
                f"SELECT {column_list} FROM {name} {where} ORDER BY {key} LIMIT {BATCH}", params
            ).fetchall()
            if not rows:
                break
            last = rows[-1][columns.index(key)]
            with target.transaction() as conn:
                conn.executemany(insert, rows)
                target.set_state(mark, json.dumps(last), conn=conn)
            copied += len(rows)
            if on_progress:
                on_progress(name, copied)
    else:
        # A composite key (or none: rowid): no single value to resume from, so each rerun copies
        # the table again and the conflicts make that harmless.
        order = ", ".join(pk) if pk else "rowid"
        offset = 0
        while True:
            rows = source.conn.execute(
                f"SELECT {column_list} FROM {name} ORDER BY {order} LIMIT {BATCH} OFFSET {offset}"
            ).fetchall()
            if not rows:
                break
            with target.transaction() as conn:
                conn.executemany(insert, rows)
            copied += len(rows)
            offset += len(rows)
            if on_progress:
                on_progress(name, copied)
    return TableCopy(name, total, copied, _count(target, name))


def _count(store: SQLStore, table: str) -> int:
    count: int = store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return count
