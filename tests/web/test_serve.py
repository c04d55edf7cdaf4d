"""`paperboy serve --workers 2` comes up under CPU load with no worker killed on the way.

uvicorn's supervisor pings each worker and kills one that does not answer within
`timeout_worker_healthcheck` seconds; the answer comes from a thread the worker starts only after
its interpreter is up and the `paperboy` script re-imported. On a busy machine that took longer
than uvicorn's default of 5 s, and workers were killed (and replaced, and killed) while still
loading. Here the server and LOAD busy loops share one CPU, so each process gets about 1/42 of
it while the workers start (~0.2 s of CPU before the answering thread runs: 8 s here).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from httpx import get

from paperboy.cli import main

from .serving import free_port, start_serve, stop

LOAD = 40  # busy loops on the server's CPU
LOAD_SECONDS = 15  # how long they run once the workers are spawned
KILLED = re.compile(r"Child process \[\d+\] died|was not ready in time|failed to start")


def busy_loops(n: int, cpu: int) -> list[subprocess.Popen]:
    """n processes spinning on `cpu`, stopped until the test lets them run."""
    loops = []
    for _ in range(n):
        loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        loop.send_signal(signal.SIGSTOP)
        os.sched_setaffinity(loop.pid, {cpu})
        loops.append(loop)
    return loops


def wait_for(log_path, pattern: str, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text()
        if pattern in text or KILLED.search(text) or proc.poll() is not None:
            return text
        time.sleep(0.02)
    return log_path.read_text()


@pytest.mark.slow
def test_two_workers_start_under_cpu_load_and_none_is_killed(tmp_path):
    cpu = max(os.sched_getaffinity(0))
    loops = busy_loops(LOAD, cpu)
    port, log = free_port(), tmp_path / "server.log"
    proc = start_serve(tmp_path / "data", port, log, workers=2)
    try:
        os.sched_setaffinity(proc.pid, {cpu})  # its workers, spawned later, inherit this
        # The supervisor is up and about to spawn the workers: now the load starts.
        text = wait_for(log, "Uvicorn running on", proc, timeout=60)
        assert "Uvicorn running on" in text, text
        for loop in loops:
            loop.send_signal(signal.SIGCONT)
        started = time.monotonic()
        text = wait_for(log, "\x00", proc, timeout=LOAD_SECONDS)  # only a kill ends it early
        assert not KILLED.search(text), f"a worker was killed while starting:\n{text}"
        for loop in loops:
            loop.kill()
        deadline = started + LOAD_SECONDS + 45
        while text.count("Application startup complete") < 2 and time.monotonic() < deadline:
            assert proc.poll() is None and not KILLED.search(text), text
            time.sleep(0.2)
            text = log.read_text()
        assert text.count("Application startup complete") == 2, text
        assert get(f"http://127.0.0.1:{port}/api/daily_papers", timeout=10).status_code == 200
        text = log.read_text()
        assert not KILLED.search(text), text
        assert text.count("Started server process") == 2, text  # no worker was replaced
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
        stop(proc)


def test_a_health_check_timeout_below_one_second_is_refused(tmp_path, clean_env, monkeypatch):
    monkeypatch.setenv("PAPERBOY_WORKER_HEALTHCHECK_TIMEOUT", "0")
    with socket.socket() as taken:  # should the check be missing, uvicorn fails to bind
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve", "--port", port])
    assert result.exit_code == 1
    assert "'worker_healthcheck_timeout' must be at least 1 (seconds), got 0" in result.output
