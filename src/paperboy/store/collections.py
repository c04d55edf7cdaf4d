"""Collections (reading lists) in the store (migration 0011): named, private or public, with a
note per paper.

    shelf = Collections(store)
    c = shelf.create(user.id, "To read", public=False)
    shelf.add(c.id, user.id, "2405.15738", note="their ablation in section 4")
    shelf.papers(c.id)                      # [(paper id, note, added_at)], newest first

A small repository over the store's connection helpers (`store.conn` for reads,
`store.transaction()` for one transaction); both backends run the same SQL. Every write names the
owner, so a user can only change their own collections; who may *read* one (its owner, or
anyone when public) is the web layer's rule (web/collections.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paperboy.store import StoreError
from paperboy.store.connection import Connection, Reader
from paperboy.store.rows import now_iso as _now

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

MAX_NAME = 100
MAX_NOTE = 2000
_COLUMNS = (
    "c.id, c.user_id, u.name, c.name, c.is_public, c.created_at, c.modified_at, "
    "(SELECT count(*) FROM collection_papers cp WHERE cp.collection_id = c.id)"
)
_SELECT = f"SELECT {_COLUMNS} FROM collections c JOIN users u ON u.id = c.user_id"


class CollectionNameTaken(StoreError):
    """The user already has a collection of this name."""


class CollectionLimit(StoreError):
    """A cap would be passed: the user's number of collections, or a collection's papers."""


@dataclass(frozen=True, slots=True)
class Collection:
    id: int
    user_id: int
    owner: str  # the owner's user name, shown on public pages
    name: str
    is_public: bool
    created_at: str
    modified_at: str
    size: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One paper in a collection."""

    paper_id: str
    note: str
    added_at: str


def _collection(row: tuple[Any, ...]) -> Collection:
    return Collection(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], row[7])


