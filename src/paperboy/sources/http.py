"""The one HTTP client every source uses: polite to upstreams, and clear when they fail.

arXiv's terms ask for at most one request every 3 seconds over one connection at a time.
`PoliteClient` keeps that for every host it talks to: requests to a host wait their turn, and
the next one starts `http_min_interval` seconds after the previous one ended. A 429, a 5xx, a
refused connection or a timeout is retried with exponential backoff and jitter (honouring
Retry-After); when the upstream stays down, `SourceError` says which URL, what happened and
what to do.

    with PoliteClient(settings) as client:
        feed = client.get_xml(settings.arxiv_api_url, {"id_list": "2405.15738"})
        items = client.get_json(f"{settings.hf_api_url}/daily_papers", {"date": "2026-08-21"})
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from paperboy.config import Settings
from paperboy.sources import SourceError

log = logging.getLogger(__name__)


class _HostGate:
    """One request at a time to a host, each starting `interval` after the previous one ended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.free_at = 0.0  # time.monotonic() before which no request may start


# Process-wide on purpose: arXiv's limit applies to this process as a whole, however many
# clients it opens (a sync and a web "submit by id" may run at once). Only gates live here.
_GATES: dict[str, _HostGate] = {}
_GATES_LOCK = threading.Lock()


def _gate_for(url: httpx.URL) -> _HostGate:
    key = f"{url.scheme}://{url.host}:{url.port or ''}"
    with _GATES_LOCK:
        return _GATES.setdefault(key, _HostGate())


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def full_url(url: str, params: Mapping[str, object] | None = None) -> str:
    """The URL a GET with these parameters asks for: what error messages show."""
    return str(httpx.URL(url, params=dict(params or {})))


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PoliteClient:
    """GET with arXiv-grade manners; use as a context manager so the connection is closed."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._http = httpx.Client(
            timeout=settings.http_timeout,
            headers={"User-Agent": settings.user_agent},
            follow_redirects=True,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self._random = random.Random()
        self.requests = 0  # requests sent, retries included

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the request loop --------------------------------------------------------------------
    def get(self, url: str, params: Mapping[str, object] | None = None,
            accept: Collection[int] = ()) -> httpx.Response:
        """The response to a GET, retried while the upstream is busy or down.

        Statuses in `accept` (say 400, when the API explains errors in the body) come back to
        the caller; any other 4xx raises `SourceError` at once, since retrying cannot help.
        """
        target = httpx.URL(url, params=dict(params or {}))
        tries = self.settings.http_retries + 1
        started = time.monotonic()
        problem, retry_after = "", None
        for attempt in range(tries):
            if attempt:
                delay = self._backoff(attempt, retry_after)
                log.warning("GET %s: %s; retrying in %.1f s (try %d of %d)",
                            target, problem, delay, attempt + 1, tries)
                time.sleep(delay)
            retry_after = None
            try:
                response = self._send(target)
            except httpx.TimeoutException:
                problem = f"no answer within {self.settings.http_timeout:g} s"
                continue
            except httpx.TransportError as exc:
                problem = f"connection failed ({exc or type(exc).__name__})"
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                problem = f"HTTP {status} {response.reason_phrase}".rstrip()
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                self._refuse_long_waits(target, problem, retry_after)
                continue
            if status >= 400 and status not in accept:
                raise SourceError(
                    f"{target}: HTTP {status} {response.reason_phrase}: "
                    f"{_snippet(response.text) or 'no details'}. The upstream refused the "
                    "request; check the id, query or URL setting it was built from."
                )
            return response
        raise SourceError(
            f"{target}: the upstream is not answering ({problem}; {tries} tries over "
            f"{time.monotonic() - started:.0f} s). It may be down or limiting requests: try "
            "again later (PAPERBOY_HTTP_RETRIES and PAPERBOY_HTTP_BACKOFF set how long we keep "
            "trying)."
        )

    def _send(self, target: httpx.URL) -> httpx.Response:
        """One request, after the host's previous one ended at least min_interval ago."""
        gate = _gate_for(target)
        with gate.lock:
            while (wait := gate.free_at - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                self.requests += 1
                return self._http.get(target)
            finally:
                gate.free_at = time.monotonic() + self.settings.http_min_interval

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server gave one, else backoff * 2^(n-1) stretched by 0-50 %."""
        if retry_after is not None:
            return retry_after
        base = self.settings.http_backoff * 2 ** (attempt - 1)
        # Jitter keeps many clients that failed together from retrying together.
        return min(base * (1 + 0.5 * self._random.random()), self.settings.http_retry_after_max)

    def _refuse_long_waits(self, target: httpx.URL, problem: str, seconds: float | None) -> None:
        cap = self.settings.http_retry_after_max
        if seconds is not None and seconds > cap:
            raise SourceError(
                f"{target}: {problem}, and the server asks us to wait {seconds:.0f} s before "
                f"trying again, longer than we wait (PAPERBOY_HTTP_RETRY_AFTER_MAX = {cap:g} s). "
                "Try again later."
            )

    # -- bodies ------------------------------------------------------------------------------
    def get_xml(self, url: str, params: Mapping[str, object] | None = None,
                accept: Collection[int] = ()) -> ET.Element:
        """The response parsed as XML; a body that is not XML is a `SourceError` naming the URL."""
        response = self.get(url, params, accept)
        try:
            return ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise SourceError(
                f"{response.request.url}: the response is not valid XML ({exc}; it starts "
                f"{_snippet(response.text, 80)!r}). The upstream may be failing: try again later."
            ) from None

    def get_json(self, url: str, params: Mapping[str, object] | None = None) -> object:
        """The response parsed as JSON; a body that is not JSON: `SourceError` naming the URL."""
        response = self.get(url, params)
        try:
            return json.loads(response.content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(
                f"{response.request.url}: the response is not valid JSON ({exc}; it starts "
                f"{_snippet(response.text, 80)!r}). The upstream may be failing: try again later."
            ) from None
