"""Sending over SMTP with the standard library: one connection, reused, with retries.

    with Postman(settings) as postman:
        postman.send("ada@example.org", message_bytes)   # Deferred / Rejected / SMTPUnavailable

The settings say where (smtp_host, smtp_port), how (smtp_security: none, starttls, or tls for
implicit TLS) and who (smtp_username, smtp_password; no login when the username is empty).

Failures are sorted by what the caller should do next:
- `Rejected`: the server refused this message or recipient for good (5xx). Record it; enough
  of them in a row and the address is marked bouncing.
- `Deferred`: a transient refusal (4xx) that outlasted our retries. The next run tries again.
- `SMTPUnavailable`: nothing can be sent now (the server is unreachable after retries, or it
  refuses our login or our sender address). The run stops; the next run picks up the rest.
Transient trouble (4xx replies, refused or dropped connections, timeouts) is retried
`mail_retries` times with a pause of `mail_retry_backoff` seconds that doubles each time.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
from urllib.parse import urlsplit

from paperboy.config import ConfigError, Settings

SECURITY_MODES = ("none", "starttls", "tls")


class DeliveryError(Exception):
    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class Deferred(DeliveryError):
    """Transient failure for one message; try again later."""


class Rejected(DeliveryError):
    """Permanent failure for this recipient or message."""


class SMTPUnavailable(DeliveryError):
    """Nothing can be sent now; the message says what to check."""


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


class Postman:
    def __init__(self, settings: Settings, sleep=time.sleep):
        if settings.smtp_security not in SECURITY_MODES:
            raise ConfigError(
                f"setting 'smtp_security' must be one of {', '.join(SECURITY_MODES)},"
                f" got {settings.smtp_security!r}"
            )
        if any(c in settings.mail_from for c in "\r\n") or "@" not in settings.mail_from:
            raise ConfigError(
                f"setting 'mail_from' must be one address, got {settings.mail_from!r}"
            )
        self.settings = settings
        self.sender = settings.mail_from
        self._sleep = sleep
        self._smtp: smtplib.SMTP | None = None
        self.sent = 0
        self.retried = 0

    @property
    def where(self) -> str:
        s = self.settings
        return f"{s.smtp_host}:{s.smtp_port} ({s.smtp_security})"

    def __enter__(self) -> Postman:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the connection ----------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self.settings.smtp_ca_file or None
        return ssl.create_default_context(cafile=ca_file)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        # EHLO with our public host name: smtplib's default asks DNS for our FQDN, which can
        # hang for seconds on a machine without a resolver.
        helo = urlsplit(s.public_url).hostname or "localhost"
        if s.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                local_hostname=helo,
                timeout=s.smtp_timeout,
                context=self._tls_context(),
            )
        else:
            smtp = smtplib.SMTP(
                s.smtp_host, s.smtp_port, local_hostname=helo, timeout=s.smtp_timeout
            )
        try:
            smtp.ehlo()
            if s.smtp_security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        """QUIT politely; a server that is already gone is no error here."""
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._drop()

    # -- sending -----------------------------------------------------------------------------
    def send(self, recipient: str, message: bytes) -> None:
        """Hand one message (CRLF line ends, ASCII) to the server for one recipient."""
        pause = self.settings.mail_retry_backoff
        tries = max(1, self.settings.mail_retries)
        for attempt in range(1, tries + 1):
            try:
                self._connection().sendmail(self.sender, [recipient], message)
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = exc.recipients.get(recipient, (None, b"recipient refused"))
                failure = self._classify(
                    code, f"recipient {recipient} refused: {_reply(code or 0, text)}"
                )
            except smtplib.SMTPSenderRefused as exc:
                if exc.smtp_code >= 500:
                    raise SMTPUnavailable(
                        f"{self.where} refuses the sender {self.sender}: "
                        f"{_reply(exc.smtp_code, exc.smtp_error)}; check the 'mail_from' "
                        "setting and what the server lets you send as",
                        exc.smtp_code,
                    ) from None
                failure = Deferred(
                    f"sender deferred: {_reply(exc.smtp_code, exc.smtp_error)}", exc.smtp_code
                )
            except smtplib.SMTPAuthenticationError as exc:
                raise SMTPUnavailable(
                    f"{self.where} refuses the login of {self.settings.smtp_username!r}: "
                    f"{_reply(exc.smtp_code, exc.smtp_error)}; check 'smtp_username' and "
                    "'smtp_password'",
                    exc.smtp_code,
                ) from None
            except smtplib.SMTPNotSupportedError as exc:
                raise SMTPUnavailable(
                    f"{self.where}: {exc}; check 'smtp_security' (none, starttls, tls) and "
                    "'smtp_port'"
                ) from None
            except ssl.SSLError as exc:
                self._drop()
                raise SMTPUnavailable(
                    f"TLS with {self.where} failed: {exc}; check 'smtp_security', 'smtp_port' "
                    "and, for a self-signed certificate, 'smtp_ca_file'"
                ) from None
            except smtplib.SMTPConnectError as exc:
                self._drop()
                failure = Deferred(
                    f"{self.where} refused the session: {_reply(exc.smtp_code, exc.smtp_error)}",
                    exc.smtp_code,
                )
                failure.connection = True
            except smtplib.SMTPResponseException as exc:  # DATA refused, or another reply
                failure = self._classify(exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error))
                if exc.smtp_code == 421:  # the server is closing this session
                    self._drop()
            except (smtplib.SMTPServerDisconnected, OSError) as exc:  # refused, reset, timeout
                self._drop()
                failure = Deferred(f"cannot talk to {self.where}: {exc or type(exc).__name__}")
                failure.connection = True
            else:
                self.sent += 1
                if self.settings.mail_send_pause:
                    self._sleep(self.settings.mail_send_pause)
                return
            if isinstance(failure, Rejected):
                raise failure
            if attempt < tries:
                self.retried += 1
                self._sleep(pause)
                pause *= 2
        if getattr(failure, "connection", False):
            raise SMTPUnavailable(f"{failure} (after {tries} tries)", failure.code)
        raise failure

    @staticmethod
    def _classify(code: int | None, text: str) -> DeliveryError:
        if code is not None and 500 <= code < 600:
            return Rejected(text, code)
        return Deferred(text, code)
