"""A real HTTP server on loopback that replays recorded responses, for the source clients' tests.

    with ReplayServer() as server:
        server.route("/api/query", [Reply(429, headers={"Retry-After": "1"}), Reply(200, body)],
                     params={"id_list": "1707.08567"})
        client.get(server.url("/api/query"), {"id_list": "1707.08567"})
        assert [hit.params["id_list"] for hit in server.hits] == ["1707.08567"] * 2

A route answers requests to its path whose query holds its `params`; its replies are given in
order and the last one repeats. Every request is logged in `hits` with its arrival time
(time.monotonic, comparable with the client's clock: same process). A `Reply` can hang (answer
late, or never before the server stops) or drop the connection without answering.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from paperboy.config import Settings

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/xml; charset=utf-8"
    hang: float = 0.0  # seconds to wait before answering (the server's stop cuts it short)
    drop: bool = False  # close the connection without a response


@dataclass
class Hit:
    at: float
    path: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Route:
    path: str
    params: dict[str, str]
    replies: list[Reply]
    served: int = 0

    def matches(self, path: str, params: dict[str, str]) -> bool:
        return path == self.path and all(params.get(k) == v for k, v in self.params.items())

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        reply = self.server.replay.answer(parts.path, params, dict(self.headers))
        if reply.hang:
            self.server.stopping.wait(reply.hang)
        if reply.drop or self.server.stopping.is_set():
            self.close_connection = True
            return
        body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, replay: ReplayServer):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replay = replay
        self.stopping = threading.Event()

    def handle_error(self, request, client_address) -> None:
        # A client that timed out and hung up is what some tests are about: not an error here.
        pass


class ReplayServer:
    def __init__(self) -> None:
        self.routes: list[_Route] = []
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ReplayServer:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None and self._thread is not None
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def base(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, replies: Reply | list[Reply], params: dict | None = None) -> None:
        replies = replies if isinstance(replies, list) else [replies]
        with self._lock:
            # Newer routes win, so a test can override a default set up earlier.
            self.routes.insert(
                0, _Route(path, {k: str(v) for k, v in (params or {}).items()}, replies)
            )

    def answer(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.hits.append(Hit(time.monotonic(), path, params, headers))
            for route in self.routes:
                if route.matches(path, params):
                    return route.next_reply()
        return Reply(404, f"no recorded response for {path} {params}", content_type="text/plain")

    def hits_to(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]


def loopback_settings(tmp_path: Path, server: ReplayServer | None = None, **overrides) -> Settings:
    """Settings for tests: a data dir under tmp_path, upstreams on `server`, fast manners."""
    values = dict(
        data_dir=tmp_path / "data",
        http_min_interval=0.0,
        http_timeout=2.0,
        http_retries=2,
        http_backoff=0.01,
        http_retry_after_max=5.0,
    )
    if server is not None:
        values.update(
            arxiv_api_url=server.url("/api/query"),
            arxiv_oai_url=server.url("/oai"),
            arxiv_rss_url=server.url("/atom"),
            hf_api_url=server.url("/api"),
        )
    values.update(overrides)
    return Settings(**values)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recorded(name: str) -> Reply:
    """A recorded `{url, status_code, body}` response from tests/fixtures as a Reply."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return Reply(data["status_code"], data["body"])


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
