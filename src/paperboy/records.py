"""Plain records shared across the layers: a mail subscriber, the claim on one digest send.

    from paperboy.records import Subscriber, SendClaim

Plain data, no I/O, in the domain layer: the store (below the mail) builds them and the mail
code reads them, so neither has to import the other's layer (paperboy.mail.records re-exports
them for the mail code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

STATUSES = ("pending", "active", "paused", "unsubscribed", "bouncing")
FREQUENCIES = ("daily", "weekly")
# A send log row in one of these states is done for its period: a rerun skips it.
FINAL_SEND_STATES = ("sent", "rejected", "empty")


@dataclass
class Subscriber:
    id: int
    email: str
    name: str = ""
    status: str = "pending"
    frequency: str = "daily"
    include_top: bool = True
    topics: list[str] = field(default_factory=list)
    nonce: str = ""
    covered_through: date | None = None  # last feed day a sent digest covered
    failures: int = 0  # permanent delivery failures in a row
    created_at: datetime | None = None
    confirm_sent_at: datetime | None = None
    confirmed_at: datetime | None = None


@dataclass
class SendClaim:
    """Permission to send one digest: written to the send log before the SMTP transaction."""

    subscriber_id: int
    period: str
    message_id: str
    attempts: int  # including this one
    previous: str | None  # the row's state before: None (first try), sending, deferred
