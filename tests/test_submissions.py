"""The submissions worker against a real loopback HTTP server replaying recorded arXiv API
answers: batches stored as runs, retries, no network, one worker at a time, and `kill -9` of
`paperboy submissions run` in the middle of the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner

from paperboy.cli import main
from paperboy.search import open_search
from paperboy.store import open_store
from paperboy.submissions import QueueBusy, QueueLock, drain
from tests.environment import subprocess_env
from tests.replay import ReplayServer, Reply, loopback_settings, recorded

# A recorded arXiv API answer holding ten real papers; the server gives it to any look-up, and
# the worker keeps only the papers its batch asked for.
TEN = recorded("arxiv_api/q_testing_s0_m10.json")
IDS = [
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
UNKNOWN = "2412.99999"


@pytest.fixture
def server():
    with ReplayServer() as srv:
        srv.route("/api/query", TEN)
        yield srv


@pytest.fixture
def settings(server, tmp_path, clean_env):
    return loopback_settings(tmp_path, server, http_retries=0, submissions_retry=0.0)


@pytest.fixture
def store(settings):
    store = open_store(settings)
    yield store
    store.close()


def submit(store, *ids, name="ada"):
    user = store.user_by_name(name) or store.create_user(name, "unused-hash")
    return [store.enqueue_submission(pid, user.id, user.name, 100, 1000)[0] for pid in ids]


def test_one_request_fetches_the_queue_and_stores_it_as_a_run(server, settings, store):
    subs = submit(store, IDS[0], IDS[1], UNKNOWN)
    report = drain(store, settings)
    assert report.summary() == "stored 2, unknown on arXiv 1, failed for good 0"
    asked = server.hits_to("/api/query")
    assert len(asked) == 1 and asked[0].params["id_list"] == f"{IDS[0]},{IDS[1]},{UNKNOWN}"
    for pid in IDS[:2]:
        entry = store.get(pid).entry
        assert (entry.source, entry.submitted_by) == ("user", "ada")
    assert [store.submission(s.id).status for s in subs] == ["done", "done", "failed"]
    assert store.submission(subs[2].id).message == f"arXiv has no paper {UNKNOWN}: check the id"
    run = store.runs(1)[0]
    assert (run["kind"], run["status"], run["added"], run["rejected"]) == (
        "submissions",
        "done",
        2,
        1,
    )
    title = store.get(IDS[1]).title
    hits = open_search(store, settings).search(title, limit=3).hits
    assert hits and hits[0].paper.id == IDS[1]  # searchable, as after a sync


def test_an_arxiv_that_is_down_puts_the_batch_back_until_the_last_try(server, settings, store):
    server.route("/api/query", Reply(503, "down for maintenance"))
    settings = replace(settings, submissions_attempts=2)
    sub = submit(store, IDS[0])[0]
    first = drain(store, settings)
    assert first.problems and "HTTP 503" in first.problems[0] and first.waiting == 1
    queued = store.submission(sub.id)
    assert queued.status == "queued" and "the last try failed" in queued.message
    assert store.runs(1)[0]["status"] == "failed"
    second = drain(store, settings)
    assert second.summary() == "stored 0, unknown on arXiv 0, failed for good 1"
    assert store.submission(sub.id).status == "failed"
    server.route("/api/query", TEN)
    assert drain(store, settings).batches == []  # failed for good: not tried again


def test_no_network_fails_the_try_at_once_and_keeps_the_submission(settings, store):
    # .invalid never resolves (RFC 6761): nothing leaves the machine.
    settings = replace(
        settings,
        arxiv_api_url="http://export.arxiv.invalid/api/query",
        http_retries=5,
        http_backoff=1.0,
        submissions_retry=600.0,
    )
    sub = submit(store, IDS[0])[0]
    started = time.monotonic()
    report = drain(store, settings)
    assert time.monotonic() - started < 5
    assert "no network (cannot resolve export.arxiv.invalid" in report.problems[0]
    waiting = store.submission(sub.id)
    assert waiting.status == "queued" and "no network" in waiting.message
    assert waiting.due_at > store.submission(sub.id).created_at  # retried later, not now


def test_only_one_worker_holds_the_queue(settings, store):
    submit(store, IDS[0])
    other = QueueLock(store)
    assert other.acquire() is None
    try:
        with pytest.raises(QueueBusy) as busy:
            drain(store, settings)
        assert f"pid {os.getpid()}" in str(busy.value)
        result = CliRunner().invoke(
            main, ["--data-dir", str(settings.data_dir), "submissions", "run"], env=_env(settings)
        )
        assert result.exit_code == 0 and "being worked on by pid" in result.output
    finally:
        other.release()
    assert drain(store, settings).summary().startswith("stored 1")


def test_a_holder_on_another_host_is_replaced_once_its_heartbeat_is_stale(settings, store):
    submit(store, IDS[0])
    elsewhere = {"id": "other", "host": "another-host", "pid": 1, "since": "earlier"}
    store.take_lock("submissions", elsewhere | {"beat": time.time()}, lambda record: True)
    with pytest.raises(QueueBusy):  # alive as far as anyone here can tell
        drain(store, settings)
    store.take_lock("submissions", elsewhere | {"beat": time.time() - 61}, lambda record: True)
    assert drain(store, settings).summary().startswith("stored 1")


def _env(settings) -> dict[str, str]:
    return {
        "PAPERBOY_DATA_DIR": str(settings.data_dir),
        "PAPERBOY_ARXIV_API_URL": settings.arxiv_api_url,
        "PAPERBOY_HTTP_MIN_INTERVAL": "0",
        "PAPERBOY_HTTP_RETRIES": "0",
    }


def _mid_batch(counts: dict[str, int]) -> bool:
    return counts.get("done", 0) >= 3 and counts.get("fetching", 0) == 1


@pytest.mark.slow
def test_kill_9_mid_queue_then_run_again_does_every_submission_exactly_once(
    server, settings, store
):
    server.route("/api/query", Reply(200, TEN.body, hang=0.4))  # a slow arXiv
    subs = submit(store, *IDS[:8])
    env = subprocess_env() | _env(settings) | {"PAPERBOY_ARXIV_API_PAGE_SIZE": "1"}
    command = [sys.executable, "-m", "paperboy", "submissions", "run"]
    log = settings.data_dir.parent / "worker.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            # Killed while a batch is being fetched: its row is claimed and not yet stored.
            while not _mid_batch(store.count_submissions()):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert store.count_submissions().get("fetching") == 1  # left behind by the killed worker
    again = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert store.count_submissions() == {"done": 8}
    for sub in subs:
        assert store.get(sub.paper_id).entry.submitted_by == "ada"
    runs = [r for r in store.runs(100) if r["kind"] == "submissions"]
    assert all(r["status"] == "done" for r in runs)
    # Stored once each: eight additions, and no paper written a second time.
    assert sum(r["added"] for r in runs) == 8
    assert sum(r["updated"] + r["unchanged"] for r in runs) == 0
