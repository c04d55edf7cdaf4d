"""web/deps.py: what the routes share, and handlers that never stall the event loop.

A slow store call (here a PostgreSQL table lock held by another connection) holds up only the
request that makes it: the served app answers others meanwhile. Served by a real uvicorn on
loopback, the store a real PostgreSQL database.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from paperboy import web
from paperboy.store import open_store
from paperboy.web.app import create_app

from .conftest import seed
from .serving import free_port


class Served:
    """The app on a uvicorn server in a thread of this process, on a free loopback port."""

    def __init__(self, app):
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("path", ["/", "/papers/week/2026-W10", "/api/daily_papers"])
def test_a_slow_database_call_does_not_block_other_requests(backend_settings, path):
    store = open_store(backend_settings)
    try:
        seed(store, backend_settings)
        app = create_app(backend_settings, store=store)
        with (
            Served(app) as base,
            psycopg.connect(backend_settings.database_url) as locker,
            ThreadPoolExecutor(1) as pool,
        ):
            # Another connection holds the papers table: the page's first read waits on it.
            locker.execute("LOCK TABLE papers IN ACCESS EXCLUSIVE MODE")
            slow = pool.submit(httpx.get, base + path, timeout=60)
            _wait_until_waiting_on_the_lock(locker)
            started = time.monotonic()
            other = httpx.get(base + "/robots.txt", timeout=10)
            assert other.status_code == 200 and time.monotonic() - started < 5
            assert not slow.done()  # still waiting on the lock, off the event loop
            locker.commit()  # the lock goes; the slow page is answered
            assert slow.result(timeout=30).status_code == 200
    finally:
        store.close()


def _wait_until_waiting_on_the_lock(locker) -> None:
    """Until another session waits on a lock (the page's query), at most 20 s."""
    deadline = time.monotonic() + 20
    with psycopg.connect(locker.info.dsn, autocommit=True) as watch:
        while time.monotonic() < deadline:
            waiting = watch.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
            if waiting[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the page never asked for the locked table")


def test_no_module_of_the_web_package_imports_the_app():
    """The routers and helpers import web/deps.py; only the app factory includes them."""
    package = Path(web.__file__).parent
    importers = [
        path.name
        for path in package.glob("*.py")
        if re.search(
            r"^\s*from paperboy\.web\.app import|^\s*from paperboy\.web "
            r"import .*\bapp\b",
            path.read_text(),
            re.MULTILINE,
        )
    ]
    assert importers == []
