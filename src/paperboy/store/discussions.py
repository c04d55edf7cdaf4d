"""Discussions on paper pages in the store (migration 0010): comments, one level of replies,
edits, deletions, admins' hiding and users' reports. A reply queues its mail notices
(store/replies.py, migration 0014) in its own transaction.

    talk = Discussions(store)
    first = talk.add("2405.15738", user.id, "Nice result, but see $O(n^2)$ in Table 2")
    talk.add("2405.15738", other.id, "Agreed", parent_id=first.id)   # a reply
    talk.thread("2405.15738")                  # every comment of the paper, oldest first
    talk.counts(["2405.15738"])                # {"2405.15738": 2}: shown comments per paper

A small repository over the store's connection helpers (`conn` for reads, `transaction()` for one
transaction), the same SQL on SQLite and PostgreSQL. Markdown is stored as written and turned
into safe HTML only when shown (web/markup.py), so a better sanitizer later fixes old comments
too. Nothing is ever removed outright: a deleted comment keeps its row (its body emptied) so
its replies keep their place, and a hidden one keeps its body for the admins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paperboy.store import StoreError
from paperboy.store.chunks import in_chunks
from paperboy.store.connection import Reader
from paperboy.store.replies import Replies
from paperboy.store.submissions import stamp

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

MAX_BODY_CHARS = 10_000  # a long review fits; a pasted paper does not
_COLUMNS = (
    "c.id, c.paper_id, c.parent_id, c.user_id, u.name, c.body, c.created_at, c.edited_at, "
    "c.deleted_at, c.hidden_at, "
    "(SELECT count(*) FROM comment_reports r WHERE r.comment_id = c.id), "
    "EXISTS (SELECT 1 FROM authorship_claims a WHERE a.user_id = c.user_id "
    "AND a.paper_id = c.paper_id AND a.status = 'confirmed')"
)
_SELECT = f"SELECT {_COLUMNS} FROM comments c JOIN users u ON u.id = c.user_id"
# Shown on cards and counted in feeds: neither deleted nor hidden.
SHOWN = "c.deleted_at IS NULL AND c.hidden_at IS NULL"


class CommentRefused(StoreError):
    """A comment that cannot be stored or changed; the message says why."""


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    paper_id: str
    parent_id: int | None
    user_id: int
    author: str  # the user's name
    body: str  # Markdown as written ('' once deleted)
    created_at: str
    edited_at: str | None
    deleted_at: str | None
    hidden_at: str | None
    reports: int  # how many users reported it
    by_paper_author: bool  # its writer is a confirmed author of the paper

    @property
    def shown(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


def _comment(row: tuple[Any, ...]) -> Comment:
    # the columns of `_COLUMNS`, in order; the last one is 0/1 on SQLite
    return Comment(*[*row[:-1], bool(row[-1])])


def check_body(body: str) -> str:
    """The body to store, or CommentRefused saying what is wrong with it."""
    body = (body or "").strip()
    if not body:
        raise CommentRefused("a comment needs some text")
    if len(body) > MAX_BODY_CHARS:
        raise CommentRefused(
            f"a comment is at most {MAX_BODY_CHARS:,} characters (this one has {len(body):,})"
        )
    return body


class Discussions:
    """The comments of every paper, over one store (SQLite or PostgreSQL)."""

    def __init__(self, store: SQLStore):
        self.store = store

    def _one(self, conn: Reader, comment_id: int) -> Comment | None:
        row = conn.execute(f"{_SELECT} WHERE c.id = ?", (comment_id,)).fetchone()
        return _comment(row) if row else None

    def get(self, comment_id: int) -> Comment | None:
        return self._one(self.store.conn, comment_id)

    def add(self, paper_id: str, user_id: int, body: str, parent_id: int | None = None) -> Comment:
        """A new comment, or a reply when `parent_id` is given. A reply to a reply joins the
        thread of its top-level comment: one level of replies, as on Hugging Face."""
        body = check_body(body)
        with self.store.transaction() as conn:
            if parent_id is not None:
                parent_id = self._thread_of(conn, paper_id, parent_id)
            row = conn.execute(
                "INSERT INTO comments (paper_id, parent_id, user_id, body, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (paper_id, parent_id, user_id, body, stamp()),
            ).fetchone()
            if parent_id is not None:  # the reply's mail notices commit with it, or neither
                Replies(self.store).queue(conn, row[0], parent_id, user_id)
            comment = self._one(conn, row[0])
            assert comment is not None  # inserted just now, in this transaction
            return comment

    def _thread_of(self, conn: Reader, paper_id: str, parent_id: int) -> int:
        row = conn.execute(
            "SELECT paper_id, parent_id, deleted_at FROM comments WHERE id = ?", (parent_id,)
        ).fetchone()
        if row is None or row[0] != paper_id:
            raise CommentRefused(
                f"there is no comment #{parent_id} on paper {paper_id} to reply to"
            )
        if row[2] is not None and row[1] is None:
            raise CommentRefused(f"comment #{parent_id} was deleted: start a new comment")
        return row[1] if row[1] is not None else parent_id

    def thread(self, paper_id: str) -> list[Comment]:
        """Every comment on the paper, deleted and hidden ones included, oldest first."""
        rows = self.store.conn.execute(
            f"{_SELECT} WHERE c.paper_id = ? ORDER BY c.id", (paper_id,)
        ).fetchall()
        return [_comment(r) for r in rows]

    def by_user(self, user_id: int, limit: int = 50) -> list[Comment]:
        """A user's shown comments, newest first (their profile page)."""
        rows = self.store.conn.execute(
            f"{_SELECT} WHERE c.user_id = ? AND {SHOWN} ORDER BY c.id DESC LIMIT ?",
            (user_id, limit),
        ).fetchall()
        return [_comment(r) for r in rows]

    def reported(self, limit: int = 100) -> list[Comment]:
        """Comments users reported, most reports first (the admins' queue)."""
        rows = self.store.conn.execute(
            f"{_SELECT} WHERE c.deleted_at IS NULL AND EXISTS (SELECT 1 FROM comment_reports r "
            "WHERE r.comment_id = c.id) ORDER BY 11 DESC, 1 LIMIT ?",  # 11: the report count
            (limit,),
        ).fetchall()
        return [_comment(r) for r in rows]

    def counts(self, paper_ids: Iterable[str]) -> dict[str, int]:
        """Shown comments per paper (papers without any are left out)."""
        ids = list(paper_ids)
        found: dict[str, int] = {}
        for chunk, marks in in_chunks(ids):
            found.update(
                self.store.conn.execute(
                    f"SELECT c.paper_id, count(*) FROM comments c WHERE {SHOWN} "
                    f"AND c.paper_id IN ({marks}) GROUP BY c.paper_id",
                    chunk,
                ).fetchall()
            )
        return found

    def edit(self, comment_id: int, user_id: int, body: str) -> Comment:
        """The author changes their comment; it is marked edited from then on."""
        body = check_body(body)
        with self.store.transaction() as conn:
            changed = conn.execute(
                "UPDATE comments SET body = ?, edited_at = ? WHERE id = ? AND user_id = ? "
                "AND deleted_at IS NULL RETURNING id",
                (body, stamp(), comment_id, user_id),
            ).fetchone()
            if changed is None:
                raise CommentRefused(f"you have no comment #{comment_id} to edit")
            comment = self._one(conn, comment_id)
            assert comment is not None  # updated just now, in this transaction
            return comment

    def delete(self, comment_id: int, user_id: int) -> bool:
        """The author deletes their comment: its text goes, its place (and replies) stay."""
        with self.store.transaction() as conn:
            return (
                conn.execute(
                    "UPDATE comments SET body = '', deleted_at = ? WHERE id = ? AND user_id = ? "
                    "AND deleted_at IS NULL RETURNING id",
                    (stamp(), comment_id, user_id),
                ).fetchone()
                is not None
            )

    def set_hidden(self, comment_id: int, admin_id: int, hidden: bool) -> bool:
        """An admin hides a comment from everyone but the admins, or shows it again."""
        with self.store.transaction() as conn:
            if hidden:
                row = conn.execute(
                    "UPDATE comments SET hidden_at = ?, hidden_by = ? WHERE id = ? RETURNING id",
                    (stamp(), admin_id, comment_id),
                ).fetchone()
            else:
                row = conn.execute(
                    "UPDATE comments SET hidden_at = NULL, hidden_by = NULL WHERE id = ? "
                    "RETURNING id",
                    (comment_id,),
                ).fetchone()
            return row is not None

    def report(self, comment_id: int, user_id: int, reason: str) -> bool:
        """A user reports a comment to the admins; True the first time, False after."""
        reason = (reason or "").strip()[:500] or "no reason given"
        with self.store.transaction() as conn:
            return (
                conn.execute(
                    "INSERT INTO comment_reports (comment_id, user_id, reason, created_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING comment_id",
                    (comment_id, user_id, reason, stamp()),
                ).fetchone()
                is not None
            )

    def report_reasons(self, comment_id: int) -> list[tuple[str, str]]:
        """(reporter, reason) of each report, for the admins."""
        return [
            tuple(r)
            for r in self.store.conn.execute(
                "SELECT u.name, r.reason FROM comment_reports r JOIN users u ON u.id = r.user_id "
                "WHERE r.comment_id = ? ORDER BY r.created_at",
                (comment_id,),
            ).fetchall()
        ]
