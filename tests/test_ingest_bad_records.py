"""`paperboy import` as a user runs it (a real subprocess on a temporary data dir) on records
that used to crash it: each bad record is rejected with file:line and the reason, the rest is
stored, the run ends done or failed (never left running), and a rerun duplicates nothing.
"""

from __future__ import annotations

import gzip
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperboy.demo import demo_path
from tests.conftest import FIXTURES
from tests.environment import subprocess_env

pytestmark = pytest.mark.slow

HF = json.loads((FIXTURES / "hf_daily_papers_2026-08-21.json").read_text())
SNAPSHOT = (FIXTURES / "arxiv_snapshot_head50.jsonl").read_text().splitlines()
LISTINGS = (FIXTURES / "arxiv_listings_head100.jsonl").read_text().splitlines()


def _hf(n: int, **paper) -> str:
    item = json.loads(json.dumps(HF[n]))
    item["paper"].update(paper)
    return json.dumps(item)


def _snapshot(n: int, **fields) -> str:
    return json.dumps(json.loads(SNAPSHOT[n]) | fields)


def _listing(n: int, **fields) -> str:
    return json.dumps(json.loads(LISTINGS[n]) | fields)


# (line, the start of its rejection reason)
BAD = [
    (
        _hf(1, githubRepo=["https://github.com/a/b"]),
        "paper.githubRepo: expected a string, got array",
    ),
    (_hf(2, githubRepo={"url": "x"}), "paper.githubRepo: expected a string, got object"),
    (
        _hf(3, organization={"name": ["org"]}),
        "paper.organization.name: expected a string, got array",
    ),
    (
        json.dumps(json.loads(_hf(4)) | {"organization": {"name": {"a": 1}}}),
        "organization.name: expected a string, got object",
    ),
    (_hf(5, upvotes=10**30), "paper.upvotes: 1000000000000000000000000000000 is more than"),
    (_snapshot(1, doi=["10.1/x"]), "doi: expected a string, got array"),
    (_snapshot(2, license={"url": "x"}), "license: expected a string, got object"),
    (_snapshot(3, **{"journal-ref": ["J. Phys."]}), "journal-ref: expected a string, got array"),
    (_listing(1, title="A lone \ud800 surrogate"), "title: not valid Unicode"),
    ("\xff\xfe{}", "not UTF-8: byte 0xff at column 1"),
    (_listing(2, title="T" * 1001), "title: 1,001 characters, more than the 1,000 allowed"),
    (_listing(3, summary="word " * 10_000 * 1000), "line of 50,00"),  # 50 MB
]
GOOD = [_hf(0), _snapshot(0), _listing(0), _listing(4)]


def _write(path: Path, lines: list[str]) -> None:
    # json.dumps writes the lone surrogate as the escape \ud800, as a broken upstream would.
    path.write_bytes(
        b"\n".join(
            line.encode("latin-1") if line.startswith("\xff") else line.encode("utf-8")
            for line in lines
        )
        + b"\n"
    )


def paperboy(data_dir: Path, *args: str, env: dict | None = None, **kwargs):
    env = dict(subprocess_env(), PAPERBOY_DATA_DIR=str(data_dir), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "paperboy", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        **kwargs,
    )


def _db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "paperboy.sqlite3", timeout=10)


def _runs(data_dir: Path) -> list[tuple]:
    with _db(data_dir) as conn:
        return conn.execute(
            "SELECT status, added, unchanged, rejected, message FROM import_runs ORDER BY id"
        ).fetchall()


def test_bad_records_are_rejected_with_file_and_line_and_the_rest_is_stored(tmp_path):
    data = tmp_path / "data"
    path = tmp_path / "mixed.jsonl"
    lines = [GOOD[0], *(b for b, _ in BAD[:6]), GOOD[1], *(b for b, _ in BAD[6:]), *GOOD[2:]]
    _write(path, lines)
    first = paperboy(data, "import", "--quiet", str(path))
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert f"added {len(GOOD)}, updated 0, unchanged 0, rejected {len(BAD)}" in first.stdout
    listed = paperboy(data, "runs", "--id", "1").stdout.splitlines()
    expected = {lines.index(bad) + 1: reason for bad, reason in BAD}
    assert len(listed) == len(BAD)
    for row, (number, reason) in zip(listed, sorted(expected.items())):
        assert row.startswith(f"{path}:{number}: {reason}"), row
    assert _runs(data) == [("done", len(GOOD), 0, len(BAD), None)]

    again = paperboy(data, "import", "--quiet", str(path))
    assert again.returncode == 0, again.stderr
    assert f"added 0, updated 0, unchanged {len(GOOD)}, rejected {len(BAD)}" in again.stdout
    with _db(data) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM papers").fetchone() == (
            len(GOOD),
            len(GOOD),
        )


