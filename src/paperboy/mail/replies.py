"""Reply notices by mail: "someone replied in a discussion you took part in".

    report = send_replies(store, settings)      # sends what store/replies.py has queued
    report = send_queued_replies(store, settings)  # all that is due, without a new reply
    ask_to_confirm(store, settings, user)       # the opt-in mail with its signed link
    ask_to_verify(settings, user.id, name, address)   # "this address is mine" (For you)

Opt-in, off by default: the account page sends a mail with a signed link (mail/links.py,
purpose "replies-confirm", expiring after `mail_confirm_hours`) to the account's address, and
notices start once that link is opened; the address is then confirmed. Every notice carries a
one-click unsubscribe link (RFC 8058: `List-Unsubscribe` and `List-Unsubscribe-Post`, a signed
link that never expires) that turns them off.

The request that stores a reply only queues its notices (in its own transaction); they are
sent here, after the response, by the app's background task (web/reply_mail.py). Each run
sends every due notice. Notices a process left queued when it stopped (before its background
task ran), and deferred ones coming due, need no new reply: `send_queued_replies` sends them,
run by `paperboy digest replies`, `paperboy digest send`, `paperboy sync` and the digest
scheduler of `paperboy serve` (at its start, then every few minutes).
Senders take turns per notice (store/replies.py `claim`): a notice goes
out at most once even when two senders run or one dies mid-way. A deferred notice (4xx, or no
SMTP server) waits `mail_retry_minutes` and is tried again, in up to MAX_ATTEMPTS runs; a
refused one (5xx) is marked failed. A notice is dropped, not sent, when its reply was deleted
or hidden, or its recipient turned reply mail off, before it went out.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from paperboy.config import Settings
from paperboy.mail.backends import postman_for
from paperboy.mail.compose import build_message, encode_address, encode_text_header
from paperboy.mail.links import Links
from paperboy.mail.send import DeliveryError, Rejected, SMTPUnavailable
from paperboy.store.replies import Notice, Replies
from paperboy.store.submissions import stamp

log = logging.getLogger("paperboy.mail")
SNIPPET_CHARS = 2_000  # a notice quotes the reply, up to this much
MAX_ATTEMPTS = 5  # runs that may try a deferred notice before it is marked failed


@dataclass
class ReplyReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    dropped: int = 0

    def __iadd__(self, other: ReplyReport) -> ReplyReport:
        self.sent += other.sent
        self.deferred += other.deferred
        self.failed += other.failed
        self.dropped += other.dropped
        return self

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.failed + self.dropped

    def summary(self) -> str:
        return (
            f"reply notices: {self.sent} sent, {self.deferred} deferred, {self.failed} failed, "
            f"{self.dropped} dropped"
        )


class ReplyMail:
    """Builds the two messages: a notice, and the opt-in mail."""

    def __init__(self, settings: Settings, links: Links | None = None):
        self.settings = settings
        self.links = links or Links(settings)
        self.sender = encode_address(settings.mail_from_name, settings.mail_from)
        self.domain = settings.mail_from.rpartition("@")[2] or "localhost"

    def _headers(self, name: str, address: str, subject: str, key: str) -> list[tuple[str, str]]:
        now = datetime.now(UTC)
        return [
            ("From", self.sender),
            ("To", encode_address(name, address)),
            ("Subject", encode_text_header("Subject", subject)),
            ("Date", format_datetime(now)),
            ("Message-ID", f"<{key}.{int(now.timestamp())}@{self.domain}>"),
            ("Auto-Submitted", "auto-generated"),
        ]

    def notice(self, n: Notice) -> bytes:
        assert n.address is not None
        url = f"{self.links.paper_url(n.paper_id)}#c-{n.comment_id}"
        stop = self.links.replies_unsubscribe_url(n.user_id)
        quote = n.body if len(n.body) <= SNIPPET_CHARS else n.body[:SNIPPET_CHARS] + " ..."
        title = " ".join(n.paper_title.split())[:200]
        text = (
            f"{n.replier} replied in a discussion you took part in, on\n{title}\n\n"
            + "".join(f"> {line}\n" for line in quote.splitlines())
            + f"\nRead it and answer: {url}\n\n"
            f"You get these because you turned on reply mail. Stop them: {stop}\n"
        )
        body = (
            f"<p>{html.escape(n.replier)} replied in a discussion you took part in, on "
            f"<b>{html.escape(title)}</b>:</p>"
            f'<blockquote style="white-space:pre-wrap">{html.escape(quote)}</blockquote>'
            f'<p><a href="{html.escape(url)}">Read it and answer</a></p>'
            f'<p style="font-size:small">You get these because you turned on reply mail. '
            f'<a href="{html.escape(stop)}">Stop them</a>.</p>'
        )
        headers = self._headers(
            n.recipient,
            n.address,
            f"{n.replier} replied: {title}"[:150],
            f"reply.{n.comment_id}.{n.user_id}",
        ) + [
            ("List-Unsubscribe", f"<{stop}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        return build_message(headers, text, f"<html><body>{body}</body></html>")

    def confirmation(self, user_id: int, name: str, address: str) -> bytes:
        url = self.links.replies_confirm_url(user_id, address)
        hours = self.settings.mail_confirm_hours
        text = (
            f"Someone (we hope you) asked paperboy to mail {address} when someone replies in a "
            f"discussion where the account {name!r} wrote.\n\n"
            f"Turn reply mail on: {url}\n\n"
            f"The link works for {hours} hours. If you did not ask, ignore this mail.\n"
        )
        body = (
            f"<p>Someone (we hope you) asked paperboy to mail {html.escape(address)} when "
            f"someone replies in a discussion where the account <b>{html.escape(name)}</b> "
            f'wrote.</p><p><a href="{html.escape(url)}">Turn reply mail on</a></p>'
            f"<p>The link works for {hours} hours. If you did not ask, ignore this mail.</p>"
        )
        headers = self._headers(name, address, "Turn on paperboy reply mail", f"optin.{user_id}")
        return build_message(headers, text, f"<html><body>{body}</body></html>")

    def verification(self, user_id: int, name: str, address: str) -> bytes:
        """The check that the account's owner reads its address: until its link is opened,
        no digest to this address carries the account's "For you" picks."""
        url = self.links.verify_email_url(user_id, address)
        hours = self.settings.mail_confirm_hours
        text = (
            f"Someone (we hope you) gave {address} as the address of the paperboy account "
            f"{name!r}. Open this link to confirm it is yours, and your digests at this "
            f'address will carry a "For you" section ranked from that account\'s library:\n\n'
            f"{url}\n\n"
            f"The link works for {hours} hours. If you did not ask, ignore this mail.\n"
        )
        body = (
            f"<p>Someone (we hope you) gave {html.escape(address)} as the address of the "
            f"paperboy account <b>{html.escape(name)}</b>. Confirm it is yours, and your "
            f"digests at this address will carry a &ldquo;For you&rdquo; section ranked from "
            f'that account\'s library.</p><p><a href="{html.escape(url)}">It is my '
            f"address</a></p><p>The link works for {hours} hours. If you did not ask, "
            f"ignore this mail.</p>"
        )
        headers = self._headers(name, address, "Confirm your paperboy address", f"verify.{user_id}")
        return build_message(headers, text, f"<html><body>{body}</body></html>")


