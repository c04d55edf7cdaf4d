"""Where mail goes: an SMTP relay, a local outbox folder, or the console (mail_backend).

    with postman_for(settings) as postman:
        postman.send("ada@example.org", message_bytes)

- "smtp": `Postman` (mail/send.py) hands each message to the relay.
- "outbox": each message becomes one file in data_dir/outbox/ (written to a temporary name
  and renamed, so a reader never sees half a message); nothing leaves the machine. The demo
  uses it, and the site lists the messages at /_outbox in demo mode only (web/outbox.py).
- "console": each message is printed decoded, as a person reads it, to standard output.
- "auto" (the default): "outbox" in the demo's data directory (demo_dir.py), else "smtp".
Every backend has Postman's interface, so the exactly-once rules of digests.py and
subscriptions.py hold whatever the backend: a message counts as sent once `send` returns.

`readable(message)` decodes a message (RFC 2047 headers, base64 or quoted-printable parts) into
the text a person reads: the headers that matter, then the plain-text part.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from paperboy.config import ConfigError, Settings
from paperboy.demo_dir import is_demo
from paperboy.mail.send import Postman

BACKENDS = ("auto", "smtp", "outbox", "console")
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe")
ENVELOPE = "X-Paperboy-Envelope-To"  # the recipient, added in front of an outbox file


def backend_of(settings: Settings) -> str:
    backend = settings.mail_backend
    if backend not in BACKENDS:
        raise ConfigError(
            f"setting 'mail_backend' must be one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    if backend == "auto":
        return "outbox" if is_demo(settings.data_dir) else "smtp"
    return backend


def postman_for(settings: Settings):
    """The postman the settings ask for (a new one; use it as a context manager)."""
    backend = backend_of(settings)
    if backend == "outbox":
        return OutboxPostman(settings)
    if backend == "console":
        return ConsolePostman(settings)
    return Postman(settings)


def outbox_folder(settings: Settings) -> Path:
    return Path(settings.data_dir) / "outbox"


class _LocalPostman:
    """What Postman's callers use: send, close, the context manager, counts and `where`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sent = 0
        self.retried = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass


class OutboxPostman(_LocalPostman):
    _sequence = itertools.count()

    @property
    def where(self) -> str:
        return f"the outbox {outbox_folder(self.settings)}"

    def send(self, recipient: str, message: bytes) -> None:
        folder = outbox_folder(self.settings)
        folder.mkdir(parents=True, exist_ok=True)
        # Time first, so names sort oldest first; pid and a counter keep them unique.
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence)}.eml"
        temporary = folder / f".{name}.tmp"
        temporary.write_bytes(f"{ENVELOPE}: {recipient}\r\n".encode() + message)
        os.replace(temporary, folder / name)
        self.sent += 1


class ConsolePostman(_LocalPostman):
    where = "the console"

    def send(self, recipient: str, message: bytes) -> None:
        sys.stdout.write(f"--- mail to {recipient} ---\n{readable(message)}\n")
        sys.stdout.flush()
        self.sent += 1


@dataclass(frozen=True)
class Letter:
    """One message of the outbox, decoded."""

    name: str
    recipient: str
    headers: dict[str, str]
    text: str
    sent_at: datetime


def readable(message: bytes) -> str:
    """The message as a person reads it: From, To, Subject, Date, then the plain text."""
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    lines = [f"{name}: {parsed[name]}" for name in SHOWN_HEADERS if parsed[name]]
    return "\n".join(lines) + "\n\n" + _plain_text(parsed)


def _plain_text(parsed) -> str:
    part = parsed.get_body(preferencelist=("plain",))
    if part is None:
        return "(no plain-text part)"
    return part.get_content().replace("\r\n", "\n")


def read_outbox(settings: Settings, limit: int = 50) -> list[Letter]:
    """The newest `limit` messages of the outbox, newest first."""
    folder = outbox_folder(settings)
    if not folder.is_dir():
        return []
    names = sorted((p for p in folder.glob("*.eml")), key=lambda p: p.name, reverse=True)
    return [_letter(path) for path in names[:limit]]


def _letter(path: Path) -> Letter:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    headers = {name: str(parsed[name]) for name in SHOWN_HEADERS if parsed[name]}
    stamp = int(path.name.split("-", 1)[0]) / 1e9
    return Letter(
        path.name,
        str(parsed[ENVELOPE] or headers.get("To", "")),
        headers,
        _plain_text(parsed),
        datetime.fromtimestamp(stamp, UTC),
    )
