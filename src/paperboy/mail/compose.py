"""Composing mail: choose what goes into a digest, render it, and build the MIME message.

Pure functions, no I/O: inputs in, a `Digest` or the bytes of a message out.

    digest = select_digest(subscriber, period, window, top, topic_hits, already_sent,
                           digest_size=10, topic_size=5)
    composer = Composer(settings, links)
    raw = composer.digest(subscriber, digest, message_id, now)   # bytes, CRLF, 7-bit

Every message is multipart/alternative with a plain-text part and an HTML part (inline CSS, no
remote images) rendered from the Jinja2 templates in mail/templates/. Bodies are
quoted-printable UTF-8; non-ASCII names and subjects are RFC 2047 encoded words.

We write the MIME structure ourselves instead of serialising an `email.message.EmailMessage`:
the email package's folding rewrites a long `List-Unsubscribe` URL into encoded words (which
breaks the link for mail clients), and at 3.6 ms per message it was most of the time of a
10,000-subscriber run. Tests parse every kind of message back with the standard parser.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from paperboy.config import Settings
from paperboy.latex import to_text
from paperboy.links import TEMPLATE_FILTERS
from paperboy.papers import Paper, clean_text

ABSTRACT_CHARS = 300
AUTHORS_SHOWN = 4


# -- what goes into a digest -----------------------------------------------------------------
@dataclass
class Section:
    kind: str  # "foryou", "top" or "topic"
    papers: list[Paper]
    query: str | None = None  # the topic's saved search
    more: int = 0  # further matches in the period not shown (to see on the site)
    reasons: list[str] = field(default_factory=list)  # "foryou": one line per paper


@dataclass
class Digest:
    period: str  # daily:2026-08-21, weekly:2026-W34
    frequency: str
    first: date  # the feed days it covers, inclusive
    last: date
    sections: list[Section] = field(default_factory=list)

    @property
    def papers(self) -> list[Paper]:
        return [p for s in self.sections for p in s.papers]

    @property
    def empty(self) -> bool:
        return not any(s.papers for s in self.sections)


def in_window(paper: Paper, first: date, last: date) -> bool:
    return paper.entry is not None and first <= paper.entry.day <= last


def select_digest(
    subscriber,
    period: str,
    window: tuple[date, date],
    top: list[Paper],
    topic_hits: dict[str, list[Paper]],
    already_sent: set[str],
    digest_size: int,
    topic_size: int,
    for_you: list[tuple[Paper, str]] | None = None,
) -> Digest:
    """The papers of one subscriber's digest; each paper at most once, and never one sent before.

    `top` holds the window's feed papers, most upvoted first; `topic_hits` maps each saved
    query to its matching papers, best score first (any window: filtered here). `for_you`
    holds (paper, reason) pairs ranked for the subscriber's account (paperboy/foryou.py), if
    it has one with seeds: its section comes first, so the rest leave its papers out.
    """
    first, last = window
    digest = Digest(period, subscriber.frequency, first, last)
    taken = set(already_sent)
    if for_you:
        chosen_pairs = [
            (p, why) for p, why in for_you if p.id not in taken and in_window(p, first, last)
        ][:topic_size]
        taken.update(p.id for p, _ in chosen_pairs)
        papers = [p for p, _ in chosen_pairs]
        digest.sections.append(Section("foryou", papers, reasons=[w for _, w in chosen_pairs]))
    if subscriber.include_top:
        chosen = [p for p in top if p.id not in taken and in_window(p, first, last)][:digest_size]
        taken.update(p.id for p in chosen)
        digest.sections.append(Section("top", chosen))
    for query in subscriber.topics:
        fresh = [
            p for p in topic_hits.get(query, ()) if p.id not in taken and in_window(p, first, last)
        ]
        chosen = fresh[:topic_size]
        taken.update(p.id for p in chosen)
        digest.sections.append(Section("topic", chosen, query, len(fresh) - len(chosen)))
    return digest


# -- headers and MIME ------------------------------------------------------------------------
class HeaderInjection(ValueError):
    """A header value holds a line break or another control character."""


def _check_header(value: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise HeaderInjection(f"refusing a header value with a control character: {value[:60]!r}")
    return value


def _check_encoded(value: str) -> str:
    """An encoded header value: ASCII, and no line breaks but folding ones (CRLF + space)."""
    unfolded = value.replace("\r\n ", "").replace("\r\n\t", "")
    if not value.isascii() or "\r" in unfolded or "\n" in unfolded:
        raise HeaderInjection(f"refusing an unencoded or broken header value: {value[:60]!r}")
    return value


def encoded_words(text: str, size: int = 39) -> str:
    """RFC 2047 "B" encoded words for non-ASCII text, folded one word a line.

    `size` bytes of UTF-8 a word (never splitting a character; 39 keeps each line under 78
    characters); decoders join adjacent encoded words without the folding space.
    """
    words, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > size:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def fold_ascii(name: str, value: str, width: int = 78) -> str:
    """Fold an ASCII header value at spaces so lines stay under `width` where words allow."""
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > width and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return "\r\n".join(lines)[len(name) + 2 :]


def encode_text_header(name: str, value: str) -> str:
    """An unstructured header (Subject): folded, encoded words only when it is not ASCII."""
    _check_header(value)
    # "=?" in plain ASCII would read as the start of an encoded word: encode that too.
    if value.isascii() and "=?" not in value:
        return fold_ascii(name, value)
    return encoded_words(value)


def encode_address(name: str, address: str) -> str:
    """`Name <address>`: quoted when needed, RFC 2047 encoded words when the name is not ASCII."""
    _check_header(name)
    _check_header(address)
    if not address.isascii():
        raise HeaderInjection(f"addresses must be ASCII (IDN domains as punycode): {address!r}")
    if not name:
        return address
    if name.isascii() and "=?" not in name:
        return formataddr((name, address))
    # One encoded word when it fits (45 bytes: a 72-character word), which every parser
    # reads back alike; longer names are split as RFC 2047 says, and a few lax parsers
    # (Python's own address parser among them) put a space where the split was.
    size = 45 if len(name.encode("utf-8")) <= 45 else 39
    return f"{encoded_words(name, size)} <{address}>"


def quoted_printable(text: str) -> bytes:
    """UTF-8 quoted-printable with CRLF line ends (lines of at most 76 characters)."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(normal.encode("utf-8")).replace(b"\n", b"\r\n")


