"""The mail repository: subscribers, their topics, and the send log that makes digests go
out exactly once.

    sub, before = store.mail.request_subscription(email, name, "daily", True, topics, nonce)
    claim = store.mail.claim_send(sub.id, "2026-08-21", message_id)   # None: already done
    store.mail.record_sent(sub.id, "2026-08-21", paper_ids, covered_through=day)

The protocol lives in paperboy/mail/digests.py; these methods are its transactions. The
records (`Subscriber`, `SendClaim`) are paperboy/records.py: below the store, so the store
imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from paperboy.records import FINAL_SEND_STATES, SendClaim, Subscriber
from paperboy.store.chunks import in_chunks
from paperboy.store.connection import Connection, Reader
from paperboy.store.rows import as_day, as_moment, iso, now_iso, to_stamp

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore


class Mail:
    """Subscribers, saved topics, the send log (exactly-once digests), papers sent, bounces."""

    def __init__(self, db: SQLStore):
        self.db = db

    # -- mail --------------------------------------------------------------------------------
    # Subscribers, saved topics, the send log (exactly-once digests), papers sent, bounces.
    # The protocol lives in paperboy.mail.digests; these methods are its transactions.
    _SUBSCRIBER_COLUMNS = (
        "id, email, name, status, frequency, include_top, nonce, covered_through, failures, "
        "created_at, confirm_sent_at, confirmed_at"
    )

    def _subscribers_where(
        self, conn: Reader, where: str, params: tuple[Any, ...], tail: str = ""
    ) -> list[Subscriber]:
        rows = conn.execute(
            f"SELECT {self._SUBSCRIBER_COLUMNS} FROM subscribers WHERE {where} ORDER BY id {tail}",
            params,
        ).fetchall()
        found = {}
        for (
            sid,
            email,
            name,
            status,
            frequency,
            include_top,
            nonce,
            covered,
            failures,
            created,
            confirm_sent,
            confirmed,
        ) in rows:
            found[sid] = Subscriber(
                id=sid,
                email=email,
                name=name,
                status=status,
                frequency=frequency,
                include_top=bool(include_top),
                nonce=nonce,
                covered_through=as_day(covered),
                failures=failures,
                created_at=as_moment(created),
                confirm_sent_at=as_moment(confirm_sent),
                confirmed_at=as_moment(confirmed),
            )
        if found:
            ids = list(found)
            for chunk, marks in in_chunks(ids):
                for sid, query in conn.execute(
                    f"SELECT subscriber_id, query FROM topics WHERE subscriber_id IN ({marks}) "
                    "ORDER BY subscriber_id, position",
                    chunk,
                ):
                    found[sid].topics.append(query)
        return list(found.values())

    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        found = self._subscribers_where(self.db.conn, "id = ?", (subscriber_id,))
        return found[0] if found else None

    def subscriber_by_email(self, email: str) -> Subscriber | None:
        found = self._subscribers_where(self.db.conn, "email = ?", (email,))
        return found[0] if found else None

    def subscribers(
        self, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Subscriber]:
        # TRUE, not 1: PostgreSQL refuses "WHERE 1" (an integer is not a boolean there).
        where, params = ("status = ?", (status,)) if status else ("TRUE", ())
        return self._subscribers_where(
            self.db.conn, where, params + (limit, offset), "LIMIT ? OFFSET ?"
        )

    def count_subscribers(self) -> dict[str, int]:
        return dict(
            self.db.conn.execute(
                "SELECT status, count(*) FROM subscribers GROUP BY status"
            ).fetchall()
        )

    def due_subscribers(
        self, frequencies: Iterable[str], email: str | None = None
    ) -> list[Subscriber]:
        """Active subscribers with one of these frequencies (or just `email`), with topics."""
        frequencies = list(frequencies)
        if not frequencies:
            return []
        where = f"status = 'active' AND frequency IN ({', '.join('?' * len(frequencies))})"
        params = tuple(frequencies)
        if email is not None:
            where += " AND email = ?"
            params += (email,)
        return self._subscribers_where(self.db.conn, where, params)

    @staticmethod
    def _replace_topics(conn: Connection, subscriber_id: int, topics: list[str]) -> None:
        conn.execute("DELETE FROM topics WHERE subscriber_id = ?", (subscriber_id,))
        conn.executemany(
            "INSERT INTO topics (subscriber_id, position, query) VALUES (?, ?, ?)",
            [(subscriber_id, i, q) for i, q in enumerate(topics)],
        )

    def request_subscription(
        self,
        email: str,
        name: str,
        frequency: str,
        include_top: bool,
        topics: list[str],
        nonce: str,
    ) -> tuple[Subscriber, str | None]:
        """Record a subscription request; returns (subscriber, status before or None if new).

        A new, pending, unsubscribed or bouncing address becomes pending with these choices and
        this nonce (older confirmation links stop working). An active or paused subscriber is
        left as it is: only a signed preferences link may change it.
        """
        now = now_iso()
        with self.db.transaction() as conn:
            # Insert first, so two requests for a new address at once cannot both insert it.
            inserted = conn.execute(
                "INSERT INTO subscribers (email, name, status, frequency, include_top, nonce, "
                "created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?) "
                "ON CONFLICT (email) DO NOTHING RETURNING id",
                (email, name, frequency, int(include_top), nonce, now, now),
            ).fetchone()
            if inserted is not None:
                sid, before = inserted[0], None
                self._replace_topics(conn, sid, topics)
            else:
                sid, before = conn.execute(
                    "SELECT id, status FROM subscribers WHERE email = ?", (email,)
                ).fetchone()
                if before in ("pending", "unsubscribed", "bouncing"):
                    conn.execute(
                        "UPDATE subscribers SET name = ?, status = 'pending', frequency = ?, "
                        "include_top = ?, nonce = ?, updated_at = ? WHERE id = ?",
                        (name, frequency, int(include_top), nonce, now, sid),
                    )
                    self._replace_topics(conn, sid, topics)
            return self._subscribers_where(conn, "id = ?", (sid,))[0], before

    def claim_subscription_mail(
        self,
        email: str,
        name: str,
        frequency: str,
        include_top: bool,
        topics: list[str],
        nonce: str,
        now: datetime,
        interval: timedelta,
    ) -> tuple[Subscriber, str | None, bool]:
        """Record a subscription request and claim the one request mail (confirmation or
        notice) an address may get per `interval`: (subscriber, status before, claimed).

        One transaction, and the claim is one conditional UPDATE: of many requests at once,
        on any number of processes, exactly one finds the last mail older than `interval`
        and stamps it. A request that loses changes nothing (the link in the mail that just
        went out must keep working). Otherwise as `request_subscription`.
        """
        stamp = to_stamp(now)
        with self.db.transaction() as conn:
            inserted = conn.execute(
                "INSERT INTO subscribers (email, name, status, frequency, include_top, nonce, "
                "created_at, updated_at, confirm_sent_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, "
                "?, ?) ON CONFLICT (email) DO NOTHING RETURNING id",
                (email, name, frequency, int(include_top), nonce, stamp, stamp, stamp),
            ).fetchone()
            if inserted is not None:
                self._replace_topics(conn, inserted[0], topics)
                return self._subscribers_where(conn, "id = ?", (inserted[0],))[0], None, True
            claimed = conn.execute(
                "UPDATE subscribers SET confirm_sent_at = ? WHERE email = ? AND "
                "(confirm_sent_at IS NULL OR confirm_sent_at <= ?) RETURNING id, status",
                (stamp, email, to_stamp(now - interval)),
            ).fetchone()
            if claimed is None:
                known = self._subscribers_where(conn, "email = ?", (email,))[0]
                return known, known.status, False
            sid, before = claimed
            if before in ("pending", "unsubscribed", "bouncing"):
                conn.execute(
                    "UPDATE subscribers SET name = ?, status = 'pending', frequency = ?, "
                    "include_top = ?, nonce = ?, updated_at = ? WHERE id = ?",
                    (name, frequency, int(include_top), nonce, stamp, sid),
                )
                self._replace_topics(conn, sid, topics)
            return self._subscribers_where(conn, "id = ?", (sid,))[0], before, True

    def release_subscription_mail(self, subscriber_id: int, claimed: datetime) -> None:
        """Give back a claim whose mail the SMTP server refused, so the next request may send;
        a newer claim is left alone."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE subscribers SET confirm_sent_at = NULL "
                "WHERE id = ? AND confirm_sent_at = ?",
                (subscriber_id, to_stamp(claimed)),
            )

    def mark_confirmation_sent(self, subscriber_id: int, when: datetime | None = None) -> None:
        stamp = to_stamp(when or datetime.now(UTC))
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE subscribers SET confirm_sent_at = ? WHERE id = ?", (stamp, subscriber_id)
            )

    def confirm_subscriber(self, subscriber_id: int, nonce: str) -> Subscriber | None:
        """pending -> active when the nonce is the latest one; returns the subscriber or None."""
        with self.db.transaction() as conn:
            now = now_iso()
            conn.execute(
                "UPDATE subscribers SET status = 'active', confirmed_at = ?, updated_at = ?, "
                "failures = 0 WHERE id = ? AND nonce = ? AND status = 'pending'",
                (now, now, subscriber_id, nonce),
            )
            found = self._subscribers_where(conn, "id = ? AND nonce = ?", (subscriber_id, nonce))
        return found[0] if found else None

    def update_subscriber(
        self, subscriber_id: int, frequency: str, include_top: bool, paused: bool, topics: list[str]
    ) -> None:
        """Save preferences; pausing and resuming only applies to active or paused subscribers."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE subscribers SET frequency = ?, include_top = ?, updated_at = ?, "
                "status = CASE WHEN status IN ('active', 'paused') THEN ? ELSE status END "
                "WHERE id = ?",
                (
                    frequency,
                    int(include_top),
                    now_iso(),
                    "paused" if paused else "active",
                    subscriber_id,
                ),
            )
            self._replace_topics(conn, subscriber_id, topics)

    def unsubscribe(self, subscriber_id: int) -> bool:
        """Stop all mail to this subscriber; False when there is no such subscriber."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE subscribers SET status = 'unsubscribed', updated_at = ? WHERE id = ?",
                (now_iso(), subscriber_id),
            )
            return cur.rowcount > 0

    def forget_subscriber(self, subscriber_id: int) -> bool:
        """Delete a subscriber with their topics, send log, sent papers and bounces."""
        with self.db.transaction() as conn:
            return (
                conn.execute("DELETE FROM subscribers WHERE id = ?", (subscriber_id,)).rowcount > 0
            )

    def finished_sends(self, period: str) -> set[int]:
        """Subscribers whose digest for this period needs nothing more (sent, rejected, empty)."""
        return {
            row[0]
            for row in self.db.conn.execute(
                "SELECT subscriber_id FROM send_log WHERE period = ? "
                "AND status IN ('sent', 'rejected', 'empty')",
                (period,),
            )
        }

    def claim_send(self, subscriber_id: int, period: str, message_id: str) -> SendClaim | None:
        """Write `sending` to the send log before the SMTP transaction; None if already done.

        A row left in `sending` by a crashed run (or `deferred` by a failed one) is claimed
        again and keeps its Message-ID, so a resent copy is recognisably the same message.
        """
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT status, message_id, attempts FROM send_log "
                "WHERE subscriber_id = ? AND period = ?",
                (subscriber_id, period),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO send_log (subscriber_id, period, status, message_id, attempts, "
                    "started_at) VALUES (?, ?, 'sending', ?, 1, ?)",
                    (subscriber_id, period, message_id, now_iso()),
                )
                return SendClaim(subscriber_id, period, message_id, 1, None)
            status, kept_id, attempts = row
            if status in FINAL_SEND_STATES:
                return None
            conn.execute(
                "UPDATE send_log SET status = 'sending', attempts = ?, started_at = ?, "
                "message_id = ? WHERE subscriber_id = ? AND period = ?",
                (attempts + 1, now_iso(), kept_id or message_id, subscriber_id, period),
            )
            return SendClaim(subscriber_id, period, kept_id or message_id, attempts + 1, status)

    def record_sent(
        self, subscriber_id: int, period: str, paper_ids: list[str], covered_through: date
    ) -> None:
        """After the SMTP server accepted the digest: sent, its papers, the window it covered."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE send_log SET status = 'sent', papers = ?, code = NULL, error = NULL, "
                "finished_at = ? WHERE subscriber_id = ? AND period = ?",
                (len(paper_ids), now_iso(), subscriber_id, period),
            )
            self._cover(conn, subscriber_id, period, paper_ids, covered_through)
            conn.execute("UPDATE subscribers SET failures = 0 WHERE id = ?", (subscriber_id,))

    def record_empty(self, subscriber_id: int, period: str, covered_through: date) -> None:
        """A digest with nothing new in it: no mail, but the period is done."""
        with self.db.transaction() as conn:
            now = now_iso()
            conn.execute(
                "INSERT INTO send_log (subscriber_id, period, status, started_at, finished_at) "
                "VALUES (?, ?, 'empty', ?, ?) ON CONFLICT (subscriber_id, period) DO UPDATE "
                "SET status = 'empty', finished_at = excluded.finished_at",
                (subscriber_id, period, now, now),
            )
            self._cover(conn, subscriber_id, period, [], covered_through)

    @staticmethod
    def _cover(
        conn: Connection,
        subscriber_id: int,
        period: str,
        paper_ids: list[str],
        covered_through: date,
    ) -> None:
        conn.executemany(
            "INSERT INTO sent_papers (subscriber_id, paper_id, period) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(subscriber_id, pid, period) for pid in paper_ids],
        )
        conn.execute(
            "UPDATE subscribers SET covered_through = ? "
            "WHERE id = ? AND (covered_through IS NULL OR covered_through < ?)",
            (iso(covered_through), subscriber_id, iso(covered_through)),
        )

    def record_deferred(
        self, subscriber_id: int, period: str, code: int | None, error: str
    ) -> None:
        """A transient failure: the next run tries this digest again."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE send_log SET status = 'deferred', code = ?, error = ?, finished_at = ? "
                "WHERE subscriber_id = ? AND period = ?",
                (code, error[:1000], now_iso(), subscriber_id, period),
            )

    def record_rejected(
        self, subscriber_id: int, period: str, code: int | None, error: str, bounce_limit: int
    ) -> str:
        """A permanent failure: logged as a bounce; after `bounce_limit` in a row the address
        is marked bouncing. Returns the subscriber's status afterwards."""
        with self.db.transaction() as conn:
            now = now_iso()
            conn.execute(
                "UPDATE send_log SET status = 'rejected', code = ?, error = ?, finished_at = ? "
                "WHERE subscriber_id = ? AND period = ?",
                (code, error[:1000], now, subscriber_id, period),
            )
            conn.execute(
                "INSERT INTO bounces (subscriber_id, period, code, message, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (subscriber_id, period, code, error[:1000], now),
            )
            conn.execute(
                "UPDATE subscribers SET failures = failures + 1, status = CASE "
                "WHEN failures + 1 >= ? AND status = 'active' THEN 'bouncing' ELSE status END, "
                "updated_at = ? WHERE id = ?",
                (bounce_limit, now, subscriber_id),
            )
            return str(
                conn.execute(
                    "SELECT status FROM subscribers WHERE id = ?", (subscriber_id,)
                ).fetchone()[0]
            )

    def sent_paper_ids(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        """Which of these papers this subscriber was already sent."""
        ids = list(paper_ids)
        found: set[str] = set()
        for chunk, marks in in_chunks(ids):
            found.update(
                row[0]
                for row in self.db.conn.execute(
                    "SELECT paper_id FROM sent_papers WHERE subscriber_id = ? AND paper_id IN "
                    f"({marks})",
                    (subscriber_id, *chunk),
                )
            )
        return found

    def forget_sent_papers(self, entered_before: date) -> int:
        """Drop the record of papers sent that entered the feed before this day: no digest
        reaches back that far, so they can no longer be candidates. Returns rows dropped."""
        with self.db.transaction() as conn:
            return conn.execute(
                "DELETE FROM sent_papers WHERE paper_id IN "
                "(SELECT paper_id FROM feed_entries WHERE day < ?)",
                (iso(entered_before),),
            ).rowcount

    def send_log(
        self, period: str | None = None, subscriber_id: int | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Send log rows, newest period first."""
        where: list[str] = []
        params: list[Any] = []
        if period:
            where.append("l.period = ?")
            params.append(period)
        if subscriber_id is not None:
            where.append("l.subscriber_id = ?")
            params.append(subscriber_id)
        cur = self.db.conn.execute(
            "SELECT l.subscriber_id, s.email, l.period, l.status, l.message_id, l.attempts, "
            "l.papers, l.code, l.error, l.started_at, l.finished_at FROM send_log l "
            "JOIN subscribers s ON s.id = l.subscriber_id "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            "ORDER BY l.period DESC, l.subscriber_id LIMIT ?",
            (*params, limit),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def send_log_summary(self, periods: int = 10) -> list[tuple[str, str, int]]:
        """(period, status, count) for the most recent periods."""
        return self.db.conn.execute(
            "SELECT period, status, count(*) FROM send_log WHERE period IN "
            "(SELECT DISTINCT period FROM send_log ORDER BY period DESC LIMIT ?) "
            "GROUP BY period, status ORDER BY period DESC, status",
            (periods,),
        ).fetchall()

    def bounces(self, subscriber_id: int) -> list[tuple[str | None, int | None, str, str]]:
        return self.db.conn.execute(
            "SELECT period, code, message, at FROM bounces WHERE subscriber_id = ? ORDER BY id",
            (subscriber_id,),
        ).fetchall()
