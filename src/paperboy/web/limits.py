"""Rate limits on sign-in, sign-up, upvote and submit, shared by every server worker.

Counters live in the store (fixed windows), so two uvicorn workers enforce one limit together.
The numbers are documented in docs/web.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    action: str
    hits: int  # allowed attempts per window
    seconds: int  # window length


SIGN_IN = Limit("signin", 10, 300)  # per client address and per account name
SIGN_UP = Limit("signup", 10, 3600)  # per client address
UPVOTE = Limit("upvote", 120, 60)  # per user
SUBMIT = Limit("submit", 20, 3600)  # per user


class RateLimited(Exception):
    def __init__(self, limit: Limit, retry_after: int):
        self.limit, self.retry_after = limit, retry_after
        super().__init__(
            f"too many {limit.action} attempts: at most {limit.hits} every "
            f"{limit.seconds // 60 or limit.seconds} {'minutes' if limit.seconds >= 60 else 'seconds'}"
            f"; try again in {retry_after} s")


def check(store, limit: Limit, who: str, now: float | None = None) -> None:
    """Count one attempt by `who`; raise RateLimited when the window's allowance is spent."""
    now = time.time() if now is None else now
    hits = store.hit_rate_limit(f"{limit.action}:{who}", limit.seconds, now)
    if hits > limit.hits:
        raise RateLimited(limit, int(limit.seconds - now % limit.seconds) + 1)
