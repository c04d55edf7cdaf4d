"""The store: the only place that speaks SQL. Everything else asks it in domain words.

    store = open_store(settings)            # migrations are applied on open
    result = store.upsert(papers)           # idempotent: the same papers twice change nothing
    store.papers_on(date(2026, 8, 21))      # one day of the feed, most upvoted first

`open_store` picks the backend from the settings: SQLite (default, one file in the data dir)
or PostgreSQL (`PAPERBOY_DATABASE_URL=postgresql://...`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paperboy.config import Settings

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore


@dataclass
class UpsertResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    added_ids: list[str] = field(default_factory=list)

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass
class Run:
    """One import, sync or harvest. Counts and checkpoint are saved with each committed batch."""

    id: int
    kind: str
    source: str
    fingerprint: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    checkpoint: dict[str, Any] | None = None
    resumed: bool = False
    status: str = "running"
    message: str | None = None

    def count(self, result: UpsertResult) -> None:
        self.added += result.added
        self.updated += result.updated
        self.unchanged += result.unchanged

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected}"
        )


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message says what to do."""


def open_store(settings: Settings) -> SQLStore:
    url = settings.database_url
    if url.startswith(("postgresql://", "postgres://")):
        from paperboy.store.postgres import PostgresStore

        return PostgresStore(url)
    if url and not url.startswith("sqlite:///"):
        raise StoreError(
            f"unsupported PAPERBOY_DATABASE_URL {url!r}: expected empty (SQLite in the data "
            "dir), sqlite:///path or postgresql://user@host/dbname"
        )
    from paperboy.store.sqlite import SQLiteStore

    return SQLiteStore(settings.sqlite_path)
