"""Scale-out: several `paperboy serve` processes on one PostgreSQL database, many voters at once.

Two real server processes (each its own connection pool) take upvotes and un-votes from many
users concurrently, half through each server; the counts both servers show must be exact.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from paperboy.config import Settings
from paperboy.store import open_store
from paperboy.web.auth import new_token, token_hash
from tests.environment import subprocess_env
from tests.replay import closed_port
from tests.web.conftest import seed

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

VOTERS = 40


def start_server(url: str, data_dir, port: int, log) -> subprocess.Popen:
    env = subprocess_env()
    env.update(PAPERBOY_DATABASE_URL=url, PAPERBOY_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "paperboy", "serve", "--port", str(port), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )


def wait_until_up(base: str, proc: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()
        try:
            if httpx.get(base + "/api/daily_papers", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{base} did not start: {log_path.read_text()}")


def test_two_servers_count_concurrent_votes_exactly(postgres_server, tmp_path, clean_env):
    url = postgres_server.create_database()
    settings = Settings.load(data_dir=tmp_path / "data", database_url=url)
    store = open_store(settings)
    seed(store, settings)
    paper = store.papers_on(store.latest_day())[0]
    tokens = []
    for i in range(VOTERS):
        user = store.create_user(f"voter{i}", "unused-hash")
        token = new_token()
        store.create_api_token(user.id, "load", token_hash(token))
        tokens.append(token)
    store.close()

    procs, bases, logs = [], [], []
    try:
        for n in range(2):
            port = closed_port()
            log_path = tmp_path / f"server{n}.log"
            logs.append(open(log_path, "w"))
            procs.append(start_server(url, tmp_path / f"data{n}", port, logs[-1]))
            bases.append(f"http://127.0.0.1:{port}")
            wait_until_up(bases[-1], procs[-1], log_path)

        def vote(i: int) -> None:
            base = bases[i % 2]
            headers = {"Authorization": f"Bearer {tokens[i]}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                assert client.post(f"/api/papers/{paper.id}/upvote").status_code == 200
                assert client.post(f"/api/papers/{paper.id}/upvote").status_code == 200  # again
                if i % 4 == 0:  # a quarter change their mind, through the other server
                    other = httpx.Client(base_url=bases[(i + 1) % 2], headers=headers, timeout=30)
                    with other:
                        assert other.delete(f"/api/papers/{paper.id}/upvote").status_code == 200

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(vote, range(VOTERS)))

        expected = paper.upvotes + VOTERS - len(range(0, VOTERS, 4))
        for base in bases:
            shown = httpx.get(f"{base}/api/papers/{paper.id}", timeout=10).json()["upvotes"]
            assert shown == expected
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
        for log in logs:
            log.close()
        postgres_server.drop_database(url)
