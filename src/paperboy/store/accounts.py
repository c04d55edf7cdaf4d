"""The accounts repository of the web service (migrations 0002, 0006), and its records.

    user = store.accounts.create_user("ada", password_hash)
    store.accounts.set_vote(user.id, "2405.15738", up=True)   # the paper's shown count
    store.accounts.hit_rate_limit("submit:ada", 3600, time.time())

Users, sessions, API tokens, local votes, rate-limit windows and sign-in failures, in SQL both
backends run, with the plain records (`User`, `ApiToken`) and errors every backend shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from paperboy.store import StoreError
from paperboy.store.chunks import in_chunks
from paperboy.store.connection import Reader
from paperboy.store.rows import LOCAL_VOTES, now_iso

if TYPE_CHECKING:
    from paperboy.store.sql import SQLStore


class NameTaken(StoreError):
    """A user with this name (case-insensitive) exists already."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str | None
    is_admin: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token's metadata; the token itself is shown once and only its hash is stored."""

    id: int
    name: str
    created_at: str


class Accounts:
    """Users, sessions, API tokens, votes, rate limits and sign-in failures."""

    def __init__(self, db: SQLStore):
        self.db = db

    # == accounts, sessions, API tokens, votes, rate limits (web service; migrations 0002, 0006)
    # Shown upvotes are papers.upvotes (upstream) plus the count of local `votes` rows.

    def create_user(
        self, name: str, password_hash: str, email: str | None = None, is_admin: bool = False
    ) -> User:
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO users (name, name_key, email, password_hash, is_admin, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name_key) DO NOTHING RETURNING id",
                (name, name.lower(), email, password_hash, int(is_admin), now_iso()),
            ).fetchone()
            if row is None:
                raise NameTaken(f"the name {name!r} is taken")
            user = self._user_where(conn, "id = ?", row[0])
            assert user is not None  # inserted just now, in this transaction
            return user

    def _user_where(self, conn: Reader, condition: str, *args: Any) -> User | None:
        row = conn.execute(
            f"SELECT id, name, email, is_admin, created_at FROM users WHERE {condition}", args
        ).fetchone()
        return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def user_by_name(self, name: str) -> User | None:
        return self._user_where(self.db.conn, "name_key = ?", name.lower())

    def credentials(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, for signing in."""
        user = self.user_by_name(name)
        if user is None:
            return None
        row = self.db.conn.execute("SELECT password_hash FROM users WHERE id = ?", (user.id,))
        return user, row.fetchone()[0]

    def set_admin(self, name: str, is_admin: bool) -> User | None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE users SET is_admin = ? WHERE name_key = ?", (int(is_admin), name.lower())
            )
            return self._user_where(conn, "name_key = ?", name.lower())

    def users(self) -> list[User]:
        rows = self.db.conn.execute(
            "SELECT id, name, email, is_admin, created_at FROM users ORDER BY id"
        ).fetchall()
        return [User(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def create_session(self, user_id: int, token_hash: str, expires_at: datetime) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (
                    token_hash,
                    user_id,
                    now_iso(),
                    expires_at.astimezone(UTC).isoformat(timespec="seconds"),
                ),
            )

    def session_user(self, token_hash: str) -> User | None:
        """The signed-in user for a session, or None when unknown or expired."""
        row = self.db.conn.execute(
            "SELECT u.id, u.name, u.email, u.is_admin, u.created_at FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash, now_iso()),
        ).fetchone()
        return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def delete_session(self, token_hash: str) -> None:
        """Sign a session out (and sweep expired ones while at it)."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now_iso(),))

    def create_api_token(self, user_id: int, name: str, token_hash: str) -> ApiToken:
        now = now_iso()
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (token_hash, user_id, name, now),
            ).fetchone()
        return ApiToken(row[0], name, now)

    def api_tokens(self, user_id: int) -> list[ApiToken]:
        rows = self.db.conn.execute(
            "SELECT id, name, created_at FROM api_tokens WHERE user_id = ? ORDER BY id", (user_id,)
        ).fetchall()
        return [ApiToken(*row) for row in rows]

    def revoke_api_token(self, user_id: int, token_id: int) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "DELETE FROM api_tokens WHERE id = ? AND user_id = ? RETURNING id",
                    (token_id, user_id),
                ).fetchone()
                is not None
            )

    def api_token_user(self, token_hash: str) -> User | None:
        row = self.db.conn.execute(
            "SELECT u.id, u.name, u.email, u.is_admin, u.created_at FROM api_tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
            (token_hash,),
        ).fetchone()
        return User(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def set_vote(self, user_id: int, paper_id: str, up: bool) -> int:
        """Add (up) or remove a user's vote; idempotent. Returns the paper's shown count."""
        with self.db.transaction() as conn:
            if up:
                conn.execute(
                    "INSERT INTO votes (user_id, paper_id, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (user_id, paper_id, now_iso()),
                )
            else:
                conn.execute(
                    "DELETE FROM votes WHERE user_id = ? AND paper_id = ?", (user_id, paper_id)
                )
            return int(
                conn.execute(
                    f"SELECT p.upvotes + {LOCAL_VOTES} FROM papers p WHERE p.id = ?", (paper_id,)
                ).fetchone()[0]
            )

    def local_votes(self, ids: Iterable[str]) -> dict[str, int]:
        """Local vote counts for these papers (papers without votes are left out)."""
        ids = list(ids)
        found: dict[str, int] = {}
        for chunk, marks in in_chunks(ids):
            found.update(
                self.db.conn.execute(
                    f"SELECT paper_id, count(*) FROM votes WHERE paper_id IN ({marks}) "
                    "GROUP BY paper_id",
                    chunk,
                ).fetchall()
            )
        return found

    def voted_by(self, user_id: int, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for chunk, marks in in_chunks(ids):
            found.update(
                r[0]
                for r in self.db.conn.execute(
                    f"SELECT paper_id FROM votes WHERE user_id = ? AND paper_id IN ({marks})",
                    [user_id, *chunk],
                ).fetchall()
            )
        return found

    def hit_rate_limit(self, key: str, window_seconds: int, now: float) -> int:
        """Count one attempt for `key` in the current fixed window; the window's count so far."""
        window = int(now // window_seconds)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM rate_limits WHERE key = ? AND win < ?", (key, window))
            return int(
                conn.execute(
                    "INSERT INTO rate_limits (key, win, hits) VALUES (?, ?, 1) "
                    "ON CONFLICT (key, win) DO UPDATE SET hits = rate_limits.hits + 1 "
                    "RETURNING hits",
                    (key, window),
                ).fetchone()[0]
            )

    def signin_failures(
        self, name_key: str, address: str, since: float
    ) -> tuple[int, float | None, int]:
        """Wrong passwords for a name since `since`: (how many, when the last, how many of
        them from `address`)."""
        count, last, mine = self.db.conn.execute(
            "SELECT count(*), max(at), coalesce(sum(CASE WHEN address = ? THEN 1 ELSE 0 END), 0) "
            "FROM signin_failures WHERE name_key = ? AND at >= ?",
            (address, name_key, since),
        ).fetchone()
        return count, last, int(mine)

    def add_signin_failure(
        self, name_key: str, address: str, at: float, forget_before: float
    ) -> None:
        """Record one wrong password; failures older than `forget_before` no longer count."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM signin_failures WHERE at < ?", (forget_before,))
            conn.execute(
                "INSERT INTO signin_failures (name_key, address, at) VALUES (?, ?, ?)",
                (name_key, address, at),
            )

    def forget_signin_failures(self, name_key: str, address: str) -> None:
        """A right password: this address's wrong ones for the name stop counting (others'
        still do)."""
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM signin_failures WHERE name_key = ? AND address = ?",
                (name_key, address),
            )
