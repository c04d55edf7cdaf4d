"""Submits cannot stall the server: a real `paperboy serve` whose arXiv is a loopback socket
that accepts and never answers takes 45 submits from 3 users, each answered at once, while
paper pages, search, the API and sign-in keep answering; when arXiv answers again (recorded
responses), the worker in the server's supervising process stores the papers.

Before the queue, each of these submits held a server thread for the whole arXiv call (here
3 s, in production up to 80 s), one after another behind the per-host lock.
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
from tests.replay import ReplayServer, Reply, closed_port, recorded
from tests.web.conftest import seed

pytestmark = pytest.mark.slow

TEN = recorded("arxiv_api/q_testing_s0_m10.json")  # ten real papers, not in the seeded store
KNOWN = [
    "2202.12139",
    "2405.13786",
    "2005.14124",
    "2204.08348",
    "2302.03287",
    "1202.4527",
    "2503.05378",
    "1205.1866",
    "2502.07719",
    "1812.11470",
]
IDS = KNOWN + [f"2412.{90000 + n}" for n in range(35)]  # 45 in all; these 35 arXiv lacks
QUICK = 5.0  # seconds: "at once" on a loaded test machine, far below the stall


def start_serve(data_dir, arxiv_url: str, port: int, log) -> subprocess.Popen:
    env = subprocess_env() | {
        "PAPERBOY_DATA_DIR": str(data_dir),
        "PAPERBOY_ARXIV_API_URL": arxiv_url,
        "PAPERBOY_HTTP_TIMEOUT": "3",
        "PAPERBOY_HTTP_RETRIES": "0",
        "PAPERBOY_HTTP_MIN_INTERVAL": "0.5",
        "PAPERBOY_SUBMISSIONS_RETRY": "0.5",
        "PAPERBOY_SUBMISSIONS_ATTEMPTS": "100",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperboy", "serve", "--port", str(port), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )


def wait_until_up(base: str, proc, log_path) -> None:
    deadline = time.monotonic() + 180  # a loaded test machine starts servers slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()
        try:
            if httpx.get(base + "/api/daily_papers", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{base} did not start: {log_path.read_text()}")


def timed_get(client: httpx.Client, url: str, **kw) -> tuple[int, float]:
    started = time.monotonic()
    status = client.get(url, **kw).status_code
    return status, time.monotonic() - started


def test_submits_with_arxiv_black_holed_never_stall_the_server(tmp_path, clean_env):
    settings = Settings.load(data_dir=tmp_path / "data")
    store = open_store(settings)
    seed(store, settings)
    stored = store.papers_on(store.latest_day())[0]
    tokens = []
    for name in ("ann", "ben", "cat"):
        user = store.create_user(name, "unused-hash")
        tokens.append(new_token())
        store.create_api_token(user.id, "test", token_hash(tokens[-1]))

    with ReplayServer() as arxiv, open(tmp_path / "serve.log", "w") as log:
        arxiv.route("/api/query", Reply(hang=600))  # accepts, never answers
        port = closed_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_serve(settings.data_dir, arxiv.url("/api/query"), port, log)
        try:
            wait_until_up(base, proc, tmp_path / "serve.log")

            def submit(n: int) -> tuple[int, float, dict]:
                headers = {"Authorization": f"Bearer {tokens[n % 3]}"}
                started = time.monotonic()
                r = httpx.post(
                    f"{base}/api/papers/submit", json={"id": IDS[n]}, headers=headers, timeout=120
                )
                return r.status_code, time.monotonic() - started, r.json()

            def browse(n: int) -> tuple[int, float]:
                with httpx.Client(base_url=base, timeout=120) as client:
                    url = [
                        f"/papers/{stored.id}",
                        "/search?q=language+models",
                        f"/api/papers/{stored.id}",
                        "/signin",
                    ][n % 4]
                    return timed_get(client, url)

            with ThreadPoolExecutor(max_workers=24) as pool:
                submits = pool.map(submit, range(len(IDS)))
                pages = pool.map(browse, range(40))
                submits, pages = list(submits), list(pages)
            assert [s for s, _, _ in submits] == [202] * 45
            assert max(t for _, t, _ in submits) < QUICK
            assert [s for s, _ in pages] == [200] * 40
            assert max(t for _, t in pages) < QUICK
            assert arxiv.hits_to("/api/query"), "the worker never asked arXiv"
            # With arXiv still silent the queue holds them, and the server still answers.
            with httpx.Client(base_url=base) as client:
                status, took = timed_get(client, f"/papers/{stored.id}")
            assert status == 200 and took < QUICK
            assert httpx.get(f"{base}/api/papers/{KNOWN[0]}").status_code == 404

            arxiv.route("/api/query", TEN)  # arXiv is back
            urls = {body["id"]: base + body["statusUrl"] for _, _, body in submits}
            deadline = time.monotonic() + 120
            final: dict[str, dict] = {}
            while len(final) < len(IDS):
                assert time.monotonic() < deadline, (final, (tmp_path / "serve.log").read_text())
                for pid, url in urls.items():
                    if pid not in final:
                        body = httpx.get(url).json()
                        if body["status"] in ("done", "failed"):
                            final[pid] = body
                time.sleep(0.3)
            assert {pid for pid, b in final.items() if b["status"] == "done"} == set(KNOWN)
            for pid in KNOWN:
                paper = httpx.get(f"{base}/api/papers/{pid}").json()
                assert paper["submittedOnDailyBy"]["user"] in ("ann", "ben", "cat")
            assert "arXiv has no paper" in final[IDS[-1]]["error"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    counts = store.count_submissions()
    store.close()
    assert counts == {"done": 10, "failed": 35}
