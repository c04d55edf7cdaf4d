"""The one HTTP client every source uses: polite to upstreams, and clear when they fail.

arXiv's terms ask for at most one request every 3 seconds over one connection at a time.
`PoliteClient` keeps that for every host it talks to: requests to a host wait their turn, and
the next one starts `http_min_interval` seconds after the previous one ended, across threads
and across the processes that share a data directory (a file lock per host holds the time the
host is free again). A 429, a 5xx, a refused connection or a timeout is retried with
exponential backoff and jitter (honouring Retry-After); a host name that does not resolve is
not (no network, or a wrong URL: waiting does not help). When the upstream stays down,
`SourceError` says which URL, what happened and what to do.

    with PoliteClient(settings) as client:
        feed = client.get_xml(settings.arxiv_api_url, {"id_list": "2405.15738"})
        items = client.get_json(f"{settings.hf_api_url}/daily_papers", {"date": "2026-08-21"})
        pdf = client.get_bytes(url, max_bytes=20_000_000, deadline=120)  # TooLarge, TooSlow

`get_bytes` reads a body that may be huge or trickle in (a PDF) as a stream, and stops at a
size or a total time, since a per-read timeout alone lets a server sending a byte now and
then hold a run forever.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

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
# clients it opens (a sync and the submissions worker may run at once). Only gates live here;
# `_shared_gate` extends the same turn-taking to other processes.
_GATES: dict[str, _HostGate] = {}
_GATES_LOCK = threading.Lock()


def _host_key(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port or ''}"


def _gate_for(url: httpx.URL) -> _HostGate:
    with _GATES_LOCK:
        return _GATES.setdefault(_host_key(url), _HostGate())


@contextmanager
def _shared_gate(data_dir: Path, url: httpx.URL):
    """The host's turn across processes: an exclusive lock on data_dir/http/<host>.gate, whose
    text is the wall-clock time before which no request may start. Yields (free_at, set_free_at).

    A flock dies with its process, so a `kill -9` in the middle of a request frees the host.
    Without a writable data directory only the in-process gate applies."""
    name = re.sub(r"[^A-Za-z0-9.-]", "_", _host_key(url)) + ".gate"
    try:
        folder = data_dir / "http"
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        log.debug("no shared gate for %s: %s", url.host, exc)
        yield 0.0, lambda when: None
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            free_at = float(os.pread(fd, 64, 0).decode() or 0)
        except ValueError:  # a torn write from a crash: the host is free
            free_at = 0.0

        def set_free_at(when: float) -> None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{when:.3f}".encode(), 0)

        yield free_at, set_free_at
    finally:
        os.close(fd)  # releases the lock


def _unresolvable(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve (socket.gaierror
    somewhere in the chain httpx -> httpcore -> socket)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, socket.gaierror):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


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
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def full_url(url: str, params: Mapping[str, object] | None = None) -> str:
    """The URL a GET with these parameters asks for: what error messages show."""
    return str(httpx.URL(url, params=dict(params or {})))


class Unreachable(SourceError):
    """The host name does not resolve: no network, or a wrong URL (a whole run's problem)."""


class TooLarge(SourceError):
    """A body longer than the caller accepts (not retried: it will not shrink)."""


class TooSlow(SourceError):
    """A body that did not arrive in full within the caller's total time."""


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
    def get(
        self,
        url: str,
        params: Mapping[str, object] | None = None,
        accept: Collection[int] = (),
        limits: tuple[int, float] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The response to a GET, retried while the upstream is busy or down.

        Statuses in `accept` (say 400, when the API explains errors in the body) come back to
        the caller; any other 4xx raises `SourceError` at once, since retrying cannot help.
        `limits` (max bytes, total seconds): see `get_bytes`; `headers` go with the request.
        """
        target = httpx.URL(url, params=dict(params or {}))
        tries = self.settings.http_retries + 1
        started = time.monotonic()
        problem, retry_after = "", None
        for attempt in range(tries):
            if attempt:
                delay = self._backoff(attempt, retry_after)
                log.warning(
                    "GET %s: %s; retrying in %.1f s (try %d of %d)",
                    target,
                    problem,
                    delay,
                    attempt + 1,
                    tries,
                )
                time.sleep(delay)
            retry_after = None
            try:
                response = self._send(target, limits, headers)
            except httpx.TimeoutException:
                problem = f"no answer within {self.settings.http_timeout:g} s"
                continue
            except httpx.ConnectError as exc:
                if _unresolvable(exc):
                    raise Unreachable(
                        f"{target}: no network (cannot resolve {target.host}: {exc}). Check "
                        "this machine's network and DNS, and the URL setting the address came "
                        "from; then run the same command again."
                    ) from None
                problem = f"connection failed ({exc or type(exc).__name__})"
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

    def _send(
        self,
        target: httpx.URL,
        limits: tuple[int, float] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request, after the host's previous one ended at least min_interval ago (in
        this process or any other using the same data directory)."""
        gate = _gate_for(target)
        interval = self.settings.http_min_interval
        with gate.lock, _shared_gate(self.settings.data_dir, target) as (shared, set_shared):
            # The in-process gate counts on the monotonic clock, the shared one on the wall
            # clock (capped at one interval, in case that clock was set back).
            shared_wait = min(shared - time.time(), interval)
            if shared_wait > 0:
                time.sleep(shared_wait)
            while (wait := gate.free_at - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                self.requests += 1
                if limits is not None:
                    return self._read_limited(target, *limits)
                return self._http.get(target, headers=headers)
            finally:
                gate.free_at = time.monotonic() + interval
                set_shared(time.time() + interval)

    def _read_limited(self, target: httpx.URL, max_bytes: int, deadline: float) -> httpx.Response:
        """The response read as a stream, refused past `max_bytes` or `deadline` seconds."""
        started = time.monotonic()
        with self._http.stream("GET", target) as response:
            declared = response.headers.get("Content-Length", "")
            if response.status_code < 300 and declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(
                    f"{target}: {int(declared):,} bytes, more than the {max_bytes:,} bytes accepted"
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise TooLarge(f"{target}: more than the {max_bytes:,} bytes accepted")
                if time.monotonic() - started > deadline:
                    raise TooSlow(
                        f"{target}: not complete after {deadline:g} s ({len(body):,} bytes arrived)"
                    )
            # The body is decoded already: a Content-Encoding kept would decode it again.
            headers = [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length")
            ]
            return httpx.Response(
                response.status_code, headers=headers, content=bytes(body), request=response.request
            )

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
    def get_xml(
        self, url: str, params: Mapping[str, object] | None = None, accept: Collection[int] = ()
    ) -> ET.Element:
        """The response parsed as XML; a body that is not XML is a `SourceError` naming the URL."""
        response = self.get(url, params, accept)
        try:
            return ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise SourceError(
                f"{response.request.url}: the response is not valid XML ({exc}; it starts "
                f"{_snippet(response.text, 80)!r}). The upstream may be failing: try again later."
            ) from None

    def get_bytes(self, url: str, max_bytes: int, deadline: float) -> bytes:
        """The body of a GET, at most `max_bytes` long and complete within `deadline` seconds
        (`TooLarge`, `TooSlow` otherwise; a stalled read is a timeout, retried like any)."""
        return self.get(url, limits=(max_bytes, deadline)).content

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
