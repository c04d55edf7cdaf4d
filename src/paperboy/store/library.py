"""A user's profile in the store (migrations 0011, 0017): their imported library, their "not
interested" dismissals, their upvotes, the token of their private "For you" feed, and whether
they proved to read their account's address (the digest's "For you" section needs it).

    lib = Library(store)
    lib.lookup_arxiv(["2405.15738"]), lib.lookup_dois(["10.1/x"]), lib.titles()   # matching
    lib.replace(user.id, [("2405.15738", "arxiv")])     # one transaction: all or nothing
    lib.seeds(user.id)                                  # {paper id: "library"|"saved"|"upvoted"}
    lib.verify_email(user.id, "a@example.org")         # the signed link mailed to it
    lib.accounts_by_email(["a@example.org"])            # {address: user id}: verified only

A small repository over the store's connection helpers, like store/collections.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from paperboy.store import StoreError
from paperboy.store.accounts import User
from paperboy.store.chunks import in_chunks
from paperboy.store.rows import now_iso as _now

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

_SEED_RANK = {"upvoted": 0, "saved": 1, "library": 2}


class Library:
    def __init__(self, store: SQLStore):
        self.store = store

    # -- matching an upload to stored papers ---------------------------------------------------
    def lookup_arxiv(self, ids: Iterable[str]) -> set[str]:
        """Which of these arXiv ids are stored."""
        found: set[str] = set()
        for chunk, marks in in_chunks(sorted(set(ids))):
            found.update(
                r[0]
                for r in self.store.conn.execute(
                    f"SELECT id FROM papers WHERE id IN ({marks})", chunk
                ).fetchall()
            )
        return found

    def lookup_dois(self, dois: Iterable[str]) -> dict[str, str]:
        """Lower-cased DOI -> paper id, for the stored papers with one of these DOIs."""
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(sorted({d.lower() for d in dois})):
            found.update(
                self.store.conn.execute(
                    f"SELECT lower(doi), id FROM papers WHERE lower(doi) IN ({marks})",
                    chunk,
                ).fetchall()
            )
        return found

    def titles(self) -> Iterable[tuple[str, str]]:
        """(paper id, title) of every stored paper, for matching by normalised title: one
        pass at import time (75k titles read in well under a second)."""
        rows: list[tuple[str, str]] = self.store.conn.execute(
            "SELECT id, title FROM papers"
        ).fetchall()
        return rows

    # -- the library itself --------------------------------------------------------------------
    def replace(self, user_id: int, matches: list[tuple[str, str]]) -> int:
        """The user's library becomes exactly these (paper id, matched by) pairs, in one
        transaction: an upload never leaves half of itself behind. StoreError (and nothing
        changed) when a paper is not stored."""
        now, wanted = _now(), {pid for pid, _ in matches}
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM library_papers WHERE user_id = ?", (user_id,))
            conn.executemany(
                "INSERT INTO library_papers (user_id, paper_id, matched_by, added_at) "
                "SELECT ?, id, ?, ? FROM papers WHERE id = ? ON CONFLICT DO NOTHING",
                [(user_id, how, now, pid) for pid, how in matches],
            )
            kept: int = conn.execute(
                "SELECT count(*) FROM library_papers WHERE user_id = ?", (user_id,)
            ).fetchone()[0]
            if kept != len(wanted):
                raise StoreError(
                    f"{len(wanted) - kept} of the library's papers are not "
                    "stored (deleted meanwhile?); nothing was changed"
                )
        return kept

    def papers(self, user_id: int) -> list[tuple[str, str]]:
        """(paper id, matched by) of the user's library."""
        rows: list[tuple[str, str]] = self.store.conn.execute(
            "SELECT paper_id, matched_by FROM library_papers WHERE user_id = ? ORDER BY paper_id",
            (user_id,),
        ).fetchall()
        return rows

    def seeds(self, user_id: int) -> dict[str, str]:
        """What the user told us they like: paper id -> where from (library, saved, upvoted)."""
        return self.seeds_of([user_id]).get(user_id, {})

    def seeds_of(self, user_ids: Iterable[int]) -> dict[int, dict[str, str]]:
        """`seeds` of many users (a digest run), in one query per 500 users; users without
        seeds are left out."""
        found: dict[int, dict[str, str]] = {}
        for chunk, marks in in_chunks(sorted(set(user_ids))):
            rows = self.store.conn.execute(
                f"SELECT user_id, paper_id, 'upvoted' FROM votes WHERE user_id IN ({marks}) "
                "UNION ALL SELECT c.user_id, cp.paper_id, 'saved' FROM collection_papers cp "
                f"JOIN collections c ON c.id = cp.collection_id WHERE c.user_id IN ({marks}) "
                "UNION ALL SELECT user_id, paper_id, 'library' FROM library_papers "
                f"WHERE user_id IN ({marks}) ORDER BY 1, 2",
                chunk * 3,
            ).fetchall()
            for uid, pid, where in rows:  # the library wins, then saved, for the reason
                seeds = found.setdefault(int(uid), {})
                if _SEED_RANK[where] > _SEED_RANK.get(seeds.get(pid, ""), -1):
                    seeds[pid] = where
        return found

    def accounts_by_email(self, emails: Iterable[str]) -> dict[str, int]:
        """Lower-cased address -> user id, for the accounts whose VERIFIED address is one of
        these (the digest's "For you" section): an account's address is typed by whoever
        holds the account, so only one its owner proved to read (`verify_email`) may carry
        the account's picks to a subscriber. The oldest account wins if two verified one."""
        found: dict[str, int] = {}
        for chunk, marks in in_chunks(sorted({e.lower() for e in emails})):
            rows = self.store.conn.execute(
                f"SELECT lower(email), id FROM users WHERE lower(email) IN ({marks}) "
                "AND verified_email = email ORDER BY id DESC",
                chunk,
            ).fetchall()
            found.update((email, int(uid)) for email, uid in rows)
        return found

    # -- the account's address, proved ---------------------------------------------------------
    def verify_email(self, user_id: int, address: str) -> bool:
        """The account's owner read `address` (the signed link mailed to it): it is verified
        while it stays the account's address. False when the account's address is no longer
        `address` (changed since the link was mailed)."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "UPDATE users SET verified_email = ? WHERE id = ? AND email = ? RETURNING id",
                (address, user_id, address),
            ).fetchone()
            return row is not None

    def verified_email(self, user_id: int) -> str | None:
        """The account's address if its owner proved to read it, else None."""
        row = self.store.conn.execute(
            "SELECT email FROM users WHERE id = ? AND verified_email = email", (user_id,)
        ).fetchone()
        return row[0] if row else None

    # -- "not interested" ------------------------------------------------------------------
    def dismiss(self, user_id: int, paper_id: str, dismissed: bool = True) -> bool:
        """Mark (or unmark) a stored paper as not interesting; False when it is not stored."""
        with self.store.transaction() as conn:
            if not dismissed:
                conn.execute(
                    "DELETE FROM dismissals WHERE user_id = ? AND paper_id = ?", (user_id, paper_id)
                )
                return True
            row = conn.execute(
                "INSERT INTO dismissals (user_id, paper_id, created_at) "
                "SELECT ?, id, ? FROM papers WHERE id = ? ON CONFLICT DO NOTHING RETURNING 1",
                (user_id, _now(), paper_id),
            ).fetchone()
            return (
                row is not None
                or conn.execute(
                    "SELECT 1 FROM dismissals WHERE user_id = ? AND paper_id = ?",
                    (user_id, paper_id),
                ).fetchone()
                is not None
            )

    def dismissed(self, user_id: int) -> set[str]:
        return self.dismissed_of([user_id]).get(user_id, set())

    def dismissed_of(self, user_ids: Iterable[int]) -> dict[int, set[str]]:
        """`dismissed` of many users; users without dismissals are left out."""
        found: dict[int, set[str]] = {}
        for chunk, marks in in_chunks(sorted(set(user_ids))):
            for uid, pid in self.store.conn.execute(
                f"SELECT user_id, paper_id FROM dismissals WHERE user_id IN ({marks})", chunk
            ).fetchall():
                found.setdefault(int(uid), set()).add(pid)
        return found

    # -- the private feed ----------------------------------------------------------------------
    def set_feed_token(self, user_id: int, token_hash: str) -> None:
        """A new private feed URL for the user; the old one stops working."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO for_you_feeds (user_id, token_hash, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, "
                "created_at = excluded.created_at",
                (user_id, token_hash, _now()),
            )

    def has_feed(self, user_id: int) -> bool:
        return (
            self.store.conn.execute(
                "SELECT 1 FROM for_you_feeds WHERE user_id = ?", (user_id,)
            ).fetchone()
            is not None
        )

    def feed_user(self, token_hash: str) -> User | None:
        """The user behind a private feed token, or None."""
        row = self.store.conn.execute(
            "SELECT u.id, u.name, u.email, u.is_admin, u.created_at FROM for_you_feeds f "
            "JOIN users u ON u.id = f.user_id WHERE f.token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return User(row[0], row[1], row[2], bool(row[3]), row[4])