def test_an_import_whose_every_record_is_rejected_fails_with_status_1(tmp_path):
    data = tmp_path / "data"
    path = tmp_path / "all-bad.jsonl"
    _write(path, [b for b, _ in BAD[:3]])
    result = paperboy(data, "import", "--quiet", str(path))
    assert result.returncode == 1
    assert "rejected 3" in result.stdout
    assert f"error: {path}: every record was rejected; nothing stored" in result.stderr
    assert [r[0] for r in _runs(data)] == ["failed"]


def test_a_utf16_file_is_named_as_such(tmp_path):
    data = tmp_path / "data"
    path = tmp_path / "utf16.jsonl"
    path.write_bytes("\n".join(LISTINGS[:2]).encode("utf-16"))
    result = paperboy(data, "import", "--quiet", str(path))
    assert result.returncode == 1
    assert "the file is UTF-16; paperboy reads UTF-8 JSON lines" in result.stderr
    assert [r[0] for r in _runs(data)] == ["failed"]


def _demo_ids() -> set[str]:
    with gzip.open(demo_path(), "rt") as fh:
        return {json.loads(line)["paper"]["id"] for line in fh}


def _checkpoint_line(data: Path) -> int:
    try:
        with _db(data) as conn:
            row = conn.execute("SELECT checkpoint FROM import_runs ORDER BY id DESC").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0
    return json.loads(row[0])["line"] if row and row[0] else 0


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_slow_import(data: Path) -> subprocess.Popen:
    env = dict(
        subprocess_env(),
        PAPERBOY_DATA_DIR=str(data),
        PAPERBOY_IMPORT_BATCH_SIZE="50",
        PAPERBOY_IMPORT_PAUSE="0.05",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy", "import", "--quiet", str(demo_path())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal sends it, whatever started the tests: a suite run as a
        # background job inherits SIGINT ignored, and Python then never raises
        # KeyboardInterrupt (the import ran to its end and exited 0).
        preexec_fn=_sigint_as_in_a_terminal,
    )
    deadline = time.monotonic() + 60
    while _checkpoint_line(data) < 300 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    return proc


def _rerun_completes_without_loss_or_duplicates(data: Path) -> None:
    rerun = paperboy(data, "import", "--quiet", str(demo_path()))
    assert rerun.returncode == 0, rerun.stderr
    assert "(resumed)" in rerun.stdout
    with _db(data) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM papers")]
    assert len(ids) == len(set(ids)) and set(ids) == _demo_ids()
    assert [(status, added) for status, added, *_ in _runs(data)] == [("done", len(ids))]


def test_ctrl_c_marks_the_run_failed_and_the_same_command_resumes_it(tmp_path):
    data = tmp_path / "data"
    proc = _start_slow_import(data)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    [(status, *_, message)] = _runs(data)
    assert status == "failed" and "interrupted after line" in message, err
    _rerun_completes_without_loss_or_duplicates(data)


def test_a_store_error_mid_import_marks_the_run_failed_naming_the_lines(tmp_path):
    """The papers table vanishes under a running import (renamed by another connection): the
    next batch fails in the database itself, not in a record."""
    data = tmp_path / "data"
    proc = _start_slow_import(data)
    with _db(data) as conn:
        conn.execute("ALTER TABLE papers RENAME TO papers_away")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "the import stopped at a batch starting at line" in err
    assert "no such table: papers" in err and "Run the same command again" in err
    assert "Traceback" not in err
    [(status, *_, message)] = _runs(data)
    assert status == "failed" and "no such table" in message
    with _db(data) as conn:
        conn.execute("ALTER TABLE papers_away RENAME TO papers")
    _rerun_completes_without_loss_or_duplicates(data)


def test_a_failed_import_run_is_resumed_only_while_it_is_the_latest(store):
    run = store.begin_run("import", "f.jsonl", "fp", resume_failed=True)
    store.upsert([], run=run, checkpoint={"line": 7})
    store.finish_run(run, "failed", "interrupted")
    other = store.begin_run("import", "f.jsonl", "fp")  # other kinds never resume it
    assert not other.resumed
    store.finish_run(other, "done")
    later = store.begin_run("import", "f.jsonl", "fp2", resume_failed=True)
    store.finish_run(later, "failed", "x")
    fresh = store.begin_run("import", "g.jsonl", "fp3", resume_failed=True)
    assert not fresh.resumed
    # "fp" has a newer, finished run now: its older failed run stays failed.
    assert not store.begin_run("import", "f.jsonl", "fp", resume_failed=True).resumed
    resumed = store.begin_run("import", "f.jsonl", "fp2", resume_failed=True)
    assert resumed.resumed and resumed.id == later.id
