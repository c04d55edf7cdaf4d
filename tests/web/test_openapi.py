"""The OpenAPI schema tells the truth about the JSON API.

Schemathesis (the real CLI, in a subprocess) reads /openapi.json from a real `paperboy serve`
on loopback and sends generated requests, valid and invalid, to every operation: no answer may
be a server error, and every status code, header, content type and body must be the one the
schema documents. arXiv is a loopback server that knows no paper, so a submission never leaves
the machine. Bounded: MAX_EXAMPLES per operation and phase, about 30 s here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paperboy.config import Settings
from paperboy.store import open_store
from paperboy.web.auth import new_token, token_hash
from paperboy.web.openapi import WHY
from tests.environment import subprocess_env
from tests.replay import FIXTURES, ReplayServer, Reply

from .conftest import seed
from .serving import free_port, start_serve, stop, wait_until_up

MAX_EXAMPLES = 20
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance,negative_data_rejection"
)


@pytest.fixture(scope="module")
def arxiv():
    """An arXiv API that answers every look-up with its real reply for an unknown id."""
    recorded = json.loads((FIXTURES / "arxiv_api" / "id_unknown_empty.json").read_text())
    with ReplayServer() as server:
        server.route(
            "/api/query",
            Reply(200, recorded["body"], content_type="application/atom+xml; charset=utf-8"),
        )
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, arxiv):
    """A seeded store, an API token for the writes, and the production server over them."""
    data = tmp_path_factory.mktemp("openapi-data")
    settings = Settings.load(data_dir=data, database_url="")
    store = open_store(settings)
    seed(store, settings)
    token = new_token()
    user = store.create_user("fuzzer", "not-a-hash", None)
    store.create_api_token(user.id, "schemathesis", token_hash(token))
    store.close()
    env = subprocess_env() | {
        "PAPERBOY_ARXIV_API_URL": arxiv.url("/api/query"),
        "PAPERBOY_HTTP_MIN_INTERVAL": "0",
        "PAPERBOY_HTTP_RETRIES": "0",
    }
    port = free_port()
    log = data / "server.log"
    proc = start_serve(data, port, log, workers=1, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc, log, timeout=60)
        yield base, token, log
    finally:
        stop(proc)


def schemathesis(*args: str, timeout: float, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", *args],
        check=False,
        text=True,
        capture_output=True,
        timeout=timeout,
        env=subprocess_env(),
        cwd=cwd,
    )


@pytest.mark.slow
def test_every_answer_of_the_api_is_documented(server, tmp_path):
    base, token, log = server
    run = schemathesis(
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--header",
        f"Authorization: Bearer {token}",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, (
        f"{run.stdout[-8000:]}\n{run.stderr[-2000:]}\nserver log:\n{log.read_text()[-4000:]}"
    )
    # The run reached every operation (a schema that lost its routes would pass vacuously).
    assert "Tested: 9" in run.stdout, run.stdout[-3000:]


def test_the_schema_lists_only_the_json_api_and_its_real_statuses(client):
    schema = client.get("/openapi.json").json()
    assert all(path.startswith("/api/") for path in schema["paths"]), list(schema["paths"])
    statuses = {
        code for ops in schema["paths"].values() for op in ops.values() for code in op["responses"]
    }
    # Validation errors answer 400 (the app's handler), never FastAPI's 422.
    assert "422" not in statuses
    # No 502: a submission never waits on arXiv; it is queued (202) and a full queue is 503.
    assert {"202", "400", "401", "403", "404", "409", "429", "503"} <= statuses
    assert "502" not in statuses
    assert statuses - {"200", "201", "202"} <= {str(code) for code in WHY}
    for ops in schema["paths"].values():
        for op in ops.values():
            for code, answer in op["responses"].items():
                if code.startswith(("4", "5")):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (code, op["summary"])


def test_a_validation_error_is_the_documented_400_with_the_error_body(client):
    r = client.get("/api/daily_papers?limit=0")
    assert r.status_code == 400
    assert set(r.json()) == {"error"} and "limit" in r.json()["error"]
