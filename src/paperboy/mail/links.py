"""Signed links in mails: confirm a subscription, unsubscribe, open the preferences page; turn
reply notices on and off (mail/replies.py).

    links = Links(settings)
    url = links.preferences_url(subscriber)          # .../subscriptions/preferences?token=...
    subscriber_id, nonce = links.read("preferences", token)   # LinkInvalid / LinkExpired

A token carries the subscriber id (and, for confirmation, the nonce of that subscribe request),
the time it was made and an HMAC over both, keyed by the secret key and the link's purpose: a
token for one purpose is worthless for another. Reply-notice tokens carry a user id instead (and,
to confirm, the address they were sent to). Confirmation links expire after
`mail_confirm_hours` (reply notices' too), preferences links after `mail_link_days`;
unsubscribe links (digests' and reply notices') never expire,
because RFC 8058 asks that the link in an old mail keep working.

The secret key is the `secret_key` setting or, when that is empty, a random key generated on
first use into `data_dir/secret_key` with file mode 0600.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from paperboy.config import ConfigError, Settings

PURPOSES = (
    "confirm",
    "unsubscribe",
    "preferences",
    "replies-confirm",
    "replies-unsubscribe",
    "email-verify",
)
SECRET_FILE = "secret_key"


class LinkInvalid(ValueError):
    """The token was altered, truncated, or made for another purpose or another installation."""


class LinkExpired(LinkInvalid):
    """The token is genuine but older than its purpose allows."""


def secret_key(settings: Settings) -> str:
    """The key that signs links: the setting, or the key file (created on first use)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / SECRET_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # The key is written whole to a file of this process's own, then linked into place:
    # os.link fails when the key file exists, so when requests or processes start at once one
    # key wins and every reader sees it complete (creating the key file itself and writing it
    # after let a reader find it empty: a 500 under concurrent first sign-ups).
    draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another request's key is in place: use that one
    finally:
        draft.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 16:
        raise ConfigError(
            f"the secret key file {path} holds no usable key (under 16 characters):"
            " delete it to generate a new one (old links stop working)"
        )
    return key


class _ClockSigner(TimestampSigner):
    """A timestamp signer whose clock can be set, so expiry is testable without waiting."""

    def __init__(self, *args, clock=time.time, **kwargs):
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class Links:
    def __init__(self, settings: Settings, clock=time.time, key: str | None = None):
        self.base = settings.public_url.rstrip("/")
        self._max_age = {
            "confirm": settings.mail_confirm_hours * 3600,
            "unsubscribe": None,
            "preferences": settings.mail_link_days * 86400,
            "replies-confirm": settings.mail_confirm_hours * 3600,
            "replies-unsubscribe": None,
            "email-verify": settings.mail_confirm_hours * 3600,
        }
        secret = key or secret_key(settings)
        self._serializers = {
            purpose: URLSafeTimedSerializer(
                secret,
                salt=f"paperboy.mail.{purpose}",
                signer=_ClockSigner,
                signer_kwargs={"clock": clock, "digest_method": hashlib.sha256},
            )
            for purpose in PURPOSES
        }

    # -- tokens ------------------------------------------------------------------------------
    def token(self, purpose: str, subscriber_id: int, nonce: str = "") -> str:
        return self._serializers[purpose].dumps([subscriber_id, nonce])

    def read(self, purpose: str, token: str | None) -> tuple[int, str]:
        """(subscriber id, nonce) from a genuine, unexpired token of this purpose."""
        if not token or len(token) > 1000:
            raise LinkInvalid("the link has no valid token")
        try:
            value = self._serializers[purpose].loads(token, max_age=self._max_age[purpose])
        except SignatureExpired:
            raise LinkExpired("the link has expired") from None
        except BadSignature:
            raise LinkInvalid("the link is not valid (altered or incomplete)") from None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not isinstance(value[0], int)
            or not isinstance(value[1], str)
        ):
            raise LinkInvalid("the link is not valid")
        return value[0], value[1]

    # -- URLs --------------------------------------------------------------------------------
    def _url(self, path: str, **query) -> str:
        return f"{self.base}{path}?{urlencode(query)}"

    def confirm_url(self, subscriber) -> str:
        return self._url(
            "/subscriptions/confirm", token=self.token("confirm", subscriber.id, subscriber.nonce)
        )

    def unsubscribe_url(self, subscriber) -> str:
        return self._url(
            "/subscriptions/unsubscribe", token=self.token("unsubscribe", subscriber.id)
        )

    def preferences_url(self, subscriber) -> str:
        return self._url(
            "/subscriptions/preferences", token=self.token("preferences", subscriber.id)
        )

    def replies_confirm_url(self, user_id: int, address: str) -> str:
        """Turns reply notices on for this account and address (mail/replies.py)."""
        return self._url("/replies/confirm", token=self.token("replies-confirm", user_id, address))

    def replies_unsubscribe_url(self, user_id: int) -> str:
        return self._url("/replies/unsubscribe", token=self.token("replies-unsubscribe", user_id))

    def verify_email_url(self, user_id: int, address: str) -> str:
        """Proves that the account's owner reads `address` (mail/replies.py `ask_to_verify`):
        the digest's "For you" section needs it."""
        return self._url(
            "/account/verify-email", token=self.token("email-verify", user_id, address)
        )

    def paper_url(self, paper_id: str) -> str:
        return f"{self.base}/papers/{quote(paper_id)}"

    def search_url(self, query: str) -> str:
        return self._url("/search", q=query)

    def subscribe_url(self) -> str:
        return f"{self.base}/subscribe"
