"""Subscriptions: double opt-in, confirmation, preferences and unsubscribing.

    subs = Subscriptions(store, settings)
    request = subs.request("ada@example.org", topics=["diffusion -video"], frequency="weekly")
    # or, to do something between checking the input and storing it (the web form's limit):
    request = subs.ask(subs.check_form("ada@example.org", topics=["diffusion -video"]))
    subs.send_request_mail(request)          # a confirmation (or, if subscribed, a notice)
    subs.confirm(token)                       # from the signed link: pending -> active

Double opt-in: a new address is `pending` and gets nothing but one confirmation mail until its
owner opens the signed link in it. Asking again never reveals whether an address is known: a
subscribed address gets a mail saying so (with its preferences link) instead of a
confirmation, and the person at the form sees the same answer either way. At most one such
mail goes to an address every `mail_confirm_interval` minutes: the request claims it in the
store, in one statement, before anything is sent, so requests at once on several server
processes still send one. Neither mail prints the name or the topics typed into the form:
whoever fills it in may be someone else, and the mail goes to the owner of the address.

Input is checked here, before anything is stored: addresses (syntax, length, no line breaks),
display names and saved queries (no control characters, bounded length and count).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from paperboy.config import Settings
from paperboy.mail.backends import postman_for
from paperboy.mail.compose import Composer
from paperboy.mail.links import LinkInvalid, Links
from paperboy.mail.records import FREQUENCIES, Subscriber
from paperboy.mail.send import DeliveryError

MAX_ADDRESS = 254  # RFC 5321: a path of 256 octets, brackets included
MAX_LOCAL = 64
MAX_NAME = 100
MAX_QUERY = 200

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class InvalidSubscription(ValueError):
    """Input we will not store; `field` names the form field, the message says what to do."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _has_control(text: str) -> bool:
    # Cc covers CR, LF, NUL and the other C0/C1 controls; Zl/Zp are Unicode line breaks.
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def normalise_email(raw: object) -> str:
    """A deliverable-looking address, lower-cased, IDN domains as punycode; or an error."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidSubscription("email", "enter an email address, like ada@example.org")
    if len(raw) > 2 * MAX_ADDRESS:
        raise InvalidSubscription(
            "email",
            f"that is not an email address: it is {len(raw)} "
            f"characters long (at most {MAX_ADDRESS})",
        )
    text = raw.strip()
    if _has_control(text):
        raise InvalidSubscription(
            "email", "an email address cannot contain line breaks or control characters"
        )
    if text.count("@") != 1:
        raise InvalidSubscription(
            "email",
            f"{_shown(text)} is not an email address: it needs exactly one @, like ada@example.org",
        )
    local, domain = text.split("@")
    if not local.isascii():
        raise InvalidSubscription(
            "email", "addresses with non-ASCII characters before the @ are not supported"
        )
    if not _LOCAL.fullmatch(local) or len(local) > MAX_LOCAL:
        raise InvalidSubscription(
            "email",
            f"{_shown(text)} is not an email address: the part before the @ may hold "
            f"at most {MAX_LOCAL} letters, digits, dots (not first, last or doubled) "
            "and !#$%&'*+/=?^_`{|}~- ; no spaces or quotes",
        )
    domain = domain.rstrip(".").lower()
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_domain = ""
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidSubscription(
            "email",
            f"{_shown(text)} is not an email address: after the "
            "@ comes a domain name like example.org",
        )
    # Lower-case throughout: the same mailbox typed twice must be one subscriber, and no
    # provider in practice treats Ada@ and ada@ as different people.
    address = f"{local}@{ascii_domain}".lower()
    if len(address) > MAX_ADDRESS:
        raise InvalidSubscription(
            "email", f"the address is too long ({len(address)} characters; at most {MAX_ADDRESS})"
        )
    return address


def clean_name(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidSubscription("name", "the name must be text")
    if _has_control(raw):
        raise InvalidSubscription(
            "name", "the name cannot contain line breaks or control characters"
        )
    name = " ".join(raw.split())
    if len(name) > MAX_NAME:
        raise InvalidSubscription(
            "name", f"the name is too long ({len(name)} characters; at most {MAX_NAME})"
        )
    return name


def clean_topics(raw: object, most: int) -> list[str]:
    """Saved queries: one per item (or per line of a string), blanks dropped, duplicates once."""
    if raw is None:
        return []
    if isinstance(raw, str):
        if len(raw) > (MAX_QUERY + 2) * max(most, 1):
            raise InvalidSubscription(
                "topics", f"too much text for {most} topics of at most {MAX_QUERY} characters"
            )
        # Only newlines separate topics (browsers send CRLF); any other control character,
        # a lone CR or a vertical tab included, is refused below rather than split on.
        items = raw.replace("\r\n", "\n").split("\n")
    else:
        items = list(raw)
    topics: list[str] = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, str):
            raise InvalidSubscription("topics", f"topic {number} must be text")
        if _has_control(item):
            raise InvalidSubscription(
                "topics",
                f"topic {number} contains a line break or a "
                "control character; give one topic per line",
            )
        query = " ".join(item.split())
        if not query or query in topics:
            continue
        if len(query) > MAX_QUERY:
            raise InvalidSubscription(
                "topics",
                f"topic {number} is too long ({len(query)} characters; at most {MAX_QUERY})",
            )
        topics.append(query)
    if len(topics) > most:
        raise InvalidSubscription("topics", f"{len(topics)} topics is too many; at most {most}")
    return topics


def check_frequency(raw: object) -> str:
    if raw not in FREQUENCIES:
        raise InvalidSubscription(
            "frequency",
            f"frequency must be one of {', '.join(FREQUENCIES)}; got {_shown(str(raw))}",
        )
    return raw


@dataclass
class SubscriptionForm:
    """A subscribe form's values, checked: what `Subscriptions.ask` stores."""

    email: str
    name: str
    frequency: str
    include_top: bool
    topics: list[str]


