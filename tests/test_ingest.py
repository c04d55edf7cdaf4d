"""Bulk import runs: counts, idempotency, rejections, and resuming after kill -9."""

import gzip
import json
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from paperboy.demo import demo_path
from paperboy.ingest import import_file
from paperboy.sources import SourceError
from tests.environment import subprocess_env


def test_import_counts_and_a_second_import_changes_nothing(store, backend_settings, fixtures):
    settings = backend_settings
    path = fixtures / "arxiv_snapshot_head50.jsonl"
    first = import_file(store, path, settings, show_progress=False)
    assert (first.added, first.updated, first.unchanged, first.rejected) == (50, 0, 0, 0)
    seq = store.max_seq()
    second = import_file(store, path, settings, show_progress=False)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 50)
    assert store.max_seq() == seq and store.count_papers() == 50
    assert [r["status"] for r in store.runs()] == ["done", "done"]


def test_rejections_are_counted_located_and_the_rest_is_stored(
    store, backend_settings, fixtures, tmp_path
):
    settings = backend_settings
    rows = (fixtures / "arxiv_listings_head100.jsonl").read_text().splitlines()
    path = tmp_path / "some-bad.jsonl"
    path.write_text(
        "\n".join(
            rows[:10] + ["{oops", json.dumps({"id": "2503.1", "summary": "no title"})] + rows[10:20]
        )
    )
    run = import_file(store, path, replace(settings, import_batch_size=4), show_progress=False)
    assert (run.added, run.rejected) == (20, 2)
    assert store.rejections(run.id) == [
        (f"{path}:11", store.rejections(run.id)[0][1]),
        (f"{path}:12", "missing required field 'title'"),
    ]
    assert store.rejections(run.id)[0][1].startswith("invalid JSON")


def test_control_characters_in_a_record_are_dropped_on_both_backends(
    store, backend_settings, fixtures, tmp_path
):
    rows = (fixtures / "arxiv_listings_head100.jsonl").read_text().splitlines()[:3]
    record = json.loads(rows[1])
    record.update(
        title="Null\u0000 bytes\u0007",
        summary="An abstract\u0000 with\nwraps",
        authors=["Ada\u0000 Lovelace"],
    )
    rows[1] = json.dumps(record)
    path = tmp_path / "nul.jsonl"
    path.write_text("\n".join(rows))
    run = import_file(store, path, backend_settings, show_progress=False)
    assert (run.added, run.rejected) == (3, 0)
    stored = store.get(record["id"])
    assert (stored.title, stored.abstract) == ("Null bytes", "An abstract with wraps")
    assert stored.authors == ["Ada Lovelace"]


def test_a_truncated_gzip_keeps_what_was_read_and_says_where(store, backend_settings, tmp_path):
    settings = backend_settings
    data = demo_path().read_bytes()
    broken = tmp_path / "truncated.jsonl.gz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="everything before it is stored"):
        import_file(store, broken, settings, show_progress=False)
    assert store.count_papers() > 0
    assert store.runs()[0]["status"] == "failed"


def _demo_ids() -> set[str]:
    with gzip.open(demo_path(), "rt") as fh:
        return {json.loads(line)["paper"]["id"] for line in fh}


def _checkpoint_line(db) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute("SELECT checkpoint FROM import_runs ORDER BY id DESC").fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    return json.loads(row[0])["line"] if row and row[0] else 0


@pytest.mark.slow
def test_kill_9_mid_import_then_the_same_command_completes_without_loss_or_duplicates(tmp_path):
    """A real `paperboy import` subprocess is killed with SIGKILL in the middle, then rerun."""
    data_dir = tmp_path / "data"
    env = subprocess_env()
    slow = dict(
        env,
        PAPERBOY_DATA_DIR=str(data_dir),
        PAPERBOY_IMPORT_BATCH_SIZE="50",
        PAPERBOY_IMPORT_PAUSE="0.05",
    )
    cmd = [sys.executable, "-m", "paperboy", "import", "--quiet", str(demo_path())]
    proc = subprocess.Popen(cmd, env=slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = data_dir / "paperboy.sqlite3"
    deadline = time.monotonic() + 60
    while _checkpoint_line(db) < 500 and time.monotonic() < deadline:
        assert proc.poll() is None, "the import ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stopped_at = _checkpoint_line(db)
    assert 500 <= stopped_at < 3000, "the kill should land mid-import"

    rerun = subprocess.run(
        cmd,
        env=dict(env, PAPERBOY_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "(resumed)" in rerun.stdout
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM papers")]
        runs = conn.execute("SELECT status, added, unchanged FROM import_runs").fetchall()
    assert len(ids) == len(set(ids))  # no duplicate
    assert set(ids) == _demo_ids()  # nothing lost
    assert runs == [("done", len(ids), 0)]  # one run, every paper counted once
