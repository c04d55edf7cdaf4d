"""Long id lists in `... IN (...)`, written once for every query of the store.

    for chunk, marks in in_chunks(ids):
        conn.execute(f"SELECT ... WHERE id IN ({marks})", chunk)

SQLite limits the parameters of one statement; a list of ids from a caller can be longer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

CHUNK = 500  # ids per statement: well under SQLite's parameter limit

T = TypeVar("T")


def in_chunks(ids: Sequence[T], size: int = CHUNK) -> Iterator[tuple[list[T], str]]:
    """`ids` in pieces of at most `size`, each with its `?, ?, ...` placeholders."""
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        yield chunk, ", ".join("?" * len(chunk))
