"""`paperboy sync`, `harvest` and `fetch` as real subprocesses against loopback upstreams.

Includes the crash test: `kill -9` in the middle of a multi-page harvest, then the same
command again completes with every record exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.environment import subprocess_env
from tests.recorded_oai import harvest_pages, real_records, serve_harvest
from tests.recorded_rss import recorded_feed
from tests.replay import FIXTURES, ReplayServer, Reply, closed_port, recorded

HARVEST = ["harvest", "--set", "physics", "--from", "2017-01-01"]


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def cli_env(server: ReplayServer, tmp_path, **extra: str) -> dict[str, str]:
    env = subprocess_env()
    env.update(
        PAPERBOY_DATA_DIR=str(tmp_path / "data"),
        PAPERBOY_ARXIV_API_URL=server.url("/api/query"),
        PAPERBOY_ARXIV_OAI_URL=server.url("/oai"),
        PAPERBOY_ARXIV_RSS_URL=server.url("/atom"),
        PAPERBOY_HF_API_URL=server.url("/api"),
        PAPERBOY_HTTP_MIN_INTERVAL="0",
        PAPERBOY_HTTP_TIMEOUT="5",
        PAPERBOY_HTTP_RETRIES="1",
        PAPERBOY_HTTP_BACKOFF="0.01",
    )
    env.update(extra)
    return env


def paperboy(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paperboy", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def query(db, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


def pages_checkpointed(db) -> int:
    rows = query(db, "SELECT checkpoint FROM import_runs WHERE kind = 'harvest:oai'")
    return max((json.loads(cp)["pages"] for (cp,) in rows if cp), default=0)


@pytest.mark.slow
def test_kill_9_mid_harvest_then_the_same_command_completes(server, tmp_path):
    pages = harvest_pages(per_page=3)  # 19 real records over 7 pages
    serve_harvest(server, pages)
    db = tmp_path / "data" / "paperboy.sqlite3"
    slow = cli_env(server, tmp_path, PAPERBOY_IMPORT_PAUSE="0.5")
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy", *HARVEST],
        env=slow,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while pages_checkpointed(db) < 2:
            assert proc.poll() is None, "the harvest ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint after 60 s"
            time.sleep(0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = {i for (i,) in query(db, "SELECT id FROM papers")}
    assert 6 <= len(partial) < 19
    assert query(db, "SELECT status FROM import_runs") == [("running",)]
    before = len(server.hits)

    result = paperboy(HARVEST, cli_env(server, tmp_path))
    assert result.returncode == 0, result.stderr
    assert (
        "harvest physics (resumed): added 19, updated 0, unchanged 0, rejected 0" in result.stdout
    )
    resumed = server.hits[before:]
    assert "metadataPrefix" not in resumed[0].params  # it went on from the saved token
    assert resumed[0].params["resumptionToken"] in {p.token for p in pages[2:]}
    ids = [i for (i,) in query(db, "SELECT id FROM papers")]
    assert sorted(ids) == sorted(ident for ident, _ in real_records())  # none lost, none twice
    assert query(db, "SELECT status, added FROM import_runs") == [("done", 19)]


def test_sync_with_a_source_down_exits_1_and_keeps_what_it_fetched(server, tmp_path):
    items = (FIXTURES / "hf_api" / "2024-05-27.json").read_text(encoding="utf-8")
    server.route(
        "/api/daily_papers",
        Reply(200, items, content_type="application/json"),
        {"date": "2024-05-27"},
    )
    server.route("/api/daily_papers", Reply(503, "upstream down"), {"date": "2024-05-28"})
    server.route("/atom/cs.AI", Reply(200, recorded_feed()))
    env = cli_env(
        server, tmp_path, PAPERBOY_SYNC_SOURCES="hf,rss", PAPERBOY_ARXIV_CATEGORIES="cs.AI"
    )
    result = paperboy(["sync", "--since", "2024-05-27", "--until", "2024-05-28", "--quiet"], env)
    assert result.returncode == 1
    assert "sync hf: added 13, updated 0, unchanged 0, rejected 0" in result.stdout
    assert "sync rss: added 7, updated 0, unchanged 0, rejected 0" in result.stdout
    assert "date=2024-05-28" in result.stderr and "HTTP 503" in result.stderr
    assert "The 13 papers stored before are kept" in result.stderr
    assert "Traceback" not in result.stderr
    listed = paperboy(["papers", "--date", "2024-05-27"], env)
    assert listed.returncode == 0 and "2024-05-27: 13 papers" in listed.stdout


def test_fetch_reports_added_and_rejected_ids(server, tmp_path):
    server.route(
        "/api/query",
        recorded("arxiv_api/id_unknown_and_1707.08567.json"),
        {"id_list": "2412.99999,1707.08567"},
    )
    result = paperboy(
        ["fetch", "2412.99999", "junk", "https://arxiv.org/abs/1707.08567v1"],
        cli_env(server, tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "fetch: added 1, updated 0, unchanged 0, rejected 2" in result.stdout
    assert "rejected argument 2: 'junk' is not an arXiv id" in result.stdout
    assert "2412.99999: not found on arXiv" in result.stdout


def test_harvest_from_a_dead_upstream_ends_with_a_clear_message(server, tmp_path):
    dead = f"http://127.0.0.1:{closed_port()}/oai"
    result = paperboy(HARVEST, cli_env(server, tmp_path, PAPERBOY_ARXIV_OAI_URL=dead))
    assert result.returncode == 1
    assert "harvest physics: added 0, updated 0, unchanged 0, rejected 0" in result.stdout
    assert f"error: {dead}?verb=ListRecords" in result.stderr
    assert "connection failed" in result.stderr and "try again later" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_date_is_a_usage_error(server, tmp_path):
    result = paperboy(["harvest", "--set", "cs", "--from", "last week"], cli_env(server, tmp_path))
    assert result.returncode == 2
    assert "'last week' is not a date; expected YYYY-MM-DD" in result.stderr
    assert server.hits == []


def test_a_crash_mid_harvest_marks_the_run_failed_with_the_error(server, tmp_path):
    """Not an upstream error but a crash: the papers table vanishes under a running harvest
    (renamed by another connection), so the next page fails in the database itself. The run
    ends "failed" with that error, never left "running" as if it were still going."""
    serve_harvest(server, harvest_pages(per_page=3))
    db = tmp_path / "data" / "paperboy.sqlite3"
    slow = cli_env(server, tmp_path, PAPERBOY_IMPORT_PAUSE="0.5")
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy", *HARVEST],
        env=slow,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while pages_checkpointed(db) < 1:
            assert proc.poll() is None, "the harvest ended before the table went away"
            assert time.monotonic() < deadline, "no checkpoint after 60 s"
            time.sleep(0.02)
        conn = sqlite3.connect(db, timeout=10)
        conn.execute("ALTER TABLE papers RENAME TO papers_away")
        conn.commit()
        conn.close()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    [(status, message)] = query(db, "SELECT status, message FROM import_runs")
    assert status == "failed", err
    assert "no such table: papers" in message and "papers stored before are kept" in message
