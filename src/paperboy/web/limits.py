"""Rate limits on sign-in, sign-up, subscribing, upvotes, submissions, comments, reports and
authorship claims, shared by every worker.

    limits.check(store, limits.SUBMIT, f"user:{user.id}")      # RateLimited (429) when spent
    limits.check_signin(store, name, address)                 # before the password is checked
    limits.signin_failed(store, name, address)                # or signin_succeeded(...)

Counters live in the store (fixed windows, one atomic upsert per attempt), so every uvicorn
worker of every `paperboy serve` on the store enforces one limit together.

Sign-in guessing is held back without ever locking an account: a name's wrong passwords make
the addresses that sent them wait longer and longer (a backoff), while an address that has not
guessed wrong for that name is answered at once, so the right password from elsewhere always
gets in. Each address also has its own budgets, for all names and for each name. The numbers,
and why, are in docs/security.md.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from fastapi import Request


@dataclass(frozen=True)
class Limit:
    action: str
    hits: int  # allowed attempts per window
    seconds: int  # window length


SIGN_IN = Limit("signin", 30, 300)  # per client address, whatever the name
SIGN_IN_NAME = Limit("signin-name", 10, 900)  # per account name from one client address
SIGN_UP = Limit("signup", 10, 3600)  # per client address
SUBSCRIBE = Limit("subscribe", 5, 3600)  # per client address: so at most 5 mails it causes
UPVOTE = Limit("upvote", 120, 60)  # per user
SUBMIT = Limit("submit", 20, 3600)  # per user
COMMENT = Limit("comment", 30, 600)  # per user: new comments, replies and edits
REPORT = Limit("report", 30, 3600)  # per user
CLAIM = Limit("claim", 20, 3600)  # per user: authorship claims

# The per-name backoff: wrong passwords for a name count for BACKOFF_WINDOW seconds; after
# BACKOFF_FREE of them, an address that guessed wrong waits 1, 2, 4 ... seconds (at most
# BACKOFF_MAX) after the name's latest wrong password before its next guess is checked.
BACKOFF_WINDOW = 900
BACKOFF_FREE = 3
BACKOFF_MAX = 60


class RateLimited(Exception):
    """429 Too Many Requests; `retry_after` seconds until a try may be answered."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def client_address(request: Request) -> str:
    """Who is asking, for per-client limits: the peer address (uvicorn puts a trusted
    proxy's X-Forwarded-For there)."""
    return request.client.host if request.client else "unknown"


def _spent(limit: Limit, retry_after: int) -> RateLimited:
    minutes = limit.seconds // 60
    window = f"{minutes} minutes" if limit.seconds >= 60 else f"{limit.seconds} seconds"
    window = "minute" if limit.seconds == 60 else window
    return RateLimited(
        f"too many {limit.action} attempts: at most {limit.hits} every "
        f"{window}; try again in {retry_after} s",
        retry_after,
    )


def check(store, limit: Limit, who: str, now: float | None = None) -> None:
    """Count one attempt by `who`; raise RateLimited when the window's allowance is spent."""
    now = time.time() if now is None else now
    hits = store.hit_rate_limit(f"{limit.action}:{who}", limit.seconds, now)
    if hits > limit.hits:
        raise _spent(limit, int(limit.seconds - now % limit.seconds) + 1)


# -- sign-in ---------------------------------------------------------------------------------
def backoff_seconds(failures: int) -> int:
    """How long after a name's latest wrong password the next guess from a guesser waits."""
    if failures < BACKOFF_FREE:
        return 0
    return min(2 ** (failures - BACKOFF_FREE), BACKOFF_MAX)


def _name_key(name: str) -> str:
    # Names are unique ignoring case; no account name is longer than 32 characters, so a
    # longer one is cut rather than stored whole.
    return name.strip().lower()[:64]


def check_signin(store, name: str, address: str, now: float | None = None) -> None:
    """Count a sign-in attempt; RateLimited when this address must not be answered yet.

    Only the address's own attempts and its own wrong guesses can hold it back: another
    address's failures make *their* senders wait, never this one's first try.
    """
    now = time.time() if now is None else now
    key = _name_key(name)
    check(store, SIGN_IN, f"ip:{address}", now)
    check(store, SIGN_IN_NAME, f"{address}/{key}", now)
    failures, last, mine = store.signin_failures(key, address, now - BACKOFF_WINDOW)
    if mine and last is not None:
        ready = last + backoff_seconds(failures)
        if now < ready:
            wait = math.ceil(ready - now)
            raise RateLimited(
                f"too many wrong passwords for this name: wait {wait} s before the next try", wait
            )


def signin_failed(store, name: str, address: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    store.add_signin_failure(_name_key(name), address, now, now - BACKOFF_WINDOW)


def signin_succeeded(store, name: str, address: str) -> None:
    store.forget_signin_failures(_name_key(name), address)
