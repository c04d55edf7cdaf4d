"""`paperboy serve` as a subprocess on loopback, for the tests that need the production server:
the browser tests, the schemathesis run (test_openapi.py), the start under load (test_serve.py).

    with served(data_dir) as base:           # started, answering, stopped at the end
        httpx.get(base + "/")

    port = free_port()                       # or step by step
    proc = start_serve(data_dir, port, log_path, workers=2)
    wait_until_up(f"http://127.0.0.1:{port}", proc, log_path, timeout=30)
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.environment import subprocess_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(data_dir: Path, port: int, workers: int) -> list[str]:
    """The `paperboy serve` an operator runs: the installed console script when there is one
    (a worker re-imports the script's module when it starts), else `python -m paperboy`."""
    script = Path(sys.executable).with_name("paperboy")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "paperboy"]
    return [
        *head,
        "--data-dir",
        str(data_dir),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def start_serve(
    data_dir: Path, port: int, log_path: Path, workers: int = 1, env: dict[str, str] | None = None
) -> subprocess.Popen:
    with open(log_path, "w") as log:  # the child keeps its own copy open
        return subprocess.Popen(
            serve_command(data_dir, port, workers),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env or subprocess_env(),
        )


def wait_until_up(base: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}): {log_path.read_text()}")
        try:
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not answer within {timeout} s: {log_path.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def served(
    data_dir: Path,
    env: dict[str, str] | None = None,
    workers: int = 1,
    timeout: float = 120,
) -> Iterator[str]:
    """`paperboy serve` over `data_dir` (its log in data_dir/serve.log), answering: its base
    URL; stopped when the block ends. A busy test machine can take tens of seconds to start
    it, hence the long `timeout`."""
    port = free_port()
    log = Path(data_dir) / "serve.log"
    proc = start_serve(Path(data_dir), port, log, workers=workers, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc, log, timeout=timeout)
        yield base
    finally:
        stop(proc)