@dataclass
class SubscriptionRequest:
    subscriber: Subscriber
    mail: str | None  # "confirm", "notice", or None (one was sent moments ago)
    claimed_at: datetime | None = None  # when this request claimed its mail in the store


class Subscriptions:
    def __init__(
        self,
        store,
        settings: Settings,
        links: Links | None = None,
        postman_factory=postman_for,
        clock=lambda: datetime.now(UTC),
    ):
        self.store = store
        self.settings = settings
        self.links = links or Links(settings)
        self._postman_factory = postman_factory
        self._clock = clock

    # -- asking ------------------------------------------------------------------------------
    def request(
        self,
        email: object,
        topics: object = (),
        frequency: object = "daily",
        name: object = "",
        include_top: bool = True,
    ) -> SubscriptionRequest:
        """Validate and store a subscription request; decide which mail answers it."""
        return self.ask(self.check_form(email, topics, frequency, name, include_top))

    def check_form(
        self,
        email: object,
        topics: object = (),
        frequency: object = "daily",
        name: object = "",
        include_top: bool = True,
    ) -> SubscriptionForm:
        """The checked values, or InvalidSubscription; nothing is stored yet."""
        return SubscriptionForm(
            normalise_email(email),
            clean_name(name),
            check_frequency(frequency),
            bool(include_top),
            clean_topics(topics, self.settings.mail_max_topics),
        )

    def ask(self, form: SubscriptionForm) -> SubscriptionRequest:
        """Store the request and claim its mail; `mail` is None when one went out lately
        (and then nothing changed)."""
        now = self._clock()
        subscriber, before, claimed = self.store.claim_subscription_mail(
            form.email,
            form.name,
            form.frequency,
            form.include_top,
            form.topics,
            secrets.token_urlsafe(12),
            now,
            timedelta(minutes=self.settings.mail_confirm_interval),
        )
        if not claimed:
            return SubscriptionRequest(subscriber, None)
        mail = "notice" if before in ("active", "paused") else "confirm"
        return SubscriptionRequest(subscriber, mail, now)

    def send_request_mail(self, request: SubscriptionRequest) -> bool:
        """Send the claimed confirmation or notice (SMTP errors propagate); False when none
        was due."""
        if request.mail is None:
            return False
        composer = Composer(self.settings, self.links)
        now = self._clock()
        subscriber = request.subscriber
        if request.mail == "confirm":
            message = composer.confirmation(subscriber, now)
        else:
            message = composer.already_subscribed(subscriber, now)
        try:
            with self._postman_factory(self.settings) as postman:
                postman.send(subscriber.email, message)
        except DeliveryError as exc:
            # A reply code means the server refused it: nothing was delivered, so the next
            # request may try again. Without one (a lost connection) it may have arrived, and
            # the claim stands: one mail per interval at most.
            if exc.code is not None and request.claimed_at is not None:
                self.store.release_subscription_mail(subscriber.id, request.claimed_at)
            raise
        return True

    # -- signed links ------------------------------------------------------------------------
    def confirm(self, token: str) -> Subscriber:
        """The subscriber behind a confirmation link, now active (LinkInvalid/LinkExpired)."""
        subscriber_id, nonce = self.links.read("confirm", token)
        subscriber = self.store.confirm_subscriber(subscriber_id, nonce)
        if subscriber is None:
            # Genuine but superseded: the address asked again, and only the newest link counts.
            raise LinkInvalid(
                "this confirmation link was replaced by a newer one: use the latest mail"
            )
        return subscriber

    def _subscriber(self, purpose: str, token: str) -> Subscriber:
        subscriber_id, _ = self.links.read(purpose, token)
        subscriber = self.store.subscriber(subscriber_id)
        if subscriber is None:
            raise LinkInvalid("this subscription no longer exists")
        return subscriber

    def unsubscribe(self, token: str) -> Subscriber:
        """One-click unsubscribe (RFC 8058): idempotent, never expires."""
        subscriber = self._subscriber("unsubscribe", token)
        self.store.unsubscribe(subscriber.id)
        subscriber.status = "unsubscribed"
        return subscriber

    def for_preferences(self, token: str) -> Subscriber:
        return self._subscriber("preferences", token)

    def save_preferences(
        self, token: str, frequency: object, topics: object, include_top: bool, paused: bool
    ) -> Subscriber:
        subscriber = self.for_preferences(token)
        frequency = check_frequency(frequency)
        topics = clean_topics(topics, self.settings.mail_max_topics)
        self.store.update_subscriber(
            subscriber.id, frequency, bool(include_top), bool(paused), topics
        )
        return self.store.subscriber(subscriber.id)
