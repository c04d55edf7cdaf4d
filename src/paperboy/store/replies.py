"""Reply notices in the store (migration 0014): who wants mail when someone replies in a
discussion they took part in, and the queue of those mails.

    replies = Replies(store)
    replies.set_address(user.id, "ada@example.org")   # confirmed through the signed link
    replies.queue(conn, reply)        # in the transaction that stores the reply (discussions.py)
    for key in replies.due(now): ...  # (comment id, user id) of each mail to send
    replies.claim(*key)               # True once: the caller then sends it, then marks it

A user gets reply notices only while `users.reply_mail_to` holds their account's address:
account addresses are not verified, so the address is set by the link of the opt-in mail, and
a changed account address stops the notices until it is confirmed again.

Each notice is one row (primary key: reply, recipient), written in the reply's own transaction,
so a stored reply always has its notices and never two of one. A sender claims a row
(queued -> sending) before it sends and marks it sent after: a sender that dies in between
leaves the row "sending", and it is never sent again. A lost notice is better than a second
one; `stuck()` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperboy.store.connection import Reader
from paperboy.store.submissions import stamp

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore

STATUSES = ("queued", "sending", "sent", "failed", "dropped")


@dataclass(frozen=True, slots=True)
class Notice:
    """What one reply notice says, and to whom: read when it is sent."""

    comment_id: int
    user_id: int
    recipient: str  # the user's name
    address: str | None  # None once the user stopped reply mail (or changed their address)
    paper_id: str
    paper_title: str
    replier: str
    body: str  # the reply's Markdown ('' once deleted)
    shown: bool  # neither deleted nor hidden since it was written
    attempts: int


class Replies:
    """Reply-notice settings and the notice queue, over one store (SQLite or PostgreSQL)."""

    def __init__(self, store: SQLStore):
        self.store = store

    # -- the setting -------------------------------------------------------------------------
    def address(self, user_id: int) -> str | None:
        """The confirmed address reply notices go to, or None when they are off."""
        row = self.store.conn.execute(
            "SELECT reply_mail_to FROM users WHERE id = ? AND reply_mail_to = email", (user_id,)
        ).fetchone()
        return row[0] if row else None

    def set_address(self, user_id: int, address: str | None) -> bool:
        """Turn reply notices on (to `address`, which must be the account's) or off (None).
        False when the account's address is no longer `address`."""
        with self.store.transaction() as conn:
            if address is None:
                conn.execute("UPDATE users SET reply_mail_to = NULL WHERE id = ?", (user_id,))
                return True
            row = conn.execute(
                "UPDATE users SET reply_mail_to = ? WHERE id = ? AND email = ? RETURNING id",
                (address, user_id, address),
            ).fetchone()
            return row is not None

    # -- the queue ---------------------------------------------------------------------------
    def queue(self, conn: Reader, reply_id: int, thread_id: int, author_id: int) -> int:
        """Queue a notice of reply `reply_id` for everyone else who wrote in thread
        `thread_id` (its top-level comment and replies) and wants reply mail. Run it in the
        transaction that stores the reply. The number of notices queued."""
        rows = conn.execute(
            "INSERT INTO reply_mails (comment_id, user_id, due_at) "
            "SELECT DISTINCT ?, u.id, ? FROM comments c JOIN users u ON u.id = c.user_id "
            "WHERE (c.id = ? OR c.parent_id = ?) AND u.id <> ? "
            "AND u.reply_mail_to IS NOT NULL AND u.reply_mail_to = u.email "
            "ON CONFLICT DO NOTHING RETURNING user_id",
            (reply_id, stamp(), thread_id, thread_id, author_id),
        ).fetchall()
        return len(rows)

    def due(self, now: str | None = None, limit: int = 100) -> list[tuple[int, int]]:
        """(reply, recipient) of queued notices due by `now`, oldest reply first."""
        rows = self.store.conn.execute(
            "SELECT comment_id, user_id FROM reply_mails WHERE status = 'queued' AND due_at <= ? "
            "ORDER BY comment_id, user_id LIMIT ?",
            (now or stamp(), limit),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def claim(self, comment_id: int, user_id: int) -> bool:
        """Take a queued notice for sending; False when another sender took it first."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "UPDATE reply_mails SET status = 'sending', attempts = attempts + 1 "
                "WHERE comment_id = ? AND user_id = ? AND status = 'queued' RETURNING comment_id",
                (comment_id, user_id),
            ).fetchone()
            return row is not None

    def notice(self, comment_id: int, user_id: int) -> Notice | None:
        row = self.store.conn.execute(
            "SELECT m.comment_id, m.user_id, r.name, "
            "CASE WHEN r.reply_mail_to = r.email THEN r.reply_mail_to END, "
            "c.paper_id, p.title, w.name, c.body, "
            "CASE WHEN c.deleted_at IS NULL AND c.hidden_at IS NULL THEN 1 ELSE 0 END, "
            "m.attempts FROM reply_mails m JOIN users r ON r.id = m.user_id "
            "JOIN comments c ON c.id = m.comment_id JOIN users w ON w.id = c.user_id "
            "JOIN papers p ON p.id = c.paper_id WHERE m.comment_id = ? AND m.user_id = ?",
            (comment_id, user_id),
        ).fetchone()
        if row is None:
            return None
        comment_id, user_id, recipient, address, paper_id, title, replier, body = row[:8]
        return Notice(
            comment_id,
            user_id,
            recipient,
            address,
            paper_id,
            title,
            replier,
            body,
            bool(row[8]),
            row[9],
        )

    def finish(self, comment_id: int, user_id: int, status: str, error: str | None = None) -> None:
        """A claimed notice ends: sent, failed (refused for good) or dropped (not wanted)."""
        assert status in ("sent", "failed", "dropped")
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE reply_mails SET status = ?, sent_at = ?, error = ? "
                "WHERE comment_id = ? AND user_id = ? AND status = 'sending'",
                (status, stamp() if status == "sent" else None, error, comment_id, user_id),
            )

    def defer(self, comment_id: int, user_id: int, due_at: str, error: str) -> None:
        """A claimed notice the server deferred goes back in the queue until `due_at`."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE reply_mails SET status = 'queued', due_at = ?, error = ? "
                "WHERE comment_id = ? AND user_id = ? AND status = 'sending'",
                (due_at, error, comment_id, user_id),
            )

    def counts(self) -> dict[str, int]:
        """Notices per status."""
        rows = self.store.conn.execute(
            "SELECT status, count(*) FROM reply_mails GROUP BY status"
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def stuck(self) -> int:
        """Notices a sender claimed and never finished (it died): never sent again."""
        return self.counts().get("sending", 0)