def ask_to_verify(settings: Settings, user_id: int, name: str, address: str) -> None:
    """Send the address check now (the web app calls this after its response)."""
    with postman_for(settings) as postman:
        postman.send(address, ReplyMail(settings).verification(user_id, name, address))


def ask_to_confirm(settings: Settings, user_id: int, name: str, address: str) -> None:
    """Send the opt-in mail now (the web app calls this after its response)."""
    with postman_for(settings) as postman:
        postman.send(address, ReplyMail(settings).confirmation(user_id, name, address))


def send_replies(store, settings: Settings, limit: int = 500) -> ReplyReport:
    """Send the queued notices that are due (at most `limit`); what happened to them."""
    replies, mail, report = Replies(store), ReplyMail(settings), ReplyReport()
    keys = replies.due(limit=limit)
    if not keys:
        return report
    with postman_for(settings) as postman:
        for key in keys:
            if not replies.claim(*key):
                continue  # another sender has it
            notice = replies.notice(*key)
            if notice is None or notice.address is None or not notice.shown:
                replies.finish(*key, "dropped")
                report.dropped += 1
                continue
            try:
                postman.send(notice.address, mail.notice(notice))
            except Rejected as exc:
                replies.finish(*key, "failed", str(exc))
                report.failed += 1
            except DeliveryError as exc:
                _retry_later(replies, settings, notice, exc, report)
                if isinstance(exc, SMTPUnavailable):
                    break  # no server: the rest wait for the next run
            else:
                replies.finish(*key, "sent")
                report.sent += 1
    if report.deferred or report.failed:
        log.warning("%s", report.summary())
    return report


def _retry_later(
    replies: Replies, settings: Settings, n: Notice, exc: DeliveryError, report: ReplyReport
) -> None:
    key = (n.comment_id, n.user_id)
    if n.attempts >= MAX_ATTEMPTS:
        replies.finish(*key, "failed", f"gave up after {n.attempts} tries: {exc}")
        report.failed += 1
        return
    later = datetime.now(UTC) + timedelta(minutes=settings.mail_retry_minutes)
    replies.defer(*key, stamp(later.timestamp()), str(exc))
    report.deferred += 1


def send_queued_replies(store, settings: Settings, batch: int = 500) -> ReplyReport:
    """Send every due notice, `batch` at a time, until none is left: what a process that
    stopped before its background task ran left queued, and deferred notices now due. Safe
    beside any other sender (each notice is claimed before it is sent: store/replies.py)."""
    total = ReplyReport()
    while True:
        report = send_replies(store, settings, limit=batch)
        total += report
        # Fewer than a batch handled: the queue is drained, or the rest were claimed by
        # another sender, or the server is down (deferred: not due again before the retry).
        if report.handled < batch:
            return total
