"""Index replicas in real processes (issue #16): PostgreSQL as the one store, two `paperboy
serve` processes ("hosts"), each with its own data directory and index files.

A paper imported through one host is found through the other within seconds (the other's
follower reads the store's change counter, search/follow.py), without being encoded again,
and both hosts' indexes check clean. A host killed with SIGKILL while it updates its files
catches up when it starts again, with each paper indexed once.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from paperboy.config import Settings
from paperboy.search.encoders import vectors_identity
from paperboy.store import open_store
from paperboy.store.vectors import StoredVectors
from tests.environment import subprocess_env
from tests.replay import closed_port
from tests.search_helpers import FIXTURE
from tests.test_scale_out import wait_until_up
from tests.web.conftest import seed

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HOST_ENV = {
    "PAPERBOY_SEARCH_BACKEND": "files",
    "PAPERBOY_SEARCH_MODEL": "static",
    "PAPERBOY_SEARCH_BULK_MODEL": "",
    "PAPERBOY_SEARCH_FOLLOW": "0.3",
    "PAPERBOY_SUBMISSIONS_WORKER": "false",
}


def env_of(url: str, data_dir) -> dict[str, str]:
    env = subprocess_env()
    env.update(HOST_ENV, PAPERBOY_DATABASE_URL=url, PAPERBOY_DATA_DIR=str(data_dir))
    return env


class Host:
    """One web host: a `paperboy serve` process and its data directory."""

    def __init__(self, url: str, data_dir, log_path):
        self.url, self.data_dir, self.log_path = url, data_dir, log_path
        self.port = closed_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Host:
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paperboy", "serve", "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env_of(self.url, self.data_dir),
            start_new_session=True,  # its own process group: the supervisor and its workers
        )
        log.close()
        wait_until_up(self.base, self.proc, self.log_path)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def paperboy(self, *args: str) -> subprocess.CompletedProcess:
        """A CLI command on this host (its data directory, the shared store)."""
        return subprocess.run(
            [sys.executable, "-m", "paperboy", *args],
            env=env_of(self.url, self.data_dir),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def finds(self, query: str, paper_id: str) -> bool:
        hits = httpx.get(f"{self.base}/api/papers/search", params={"q": query}, timeout=30)
        assert hits.status_code == 200, hits.text
        return any(item["paper"]["id"] == paper_id for item in hits.json())

    def wait_to_find(self, query: str, paper_id: str, within: float = 60) -> float:
        """Seconds until this host finds the paper."""
        started = time.monotonic()
        while not self.finds(query, paper_id):
            assert self.proc is not None and self.proc.poll() is None, self.log_path.read_text()
            assert time.monotonic() - started < within, self.log_path.read_text()
            time.sleep(0.1)
        return time.monotonic() - started


@pytest.fixture
def hosts(postgres_server, tmp_path, clean_env):
    url = postgres_server.create_database()
    settings = Settings.load(
        data_dir=tmp_path / "a",
        database_url=url,
        **{k.removeprefix("PAPERBOY_").lower(): v for k, v in HOST_ENV.items()},
    )
    store = open_store(settings)
    seed(store, settings)
    store.close()
    pair = [Host(url, tmp_path / name, tmp_path / f"{name}.log") for name in ("a", "b")]
    try:
        yield pair
    finally:
        for host in pair:
            host.stop()
        postgres_server.drop_database(url)


def write_papers(path, papers) -> None:
    path.write_text("".join(json.dumps(p) + "\n" for p in papers))


def test_a_paper_imported_through_one_host_is_found_through_the_other(hosts, tmp_path):
    a, b = (host.start() for host in hosts)
    new = {
        "id": "2612.04242",
        "title": "Tidal heating of icy moons measured by radar sounding",
        "summary": "We measure the tidal heating of icy moons from radar sounding echoes.",
        "authors": ["Ada Lovelace"],
        "categories": ["astro-ph.EP"],
    }
    write_papers(tmp_path / "new.jsonl", [new])
    imported = a.paperboy("import", "--quiet", str(tmp_path / "new.jsonl"))
    assert imported.returncode == 0, imported.stderr
    query = "tidal heating icy moons radar"
    assert a.finds(query, "2612.04242")  # the importing host indexed it as it stored it
    b.wait_to_find(query, "2612.04242")  # the other host's follower took it from the store

    # Encoded once, by whichever process got to it first (the import itself, host a's
    # follower or host b's, as soon as the paper was stored), kept in the store and taken
    # from there by the other host; the import's own update finds nothing left when host a's
    # follower (same index files) was first.
    said = imported.stdout + a.log_path.read_text() + b.log_path.read_text()
    assert said.count("transformer 1, static 0)") == 1, said
    assert said.count("transformer 0, static 0, vectors from the store 1)") == 1, said
    for host in hosts:
        checked = host.paperboy("index", "--check")
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_host_killed_mid_update_catches_up_with_each_paper_once(hosts, tmp_path):
    a, b = (host.start() for host in hosts)
    lock_path = b.data_dir / "search.lock"
    importing = subprocess.Popen(
        [sys.executable, "-m", "paperboy", "import", "--quiet", str(FIXTURE)],
        env=env_of(a.url, a.data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # As the import stores the 300 papers, host b's follower updates its files from them: kill
    # every process of host b while it holds its writers' lock (mid-update).
    killed = False
    deadline = time.monotonic() + 120
    while not killed and time.monotonic() < deadline:
        with open(lock_path, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(lock, fcntl.LOCK_UN)
            except BlockingIOError:
                assert b.proc is not None
                os.killpg(b.proc.pid, signal.SIGKILL)
                b.proc.wait(timeout=10)
                killed = True
        time.sleep(0.002)
    output, _ = importing.communicate(timeout=300)
    assert importing.returncode == 0, output
    assert killed, "host b never started updating"

    b.start()
    last = json.loads(FIXTURE.read_text().splitlines()[-1])["paper"]  # an HF daily-papers item
    b.wait_to_find(last["title"], last["id"])
    deadline = time.monotonic() + 60
    while (checked := b.paperboy("index", "--check")).returncode != 0:
        assert time.monotonic() < deadline, checked.stdout + checked.stderr
        time.sleep(0.5)
    # Nothing indexed twice (index --check counts duplicates); the store keeps one vector per
    # paper, the one all hosts took.
    store = open_store(Settings.load(database_url=a.url, data_dir=tmp_path / "x"))
    try:
        assert StoredVectors(store).count(vectors_identity("static")) == store.count_papers()
    finally:
        store.close()