def build_message(
    headers: list[tuple[str, str]], text: str, html: str, boundary: str | None = None
) -> bytes:
    """A multipart/alternative message: headers as given (already encoded), text, then HTML.

    Clients show the last part they can display, so HTML goes last. The boundary must start
    with "=_": quoted-printable output never holds that, so it cannot occur inside a part.
    """
    boundary = boundary or "=_pb_" + secrets.token_hex(12)
    if not boundary.startswith("=_"):
        raise ValueError("a boundary must start with '=_'")
    lines = [f"{name}: {_check_encoded(value)}" for name, value in headers]
    head = "\r\n".join(
        lines
        + [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
        ]
    ).encode("ascii")
    part = (
        "Content-Type: text/{}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return b"".join(
        [
            head,
            b"\r\n\r\n",
            f"--{boundary}\r\n".encode(),
            part.format("plain").encode(),
            quoted_printable(text),
            b"\r\n",
            f"--{boundary}\r\n".encode(),
            part.format("html").encode(),
            quoted_printable(html),
            b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
    )


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


# -- rendering -------------------------------------------------------------------------------
def short_abstract(text: str, limit: int = ABSTRACT_CHARS) -> str:
    text = clean_text(text)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def author_line(authors: list[str], shown: int = AUTHORS_SHOWN) -> str:
    if len(authors) <= shown:
        return ", ".join(authors)
    return ", ".join(authors[:shown]) + f" and {len(authors) - shown} more"


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def period_label(digest: Digest) -> str:
    if digest.first == digest.last:
        return long_date(digest.last)
    return f"{digest.first.day} {digest.first:%b} – {long_date(digest.last)}"


def digest_subject(digest: Digest) -> str:
    papers = digest.papers
    lead = to_text(clean_text(papers[0].title))
    if len(lead) > 80:
        lead = lead[:79].rstrip() + "…"
    rest = len(papers) - 1
    more = f" + {rest} more" if rest else ""
    return f"{lead}{more} · paperboy {digest.frequency}"


class Composer:
    """Renders and builds the messages of one run; renders each paper's block once per run."""

    def __init__(self, settings: Settings, links):
        self.settings = settings
        self.links = links
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("paperboy.mail", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,  # templates do not change during a run: no stat() per render
        )
        self.env.filters["long_date"] = long_date
        self.env.filters.update(TEMPLATE_FILTERS)  # outside URLs become links only through these
        self.from_header = encode_address(settings.mail_from_name, settings.mail_from)
        self.domain = _domain(settings.mail_from)
        host = urlsplit(settings.public_url).hostname or "localhost"
        self.list_id = f"paperboy digests <digest.{host}>"
        self._blocks: dict[tuple[str, str], str] = {}
        # Unique names without asking the OS for randomness twice a message (os.urandom
        # costs ~0.1 ms in some VMs): a random prefix per composer and a counter.
        self._unique = secrets.token_hex(8)
        self._serial = itertools.count(1)

    def _paper_block(self, paper: Paper, kind: str) -> str:
        """The HTML or text block of one paper: the same for every subscriber in a run."""
        key = (paper.id, kind)
        block = self._blocks.get(key)
        if block is None:
            context = {
                "paper": paper,
                "title": to_text(clean_text(paper.title)),
                "authors": author_line(paper.authors),
                "abstract": short_abstract(to_text(paper.abstract or "")),
                "upvotes": paper.upvotes or 0,
                "paper_url": self.links.paper_url(paper.id),
            }
            block = self.env.get_template(f"_paper.{kind}").render(context)
            if kind == "html":
                block = Markup(block)
            self._blocks[key] = block
        return block

    def _render_pair(self, name: str, context: dict) -> tuple[str, str]:
        context = dict(context, public_url=self.links.base)
        text = self.env.get_template(f"{name}.txt").render(context)
        html = self.env.get_template(f"{name}.html").render(context)
        return text, html

    def _headers(
        self, subscriber, subject: str, message_id: str, now: datetime, named: bool = True
    ) -> list:
        # `named=False` for mails asked for through the public form: the name typed there may
        # be anyone's words, and they must not reach the owner of the address.
        return [
            ("From", self.from_header),
            ("To", encode_address(subscriber.name if named else "", subscriber.email)),
            ("Subject", encode_text_header("Subject", subject)),
            ("Date", format_datetime(now.astimezone(UTC))),
            ("Message-ID", message_id),
        ]

    def message_id(self) -> str:
        return f"<{int(time.time())}.{self._unique}.{next(self._serial)}@{self.domain}>"

    def _build(self, headers: list, text: str, html: str) -> bytes:
        return build_message(headers, text, html, f"=_pb_{self._unique}_{next(self._serial)}")

    def digest(self, subscriber, digest: Digest, message_id: str, now: datetime) -> bytes:
        unsubscribe = self.links.unsubscribe_url(subscriber)
        sections = []
        for section in digest.sections:
            if not section.papers:
                continue
            sections.append(
                {
                    "kind": section.kind,
                    "query": section.query,
                    "more": section.more,
                    "search_url": self.links.search_url(section.query) if section.query else None,
                    "reasons": section.reasons,
                    "html": [self._paper_block(p, "html") for p in section.papers],
                    "text": [self._paper_block(p, "txt") for p in section.papers],
                }
            )
        context = {
            "subscriber": subscriber,
            "digest": digest,
            "sections": sections,
            "label": period_label(digest),
            "count": len(digest.papers),
            "unsubscribe_url": unsubscribe,
            "preferences_url": self.links.preferences_url(subscriber),
        }
        text, html = self._render_pair("digest", context)
        headers = self._headers(subscriber, digest_subject(digest), message_id, now) + [
            ("List-Id", self.list_id),
            ("List-Unsubscribe", f"<{unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Auto-Submitted", "auto-generated"),
        ]
        return self._build(headers, text, html)

    def confirmation(self, subscriber, now: datetime) -> bytes:
        """The double opt-in mail: a signed, expiring link; nothing else is sent before it.

        Anyone can fill in the form, so nothing typed there is printed (neither the name nor
        the topics; the page behind the link shows the topics before the owner confirms)."""
        context = {
            "subscriber": subscriber,
            "confirm_url": self.links.confirm_url(subscriber),
            "hours": self.settings.mail_confirm_hours,
        }
        text, html = self._render_pair("confirm", context)
        headers = self._headers(
            subscriber, "Confirm your paperboy subscription", self.message_id(), now, named=False
        ) + [("Auto-Submitted", "auto-generated")]
        return self._build(headers, text, html)

    def already_subscribed(self, subscriber, now: datetime) -> bytes:
        """Sent instead of a confirmation when the address is already subscribed: the owner
        learns it, and the person at the form learns nothing."""
        context = {
            "subscriber": subscriber,
            "preferences_url": self.links.preferences_url(subscriber),
            "days": self.settings.mail_link_days,
        }
        text, html = self._render_pair("notice", context)
        headers = self._headers(
            subscriber, "Your paperboy subscription", self.message_id(), now, named=False
        ) + [("Auto-Submitted", "auto-generated")]
        return self._build(headers, text, html)