class Collections:
    def __init__(self, store: SQLStore):
        self.store = store

    def create(
        self, user_id: int, name: str, public: bool = False, most: int | None = None
    ) -> Collection:
        """A new collection; CollectionLimit when the user has `most` already (counted under
        a lock on the user's row, so concurrent requests cannot pass it together)."""
        now = _now()
        with self.store.transaction() as conn:
            if most is not None:
                conn.execute("UPDATE users SET name = name WHERE id = ?", (user_id,))  # lock
                count = conn.execute(
                    "SELECT count(*) FROM collections WHERE user_id = ?", (user_id,)
                ).fetchone()[0]
                if count >= most:
                    raise CollectionLimit(
                        f"you have {count} collections, the most allowed here ({most}): "
                        "delete one, or add to one you have"
                    )
            row = conn.execute(
                "INSERT INTO collections (user_id, name, is_public, created_at, modified_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, name) DO NOTHING RETURNING id",
                (user_id, name, int(public), now, now),
            ).fetchone()
            if row is None:
                raise CollectionNameTaken(f"you have a collection named {name!r} already")
            created = self._get(conn, row[0])
            assert created is not None  # inserted just now, in this transaction
            return created

    def _get(self, conn: Reader, collection_id: int) -> Collection | None:
        row = conn.execute(f"{_SELECT} WHERE c.id = ?", (collection_id,)).fetchone()
        return _collection(row) if row else None

    def get(self, collection_id: int) -> Collection | None:
        return self._get(self.store.conn, collection_id)

    def of_user(self, user_id: int, public_only: bool = False) -> list[Collection]:
        where = "c.user_id = ?" + (" AND c.is_public = 1" if public_only else "")
        rows = self.store.conn.execute(
            f"{_SELECT} WHERE {where} ORDER BY c.modified_at DESC, c.id DESC", (user_id,)
        )
        return [_collection(r) for r in rows.fetchall()]

    def update(
        self, collection_id: int, user_id: int, name: str | None = None, public: bool | None = None
    ) -> Collection | None:
        """Rename or change who sees it; None when the user has no such collection."""
        with self.store.transaction() as conn:
            found = self._get(conn, collection_id)
            if found is None or found.user_id != user_id:
                return None
            name = found.name if name is None else name
            public = found.is_public if public is None else public
            taken = conn.execute(
                "SELECT 1 FROM collections WHERE user_id = ? AND name = ? AND id <> ?",
                (user_id, name, collection_id),
            ).fetchone()
            if taken:
                raise CollectionNameTaken(f"you have a collection named {name!r} already")
            conn.execute(
                "UPDATE collections SET name = ?, is_public = ?, modified_at = ? WHERE id = ?",
                (name, int(public), _now(), collection_id),
            )
            return self._get(conn, collection_id)

    def delete(self, collection_id: int, user_id: int) -> bool:
        with self.store.transaction() as conn:
            return (
                conn.execute(
                    "DELETE FROM collections WHERE id = ? AND user_id = ? RETURNING id",
                    (collection_id, user_id),
                ).fetchone()
                is not None
            )

    def add(
        self,
        collection_id: int,
        user_id: int,
        paper_id: str,
        note: str = "",
        most: int | None = None,
    ) -> bool:
        """Save a stored paper (or change its note); False when the paper is not stored or the
        collection is not this user's. CollectionLimit when the paper is new to a collection
        that holds `most` papers already (counted under a lock on the collection's row)."""
        now = _now()
        with self.store.transaction() as conn:
            if not self._owns(conn, collection_id, user_id):
                return False
            if most is not None:
                conn.execute(  # the row lock: concurrent saves to it count one after the other
                    "UPDATE collections SET modified_at = modified_at WHERE id = ?",
                    (collection_id,),
                )
                size = conn.execute(
                    "SELECT count(*), max(CASE WHEN paper_id = ? THEN 1 ELSE 0 END) "
                    "FROM collection_papers WHERE collection_id = ?",
                    (paper_id, collection_id),
                ).fetchone()
                if size[0] >= most and not size[1]:
                    raise CollectionLimit(
                        f"this collection holds {size[0]} papers, the most allowed here "
                        f"({most}): take some out, or save to another collection"
                    )
            row = conn.execute(
                "INSERT INTO collection_papers (collection_id, paper_id, note, added_at) "
                "SELECT ?, id, ?, ? FROM papers WHERE id = ? "
                "ON CONFLICT (collection_id, paper_id) DO UPDATE SET note = excluded.note "
                "RETURNING paper_id",
                (collection_id, note, now, paper_id),
            ).fetchone()
            if row is not None:
                self._touch(conn, collection_id, now)
            return row is not None

    def remove(self, collection_id: int, user_id: int, paper_id: str) -> bool:
        with self.store.transaction() as conn:
            if not self._owns(conn, collection_id, user_id):
                return False
            gone = (
                conn.execute(
                    "DELETE FROM collection_papers WHERE collection_id = ? AND paper_id = ? "
                    "RETURNING paper_id",
                    (collection_id, paper_id),
                ).fetchone()
                is not None
            )
            if gone:
                self._touch(conn, collection_id, _now())
            return gone

    @staticmethod
    def _owns(conn: Reader, collection_id: int, user_id: int) -> bool:
        return (
            conn.execute(
                "SELECT 1 FROM collections WHERE id = ? AND user_id = ?", (collection_id, user_id)
            ).fetchone()
            is not None
        )

    @staticmethod
    def _touch(conn: Connection, collection_id: int, now: str) -> None:
        conn.execute("UPDATE collections SET modified_at = ? WHERE id = ?", (now, collection_id))

    def entries(self, collection_id: int) -> list[Entry]:
        """The collection's papers, the latest saved first."""
        rows = self.store.conn.execute(
            "SELECT paper_id, note, added_at FROM collection_papers WHERE collection_id = ? "
            "ORDER BY added_at DESC, paper_id DESC",
            (collection_id,),
        ).fetchall()
        return [Entry(*row) for row in rows]

    def holding(self, user_id: int, paper_id: str) -> set[int]:
        """The ids of the user's collections that hold this paper (one query)."""
        rows = self.store.conn.execute(
            "SELECT cp.collection_id FROM collection_papers cp JOIN collections c "
            "ON c.id = cp.collection_id WHERE c.user_id = ? AND cp.paper_id = ?",
            (user_id, paper_id),
        )
        return {int(r[0]) for r in rows.fetchall()}

    def saved_by(self, user_id: int) -> list[str]:
        """Every paper in any of the user's collections (a "For you" seed)."""
        rows = self.store.conn.execute(
            "SELECT DISTINCT cp.paper_id FROM collection_papers cp JOIN collections c "
            "ON c.id = cp.collection_id WHERE c.user_id = ? ORDER BY cp.paper_id",
            (user_id,),
        )
        return [r[0] for r in rows.fetchall()]
