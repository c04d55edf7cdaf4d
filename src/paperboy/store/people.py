"""People in the store (migration 0010): who upvoted a paper, authors and organizations and
their papers, authorship claims, and a user's profile.

    people = People(store)
    people.upvoters("2405.15738", limit=12)      # (names shown, voters left out of the names)
    people.papers_by_author("Yann LeCun", offset=30)   # a page of paper ids, exact name
    people.claim(user.id, "2405.15738", "Ada Lovelace")  # pending until an admin confirms
    people.confirm(user.id, "2405.15738", admin.id)

A small repository over the store's connection helpers, the same SQL on SQLite and PostgreSQL.
Authors are found through the author-name table (store/authors.py, migration 0016): each
paper's names normalized (normalize_name) and indexed, written with every upsert, so an
author's page is one index lookup. Normalizing folds accents ("García" == "Garcia"), which
neither database does in SQL, so the keys are computed in Python on both sides.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paperboy.store import StoreError
from paperboy.store.authors import normalize_name
from paperboy.store.submissions import stamp

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

PAGE = 30  # papers on one page of an author or organization (as the feed pages)
SPELLINGS_READ = 1000  # an author's papers read for the spellings of the name


class ClaimRefused(StoreError):
    """An authorship claim that cannot be made; the message says why."""


@dataclass(frozen=True, slots=True)
class Claim:
    user: str  # the claiming user's name
    user_id: int
    paper_id: str
    author_name: str  # as listed on the paper
    status: str  # pending, confirmed
    created_at: str


class People:
    """Upvoters, authors, organizations, claims and profiles over one store."""

    def __init__(self, store: SQLStore):
        self.store = store

    # -- upvotes ---------------------------------------------------------------------------
    def upvoters(self, paper_id: str, limit: int = 12) -> tuple[list[str], int]:
        """Names of the paper's local upvoters who show their votes, first voters first, and
        how many local voters are not named (past `limit`, or hiding their votes)."""
        conn = self.store.conn
        names = [
            r[0]
            for r in conn.execute(
                "SELECT u.name FROM votes v JOIN users u ON u.id = v.user_id WHERE v.paper_id = ? "
                "AND u.votes_hidden = 0 ORDER BY v.created_at, u.id LIMIT ?",
                (paper_id, limit),
            ).fetchall()
        ]
        total = conn.execute(
            "SELECT count(*) FROM votes WHERE paper_id = ?", (paper_id,)
        ).fetchone()[0]
        return names, total - len(names)

    def set_votes_hidden(self, user_id: int, hidden: bool) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE users SET votes_hidden = ? WHERE id = ?", (int(hidden), user_id))

    def votes_hidden(self, user_id: int) -> bool:
        row = self.store.conn.execute(
            "SELECT votes_hidden FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        return bool(row and row[0])

    def upvoted(self, user_id: int, limit: int = 50) -> list[str]:
        """Ids of the papers a user upvoted, newest vote first."""
        return [
            r[0]
            for r in self.store.conn.execute(
                "SELECT paper_id FROM votes WHERE user_id = ? ORDER BY created_at DESC, paper_id "
                "LIMIT ?",
                (user_id, limit),
            ).fetchall()
        ]

    # -- authors and organizations -----------------------------------------------------------
    def papers_by_author(self, name: str, limit: int = PAGE, offset: int = 0) -> list[str]:
        """Ids of papers listing exactly this (normalized) author name, newest first, one
        page of them."""
        wanted = normalize_name(name)
        if not wanted:
            return []
        return [
            r[0]
            for r in self.store.conn.execute(
                "SELECT p.id FROM paper_authors a JOIN papers p ON p.id = a.paper_id "
                "WHERE a.name_key = ? "
                "ORDER BY p.published IS NULL, p.published DESC, p.id DESC "  # NULLs last
                "LIMIT ? OFFSET ?",
                (wanted, limit, offset),
            ).fetchall()
        ]

    def count_by_author(self, name: str) -> int:
        wanted = normalize_name(name)
        if not wanted:
            return 0
        return int(
            self.store.conn.execute(
                "SELECT count(*) FROM paper_authors WHERE name_key = ?", (wanted,)
            ).fetchone()[0]
        )

    def author_spellings(self, name: str) -> list[str]:
        """The different ways the papers write the name, most papers first (for the page's
        ambiguity note), read from at most SPELLINGS_READ of them."""
        wanted, seen = normalize_name(name), Counter[str]()
        for (authors,) in self.store.conn.execute(
            "SELECT p.authors FROM paper_authors a JOIN papers p ON p.id = a.paper_id "
            "WHERE a.name_key = ? ORDER BY p.id LIMIT ?",
            (wanted, SPELLINGS_READ),
        ).fetchall():
            seen.update({a for a in json.loads(authors) if normalize_name(a) == wanted})
        return [spelling for spelling, _ in sorted(seen.items(), key=lambda s: (-s[1], s[0]))]

    def confirmed_as(self, name: str) -> list[str]:
        """Users an admin confirmed as this (normalized) author, on any of the name's papers."""
        wanted = normalize_name(name)
        rows = self.store.conn.execute(
            "SELECT u.name, c.author_name FROM authorship_claims c "
            "JOIN paper_authors a ON a.paper_id = c.paper_id AND a.name_key = ? "
            "JOIN users u ON u.id = c.user_id WHERE c.status = 'confirmed'",
            (wanted,),
        ).fetchall()
        return sorted({user for user, author in rows if normalize_name(author) == wanted})

    _ORG = "FROM feed_entries WHERE lower(organization) = ? OR lower(organization_name) = ?"

    def papers_of_org(
        self, name: str, limit: int = PAGE, offset: int = 0
    ) -> tuple[str | None, list[str]]:
        """(the organization's full name, ids of one page of its papers in the feed, newest
        first), by its Hugging Face id or full name, ignoring case."""
        key = name.lower()
        rows = self.store.conn.execute(
            f"SELECT paper_id, organization_name {self._ORG} "
            "ORDER BY day DESC, paper_id DESC LIMIT ? OFFSET ?",
            (key, key, limit, offset),
        ).fetchall()
        full = next((r[1] for r in rows if r[1]), None)
        return full, [r[0] for r in rows]

    def count_of_org(self, name: str) -> int:
        key = name.lower()
        return int(
            self.store.conn.execute(f"SELECT count(*) {self._ORG}", (key, key)).fetchone()[0]
        )

    # -- claims --------------------------------------------------------------------------------
    def claim(self, user_id: int, paper_id: str, author_name: str) -> bool:
        """A user says they are `author_name` of the paper; True when the claim is new."""
        paper = self.store.get(paper_id)
        if paper is None:
            raise ClaimRefused(f"no paper {paper_id} is stored here")
        if author_name not in paper.authors:
            raise ClaimRefused(f"{author_name!r} is not among the authors of {paper_id}")
        with self.store.transaction() as conn:
            return (
                conn.execute(
                    "INSERT INTO authorship_claims (user_id, paper_id, author_name, created_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING user_id",
                    (user_id, paper_id, author_name, stamp()),
                ).fetchone()
                is not None
            )

    def confirm(self, user_id: int, paper_id: str, admin_id: int) -> bool:
        with self.store.transaction() as conn:
            return (
                conn.execute(
                    "UPDATE authorship_claims SET status = 'confirmed', confirmed_at = ?, "
                    "confirmed_by = ? WHERE user_id = ? AND paper_id = ? RETURNING user_id",
                    (stamp(), admin_id, user_id, paper_id),
                ).fetchone()
                is not None
            )

    def withdraw(self, user_id: int, paper_id: str) -> bool:
        """The claimant (or an admin refusing it) removes a claim."""
        with self.store.transaction() as conn:
            return (
                conn.execute(
                    "DELETE FROM authorship_claims WHERE user_id = ? AND paper_id = ? "
                    "RETURNING user_id",
                    (user_id, paper_id),
                ).fetchone()
                is not None
            )

    def _claims(self, where: str, args: tuple[Any, ...]) -> list[Claim]:
        return [
            Claim(*r)
            for r in self.store.conn.execute(
                "SELECT u.name, c.user_id, c.paper_id, c.author_name, c.status, c.created_at "
                f"FROM authorship_claims c JOIN users u ON u.id = c.user_id WHERE {where} "
                "ORDER BY c.created_at, c.user_id",
                args,
            ).fetchall()
        ]

    def claims_on(self, paper_id: str) -> list[Claim]:
        return self._claims("c.paper_id = ?", (paper_id,))

    def claims_by(self, user_id: int) -> list[Claim]:
        return self._claims("c.user_id = ?", (user_id,))

    def pending_claims(self) -> list[Claim]:
        return self._claims("c.status = 'pending'", ())
